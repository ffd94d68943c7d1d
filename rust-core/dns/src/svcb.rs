//! SVCB and HTTPS record data (RFC 9460 §2.2 and §7).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::wire::{push_escaped, read_name, Cursor};
use crate::{DnsError, RecordType};

const KEY_ALPN: u16 = 1;
const KEY_PORT: u16 = 3;
const KEY_IPV4HINT: u16 = 4;
const KEY_ECH: u16 = 5;
const KEY_IPV6HINT: u16 = 6;

/// The parts of a service binding that tell where and how a client will connect.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SvcbData {
    /// 0 for AliasMode, otherwise the ServiceMode preference (lower first).
    pub priority: u16,
    /// Target name; `.` means the owner name itself.
    pub target: String,
    /// Protocol ids offered (`h2`, `h3`), escaped like labels.
    pub alpn: Vec<String>,
    /// Port of the alternative endpoint, when not the default.
    pub port: Option<u16>,
    /// IPv4 addresses the client may connect to.
    pub ipv4hint: Vec<Ipv4Addr>,
    /// IPv6 addresses the client may connect to.
    pub ipv6hint: Vec<Ipv6Addr>,
    /// An Encrypted ClientHello configuration is published (the SNI will be hidden).
    pub has_ech: bool,
}

impl SvcbData {
    /// Parses the data of an SVCB or HTTPS (`rtype`) record found at `data_start` of `msg`.
    pub(crate) fn parse(msg: &[u8], rtype: RecordType, data_start: usize, data: &[u8]) -> Result<Self, DnsError> {
        let bad_data = || DnsError::BadRecordData { rtype, offset: data_start };
        let mut fixed = Cursor::new(data, 0);
        let priority = fixed.u16()?;
        // RFC 9460 forbids compressing the target; reading from the message tolerates it anyway.
        let mut target = String::new();
        let target_end = read_name(msg, data_start + 2, Some(&mut target))?;
        let params_start = target_end.checked_sub(data_start).ok_or_else(bad_data)?;
        let params = data.get(params_start..).ok_or_else(bad_data)?;

        let mut svcb = Self { priority, target, ..Self::default() };
        let mut cursor = Cursor::new(params, 0);
        while !cursor.is_empty() {
            let key = cursor.u16()?;
            let len = usize::from(cursor.u16()?);
            let value = cursor.take(len)?;
            match key {
                KEY_ALPN => svcb.alpn = parse_alpn(value)?,
                KEY_PORT => {
                    svcb.port = Some(u16::from_be_bytes(value.try_into().map_err(|_| bad_data())?));
                }
                KEY_IPV4HINT => svcb.ipv4hint = addresses(value, bad_data)?,
                KEY_ECH => svcb.has_ech = true,
                KEY_IPV6HINT => svcb.ipv6hint = addresses(value, bad_data)?,
                _ => {}
            }
        }
        Ok(svcb)
    }
}

fn parse_alpn(value: &[u8]) -> Result<Vec<String>, DnsError> {
    let mut cursor = Cursor::new(value, 0);
    let mut ids = Vec::new();
    while !cursor.is_empty() {
        let len = usize::from(cursor.u8()?);
        let mut id = String::new();
        push_escaped(cursor.take(len)?, &mut id);
        ids.push(id);
    }
    Ok(ids)
}

/// Splits a hint into addresses of `N` octets; a length that is not a multiple of `N` is malformed.
fn addresses<const N: usize, A: From<[u8; N]>>(
    value: &[u8],
    bad_data: impl Fn() -> DnsError,
) -> Result<Vec<A>, DnsError> {
    let chunks = value.chunks_exact(N);
    if !chunks.remainder().is_empty() {
        return Err(bad_data());
    }
    chunks.map(|chunk| chunk.try_into().map(A::from).map_err(|_| bad_data())).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 9460 Appendix D.2, figure 5 ("ServiceMode with port and ipv6hint") without the message:
    /// `1 foo.example.com. (port=53 ipv6hint=2001:db8::1,2001:db8::53:1)`.
    #[test]
    fn rfc9460_port_and_ipv6hint_vector() {
        let data = b"\x00\x01\x03foo\x07example\x03com\x00\
            \x00\x03\x00\x02\x00\x35\
            \x00\x06\x00\x20\
            \x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01\
            \x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x53\x00\x01";
        let svcb = SvcbData::parse(data, RecordType::SVCB, 0, data).expect("RFC vector parses");
        assert_eq!(svcb.priority, 1);
        assert_eq!(svcb.target, "foo.example.com");
        assert_eq!(svcb.port, Some(53));
        assert_eq!(svcb.ipv6hint, ["2001:db8::1", "2001:db8::53:1"].map(|ip| ip.parse::<Ipv6Addr>().expect("literal")));
        assert!(!svcb.has_ech);
    }

    /// RFC 9460 Appendix D.2: `16 foo.example.org. (alpn=h2,h3-19 mandatory=ipv4hint,alpn
    /// ipv4hint=192.0.2.1)`.
    #[test]
    fn rfc9460_mandatory_alpn_ipv4hint_vector() {
        let data = b"\x00\x10\x03foo\x07example\x03org\x00\
            \x00\x00\x00\x04\x00\x01\x00\x04\
            \x00\x01\x00\x09\x02h2\x05h3-19\
            \x00\x04\x00\x04\xc0\x00\x02\x01";
        let svcb = SvcbData::parse(data, RecordType::SVCB, 0, data).expect("RFC vector parses");
        assert_eq!(svcb.priority, 16);
        assert_eq!(svcb.target, "foo.example.org");
        assert_eq!(svcb.alpn, ["h2", "h3-19"]);
        assert_eq!(svcb.ipv4hint, [Ipv4Addr::new(192, 0, 2, 1)]);
    }

    /// RFC 9460 Appendix D.2: `alpn="f\\\\oo\\,bar,h2"`, an id holding a backslash and a comma.
    #[test]
    fn rfc9460_alpn_with_escapes_vector() {
        let data = b"\x00\x10\x03foo\x07example\x03org\x00\
            \x00\x01\x00\x0c\x08\x66\x5c\x6f\x6f\x2c\x62\x61\x72\x02\x68\x32";
        let svcb = SvcbData::parse(data, RecordType::SVCB, 0, data).expect("RFC vector parses");
        assert_eq!(svcb.alpn, ["f\\\\oo,bar", "h2"]);
    }

    #[test]
    fn alias_mode_and_ech() {
        let data = b"\x00\x00\x00\x00\x05\x00\x03\x01\x02\x03";
        let svcb = SvcbData::parse(data, RecordType::SVCB, 0, data).expect("parses");
        assert_eq!((svcb.priority, svcb.target.as_str(), svcb.has_ech), (0, ".", true));
    }

    #[test]
    fn malformed_hints_are_rejected() {
        let data = b"\x00\x01\x00\x00\x04\x00\x03\x01\x02\x03";
        assert!(matches!(
            SvcbData::parse(data, RecordType::SVCB, 0, data),
            Err(DnsError::BadRecordData { rtype: RecordType::SVCB, .. })
        ));
        let cut = b"\x00\x01\x00\x00\x04\x00\x08\x01\x02\x03\x04";
        assert!(matches!(SvcbData::parse(cut, RecordType::HTTPS, 0, cut), Err(DnsError::Truncated { .. })));
    }
}
