//! Protocol messages in their wire format, as real clients send them.

use std::net::IpAddr;

fn push_name(out: &mut Vec<u8>, name: &str) {
    for label in name.trim_end_matches('.').split('.') {
        out.push(label.len() as u8);
        out.extend_from_slice(label.as_bytes());
    }
    out.push(0);
}

/// A DNS query (recursion desired) for `name` with type A (1), AAAA (28) or HTTPS (65).
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&id.to_be_bytes());
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    push_name(&mut out, name);
    out.extend_from_slice(&qtype.to_be_bytes());
    out.extend_from_slice(&[0, 1]);
    out
}

/// The answer to [`dns_query`]: optionally a CNAME from `name` to `cname`, then one A/AAAA record per
/// address, owned by the CNAME target when there is one (answers use compression pointers as servers do).
pub fn dns_response(id: u16, name: &str, qtype: u16, cname: Option<&str>, addresses: &[IpAddr]) -> Vec<u8> {
    let mut out = dns_query(id, name, qtype);
    out[2] = 0x81;
    out[3] = 0x80;
    let answers = addresses.len() + usize::from(cname.is_some());
    out[6..8].copy_from_slice(&(answers as u16).to_be_bytes());
    let mut owner_pointer = [0xc0, 12];
    if let Some(target) = cname {
        out.extend_from_slice(&owner_pointer);
        out.extend_from_slice(&[0, 5, 0, 1, 0, 0, 0x0e, 0x10]);
        let mut rdata = Vec::new();
        push_name(&mut rdata, target);
        out.extend_from_slice(&(rdata.len() as u16).to_be_bytes());
        let target_offset = out.len() as u16;
        out.extend_from_slice(&rdata);
        owner_pointer = [0xc0 | (target_offset >> 8) as u8, target_offset as u8];
    }
    for address in addresses {
        out.extend_from_slice(&owner_pointer);
        let (rtype, bytes): (u16, Vec<u8>) = match address {
            IpAddr::V4(v4) => (1, v4.octets().to_vec()),
            IpAddr::V6(v6) => (28, v6.octets().to_vec()),
        };
        out.extend_from_slice(&rtype.to_be_bytes());
        out.extend_from_slice(&[0, 1, 0, 0, 0x0e, 0x10]);
        out.extend_from_slice(&(bytes.len() as u16).to_be_bytes());
        out.extend_from_slice(&bytes);
    }
    out
}

/// An HTTP/1.1 request with the given extra headers and body (Content-Length added when there is a body).
pub fn http_request(method: &str, host: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut out = format!("{method} {target} HTTP/1.1\r\nHost: {host}\r\n").into_bytes();
    for (name, value) in headers {
        out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
    }
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

/// A minimal HTTP/1.1 response with a body.
pub fn http_response(status: u16, body: &[u8]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} OK\r\nContent-Length: {}\r\n\r\n", body.len()).into_bytes();
    out.extend_from_slice(body);
    out
}

fn extension(out: &mut Vec<u8>, kind: u16, data: &[u8]) {
    out.extend_from_slice(&kind.to_be_bytes());
    out.extend_from_slice(&(data.len() as u16).to_be_bytes());
    out.extend_from_slice(data);
}

fn with_u16_len(data: &[u8]) -> Vec<u8> {
    let mut out = (data.len() as u16).to_be_bytes().to_vec();
    out.extend_from_slice(data);
    out
}

/// A TLS 1.3 ClientHello handshake message (no record header) shaped like a modern browser's: SNI (if any),
/// ALPN, supported_versions, groups, signature algorithms and an X25519 key share.
pub fn tls_client_hello_message(sni: Option<&str>, alpn: &[&str]) -> Vec<u8> {
    let mut body = vec![0x03, 0x03];
    body.extend_from_slice(&[0x5a; 32]); // random
    body.push(32);
    body.extend_from_slice(&[0x11; 32]); // legacy session id
    body.extend_from_slice(&with_u16_len(&[0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f]));
    body.extend_from_slice(&[1, 0]); // null compression
    let mut extensions = Vec::new();
    if let Some(name) = sni {
        let mut entry = vec![0];
        entry.extend_from_slice(&with_u16_len(name.as_bytes()));
        extension(&mut extensions, 0, &with_u16_len(&entry));
    }
    extension(&mut extensions, 10, &with_u16_len(&[0x00, 0x1d, 0x00, 0x17]));
    extension(&mut extensions, 13, &with_u16_len(&[0x04, 0x03, 0x08, 0x04, 0x04, 0x01]));
    if !alpn.is_empty() {
        let mut list = Vec::new();
        for protocol in alpn {
            list.push(protocol.len() as u8);
            list.extend_from_slice(protocol.as_bytes());
        }
        extension(&mut extensions, 16, &with_u16_len(&list));
    }
    extension(&mut extensions, 43, &[4, 0x03, 0x04, 0x03, 0x03]);
    let mut share = vec![0x00, 0x1d, 0x00, 0x20];
    share.extend_from_slice(&[0x42; 32]);
    extension(&mut extensions, 51, &with_u16_len(&share));
    body.extend_from_slice(&with_u16_len(&extensions));

    let mut message = vec![1];
    message.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    message.extend_from_slice(&body);
    message
}

/// The ClientHello of [`tls_client_hello_message`] in a TLS handshake record, as sent on a TCP connection.
pub fn tls_client_hello(sni: Option<&str>, alpn: &[&str]) -> Vec<u8> {
    let message = tls_client_hello_message(sni, alpn);
    let mut record = vec![0x16, 0x03, 0x01];
    record.extend_from_slice(&with_u16_len(&message));
    record
}

/// Opaque bytes standing for encrypted TLS application data records.
pub fn tls_application_data(len: usize) -> Vec<u8> {
    let mut record = vec![0x17, 0x03, 0x03];
    let body: Vec<u8> = (0..len).map(|i| (i * 31 % 251) as u8).collect();
    record.extend_from_slice(&with_u16_len(&body));
    record
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_response_points_addresses_at_the_cname_target() {
        let answer = dns_response(7, "a.example", 1, Some("b.cdn.example"), &["192.0.2.9".parse().unwrap()]);
        assert_eq!(&answer[6..8], &[0, 2]);
        // The A record's owner is a pointer to the CNAME target's rdata.
        let cname_rdata = answer.windows(3).position(|w| w == [1, b'b', 3]).unwrap();
        assert!(answer.ends_with(&[0, 4, 192, 0, 2, 9]));
        let pointer = &answer[answer.len() - 16..answer.len() - 14];
        assert_eq!(usize::from(pointer[1]) | (usize::from(pointer[0] & 0x3f) << 8), cname_rdata);
    }

    #[test]
    fn client_hello_lengths_are_consistent() {
        let record = tls_client_hello(Some("example.com"), &["h2"]);
        assert_eq!(usize::from(u16::from_be_bytes([record[3], record[4]])), record.len() - 5);
        let len = u32::from_be_bytes([0, record[6], record[7], record[8]]) as usize;
        assert_eq!(len, record.len() - 9);
    }
}
