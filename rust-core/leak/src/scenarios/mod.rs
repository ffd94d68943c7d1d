//! A deterministic, labelled corpus of leak scenarios at payload level: real client bytes
//! (HTTP requests, DNS queries, raw TCP/UDP frames, TLS and QUIC handshakes) carrying the
//! declared identifiers of [`IDENTIFIERS_TOML`] in every encoding, benign look-alikes, and
//! identifier-shaped values nobody declared (labelled for [`crate::LeakDetector::scan_patterns`]).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use base64::Engine as _;
use md5::Md5;
use sha1::Sha1;
use sha2::{Digest, Sha256};

use crate::detector::{base64_stable_middles, hex_lower, percent_encode};
use crate::{Encoding, IdKind, Identifier, Identifiers};

pub mod decoded;

/// How the client bytes travel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Transport {
    /// An HTTP/1.1 request over TCP port 80.
    Http,
    /// A DNS query over UDP port 53.
    Dns,
    /// A custom protocol over TCP.
    RawTcp,
    /// A custom datagram protocol over UDP.
    RawUdp,
    /// A TLS ClientHello (and records after it) over TCP port 443.
    Tls,
    /// A QUIC Initial over UDP port 443.
    Quic,
}

/// One labelled scenario: the bytes a client sends first, and what must be found in them.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// A unique, descriptive name.
    pub name: String,
    /// The carrying protocol.
    pub transport: Transport,
    /// Whether to send it over IPv6 (else IPv4).
    pub ipv6: bool,
    /// The client's payload (one direction).
    pub client_bytes: Vec<u8>,
    /// Declared identifiers that [`crate::LeakDetector::scan`] must report, with their encoding.
    pub expected: Vec<(IdKind, Encoding)>,
    /// Kinds [`crate::LeakDetector::scan_patterns`] must report, when the scenario is labelled for it.
    pub expected_patterns: Option<Vec<IdKind>>,
}

/// The identifiers every scenario is labelled against.
pub const IDENTIFIERS_TOML: &str = r#"
imei = "356938035643809"
imsi = "208150123456789"
iccid = "8933150319123456789"
phone = "+33612345678"
mac = "3c:5a:b4:12:9e:7f"
bssid = "f4:f2:6d:8a:10:c3"
android_id = "9774d56d682e549c"
ad_id = "38400000-8cf0-11bd-b23e-10b96e40000d"
serial = "R58M12ABCDE"
email = "jane.doe@example.org"
location = "48.85837,2.29448"
device_token = "tok-5f2a9c-7734"
"#;

/// The identifiers of [`IDENTIFIERS_TOML`].
pub fn identifiers() -> Identifiers {
    Identifiers::from_toml(IDENTIFIERS_TOML).unwrap_or_default()
}

/// Where a value is placed in a payload.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carrier {
    HttpGet,
    HttpForm,
    HttpJson,
    HttpMultipart,
    HttpCookie,
    HttpHeader,
    DnsName,
    TcpFrame,
    UdpBeacon,
}

const CARRIERS: [Carrier; 9] = [
    Carrier::HttpGet,
    Carrier::HttpForm,
    Carrier::HttpJson,
    Carrier::HttpMultipart,
    Carrier::HttpCookie,
    Carrier::HttpHeader,
    Carrier::DnsName,
    Carrier::TcpFrame,
    Carrier::UdpBeacon,
];

/// Scenarios per kind × encoding, each in a different carrier.
const CARRIERS_PER_CELL: usize = 3;

/// The key an app would use for each kind.
pub(crate) fn key_for(kind: IdKind) -> &'static str {
    match kind {
        IdKind::Imei => "imei",
        IdKind::Imsi => "imsi",
        IdKind::Iccid => "iccid",
        IdKind::Phone => "msisdn",
        IdKind::Mac => "mac",
        IdKind::Bssid => "bssid",
        IdKind::AndroidId => "androidId",
        IdKind::AdId => "gaid",
        IdKind::Serial => "sn",
        IdKind::Email => "email",
        IdKind::Location => "loc",
        IdKind::Custom => "token",
    }
}

/// The text carrying `variant` of `id` in `encoding`, and the encoding a reader can tell from it.
/// `shift` places the value at offset 0, 1 or 2 inside a larger base64 blob; hex-valued
/// identifiers go into base64 as raw bytes inside a binary message for URL-safe base64 and shift 2.
pub(crate) fn encode(id: &Identifier, variant: &str, encoding: Encoding, shift: usize) -> (Vec<u8>, Encoding) {
    let v = variant.as_bytes();
    let key = key_for(id.kind);
    // (blob, offset of the value in it)
    let blob = |raw: Option<&[u8]>, shift: usize| match raw {
        Some(raw) => {
            let mut blob = vec![0x08; shift];
            blob.extend_from_slice(&[0x0a, u8::try_from(raw.len()).unwrap_or(0)]);
            blob.extend_from_slice(raw);
            blob.extend_from_slice(&[0x10, 0x96, 0x01, 0x1a, 0x04, b'b', b'o', b'o', b't']);
            (blob, shift + 2)
        }
        None => {
            let mut blob = b" ".repeat(shift);
            blob.extend_from_slice(format!("{{\"{key}\":\"{variant}\",\"ts\":1732190000}}").as_bytes());
            (blob, shift + key.len() + 5)
        }
    };
    let raw = id.raw_bytes();
    let binary = raw.as_deref().filter(|_| encoding == Encoding::Base64Url || shift == 2);
    match encoding {
        Encoding::Plain if id.kind == IdKind::Location => (b"48.8584,2.2945".to_vec(), Encoding::Plain),
        Encoding::Plain => (v.to_vec(), Encoding::Plain),
        Encoding::Url => {
            let encoded = percent_encode(v);
            let label = if encoded == v { Encoding::Plain } else { Encoding::Url };
            (encoded, label)
        }
        Encoding::Base64 => (STANDARD.encode(blob(binary, shift).0).into_bytes(), Encoding::Base64),
        Encoding::Base64Url => {
            let value = binary.unwrap_or(v);
            // URL-safe base64 differs from standard only where a 62 or 63 sextet falls inside
            // the value: prefer an alignment where it does, so the label can be Base64Url.
            let distinct = |offset: usize| {
                let (_, url_safe) = base64_stable_middles(value, offset % 3);
                url_safe.iter().any(|b| *b == b'-' || *b == b'_')
            };
            let shift = (0..3).map(|k| (shift + k) % 3).find(|&s| distinct(blob(binary, s).1)).unwrap_or(shift);
            let (blob, offset) = blob(binary, shift);
            let label = if distinct(offset) { Encoding::Base64Url } else { Encoding::Base64 };
            (URL_SAFE.encode(blob).into_bytes(), label)
        }
        Encoding::Hex if shift == 1 => (hex_lower(v).to_ascii_uppercase().into_bytes(), Encoding::Hex),
        Encoding::Hex => (hex_lower(v).into_bytes(), Encoding::Hex),
        Encoding::Md5 => (hex_lower(&Md5::digest(v)).into_bytes(), Encoding::Md5),
        Encoding::Sha1 => (hex_lower(&Sha1::digest(v)).into_bytes(), Encoding::Sha1),
        Encoding::Sha256 => (hex_lower(&Sha256::digest(v)).into_bytes(), Encoding::Sha256),
        Encoding::Md5Base64 => (digest_base64(&Md5::digest(v), shift), Encoding::Md5Base64),
        Encoding::Sha1Base64 => (digest_base64(&Sha1::digest(v), shift), Encoding::Sha1Base64),
        Encoding::Sha256Base64 => (digest_base64(&Sha256::digest(v), shift), Encoding::Sha256Base64),
    }
}

/// A digest in base64 as SDKs write it: padded standard, URL-safe or unpadded, by `shift`.
fn digest_base64(digest: &[u8], shift: usize) -> Vec<u8> {
    match shift {
        0 => STANDARD.encode(digest),
        1 => URL_SAFE_NO_PAD.encode(digest),
        _ => STANDARD_NO_PAD.encode(digest),
    }
    .into_bytes()
}

pub(crate) fn http_request(
    method: &str,
    target: &str,
    extra_headers: &str,
    body: &[u8],
    content_type: &str,
) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: log.telemetry-example.com\r\n\
         User-Agent: Dalvik/2.1.0 (Linux; U; Android 13; SM-A536B Build/TP1A.220624.014)\r\n\
         Accept-Encoding: gzip\r\nConnection: Keep-Alive\r\n{extra_headers}"
    )
    .into_bytes();
    if !body.is_empty() {
        out.extend_from_slice(format!("Content-Type: {content_type}\r\nContent-Length: {}\r\n", body.len()).as_bytes());
    }
    out.extend_from_slice(b"\r\n");
    out.extend_from_slice(body);
    out
}

fn dns_label_ok(text: &[u8]) -> bool {
    !text.is_empty() && text.len() <= 63 && text.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

/// A DNS query message for `name` (A, or AAAA over IPv6).
fn dns_query(id: u16, name: &[&[u8]], ipv6: bool) -> Vec<u8> {
    let mut out = id.to_be_bytes().to_vec();
    out.extend_from_slice(&[0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0]);
    for label in name {
        out.push(u8::try_from(label.len()).unwrap_or(63));
        out.extend_from_slice(label);
    }
    out.push(0);
    out.extend_from_slice(&[0, if ipv6 { 28 } else { 1 }, 0, 1]);
    out
}

/// Client bytes carrying `text` after `key` in `carrier`; `None` when the carrier cannot hold it.
fn carry(carrier: Carrier, key: &str, text: &[u8], seq: u16, ipv6: bool) -> Option<Vec<u8>> {
    let text_str = String::from_utf8_lossy(text);
    Some(match carrier {
        Carrier::HttpGet => {
            http_request("GET", &format!("/api/v2/report?{key}={text_str}&ts=1732190000&os=android"), "", b"", "")
        }
        Carrier::HttpForm => {
            let body = format!("os=android&{key}={text_str}&ver=4.2.1");
            http_request("POST", "/collect", "", body.as_bytes(), "application/x-www-form-urlencoded")
        }
        Carrier::HttpJson => {
            let body = format!("{{\"app\":\"com.example.launcher\",\"{key}\":\"{text_str}\",\"screen\":\"home\"}}");
            http_request("POST", "/v1/events", "", body.as_bytes(), "application/json; charset=utf-8")
        }
        Carrier::HttpMultipart => {
            let boundary = "----phonehome7MA4YWxkTrZu0gW";
            let body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"{key}\"\r\n\r\n{text_str}\r\n\
                 --{boundary}\r\nContent-Disposition: form-data; name=\"log\"; filename=\"a.txt\"\r\n\
                 Content-Type: text/plain\r\n\r\nboot ok\r\n--{boundary}--\r\n"
            );
            let content_type = format!("multipart/form-data; boundary={boundary}");
            http_request("POST", "/upload", "", body.as_bytes(), &content_type)
        }
        Carrier::HttpCookie => {
            http_request("GET", "/sync", &format!("Cookie: sid=a81f0c; {key}={text_str}; lang=fr\r\n"), b"", "")
        }
        Carrier::HttpHeader => http_request("GET", "/config", &format!("X-{key}: {text_str}\r\n"), b"", ""),
        Carrier::DnsName => {
            if !dns_label_ok(text) {
                return None;
            }
            dns_query(seq, &[text, b"t", b"telemetry-example", b"net"], ipv6)
        }
        Carrier::TcpFrame => {
            let mut body = format!("REG {key}={text_str}\n").into_bytes();
            body.extend_from_slice(&[0, 0x7f, 0x80, 0xff]);
            let mut out = u32::try_from(body.len()).unwrap_or(0).to_be_bytes().to_vec();
            out.extend_from_slice(&[0x01, 0x02]);
            out.extend_from_slice(&body);
            out
        }
        Carrier::UdpBeacon => {
            let mut out = vec![0xbe, 0xac];
            out.extend_from_slice(&seq.to_be_bytes());
            out.extend_from_slice(format!("{key}|{text_str}|fw=1.0.3").as_bytes());
            out.extend_from_slice(&[0; 4]);
            out
        }
    })
}

fn transport_of(carrier: Carrier) -> Transport {
    match carrier {
        Carrier::DnsName => Transport::Dns,
        Carrier::TcpFrame => Transport::RawTcp,
        Carrier::UdpBeacon => Transport::RawUdp,
        _ => Transport::Http,
    }
}

/// A TLS 1.3-style ClientHello with `sni`, followed by an application-data record holding `later`.
fn tls_client_hello(sni: &[u8], later: &[u8]) -> Vec<u8> {
    let len16 = |n: usize| u16::try_from(n).unwrap_or(u16::MAX).to_be_bytes();
    let mut server_name = vec![0];
    server_name.extend_from_slice(&len16(sni.len()));
    server_name.extend_from_slice(sni);
    let mut sni_ext = vec![0, 0];
    sni_ext.extend_from_slice(&len16(server_name.len() + 2));
    sni_ext.extend_from_slice(&len16(server_name.len()));
    sni_ext.extend_from_slice(&server_name);
    let mut hello = vec![0x03, 0x03];
    hello.extend((0u8..32).map(|i| i.wrapping_mul(37)));
    hello.push(32);
    hello.extend((0u8..32).map(|i| i.wrapping_mul(11)));
    hello.extend_from_slice(&[0, 4, 0x13, 0x01, 0x13, 0x02, 1, 0]);
    hello.extend_from_slice(&len16(sni_ext.len()));
    hello.extend_from_slice(&sni_ext);
    let mut handshake = vec![1, 0];
    handshake.extend_from_slice(&len16(hello.len()));
    handshake.extend_from_slice(&hello);
    let mut out = vec![0x16, 0x03, 0x01];
    out.extend_from_slice(&len16(handshake.len()));
    out.extend_from_slice(&handshake);
    out.extend_from_slice(&[0x17, 0x03, 0x03]);
    out.extend_from_slice(&len16(later.len()));
    out.extend_from_slice(later);
    out
}

/// A QUIC v1 Initial packet (long header) whose protected payload holds `inside`, padded to 1200.
fn quic_initial(inside: &[u8]) -> Vec<u8> {
    let mut out = vec![0xc3, 0, 0, 0, 1, 8, 0x83, 0x94, 0xc8, 0xf0, 0x3e, 0x51, 0x57, 0x08, 0, 0];
    let payload_len = 1200 - out.len() - 2;
    out.extend_from_slice(&(0x4000 | u16::try_from(payload_len).unwrap_or(0)).to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 2]);
    out.extend_from_slice(inside);
    out.resize(1200, 0);
    out
}

/// The whole corpus, in a fixed order.
pub fn all() -> Vec<Scenario> {
    let mut out = Vec::new();
    declared_leaks(&mut out);
    decoded::declared_leaks(&mut out);
    decoded::written_forms(&mut out);
    several_at_once(&mut out);
    benign_look_alikes(&mut out);
    decoded::benign_look_alikes(&mut out);
    encrypted_handshakes(&mut out);
    undeclared_patterns(&mut out);
    out
}

/// Every declared kind × encoding, each in several carriers.
fn declared_leaks(out: &mut Vec<Scenario>) {
    let ids = identifiers();
    let mut seq: u16 = 0;
    for (k, id) in ids.iter().enumerate() {
        let variants = id.variants();
        for (e, encoding) in Encoding::ALL.into_iter().enumerate() {
            let mut placed = 0;
            let mut c = k * 8 + e;
            while placed < CARRIERS_PER_CELL && c < k * 8 + e + 2 * CARRIERS.len() {
                let carrier = CARRIERS[c % CARRIERS.len()];
                let rotating = variants.get(c % variants.len().max(1)).unwrap_or(&id.value);
                // A URL scenario needs a variant that percent-encoding changes, when there is one.
                let variant = match encoding {
                    Encoding::Url => {
                        variants.iter().find(|v| percent_encode(v.as_bytes()) != v.as_bytes()).unwrap_or(rotating)
                    }
                    _ => rotating,
                };
                let (text, label) = encode(id, variant, encoding, c % 3);
                c += 1;
                let ipv6 = seq % 2 == 1;
                let Some(bytes) = carry(carrier, key_for(id.kind), &text, seq, ipv6) else { continue };
                seq = seq.wrapping_add(1);
                placed += 1;
                out.push(Scenario {
                    name: format!("{}-{}-{:?}-{placed}", id.label, encoding, carrier),
                    transport: transport_of(carrier),
                    ipv6,
                    client_bytes: bytes,
                    expected: vec![(id.kind, label)],
                    expected_patterns: None,
                });
            }
        }
    }
}

/// Several identifiers in one request, as in the public cases (a carrier activation ping with
/// a base64 JSON body; an analytics GET with everything in the query).
fn several_at_once(out: &mut Vec<Scenario>) {
    let json = r#"{"IMEI":"356938035643809","ICCID":"8933150319123456789","MACID":"3C:5A:B4:12:9E:7F","SN":"R58M12ABCDE","CELLID":"4131","MDN":"+33612345678"}"#;
    let body = STANDARD.encode(json);
    let activation = http_request("POST", "/zzhc/activate", "", body.as_bytes(), "application/encrypted-json");
    let query = "/m/stat?imei=356938035643809&imsi=208150123456789&mac=3c:5a:b4:12:9e:7f&bssid=F4-F2-6D-8A-10-C3&lat=48.8584&lng=2.2945&aid=9774D56D682E549C";
    let analytics = http_request("GET", query, "", b"", "");
    use Encoding::{Base64, Plain};
    let cases = [
        (
            "activation-ping-base64-json",
            activation,
            vec![
                (IdKind::Imei, Base64),
                (IdKind::Iccid, Base64),
                (IdKind::Mac, Base64),
                (IdKind::Serial, Base64),
                (IdKind::Phone, Base64),
            ],
        ),
        (
            "analytics-query-everything",
            analytics,
            vec![
                (IdKind::Imei, Plain),
                (IdKind::Imsi, Plain),
                (IdKind::Mac, Plain),
                (IdKind::Bssid, Plain),
                (IdKind::Location, Plain),
                (IdKind::AndroidId, Plain),
            ],
        ),
    ];
    for (i, (name, bytes, expected)) in cases.into_iter().enumerate() {
        out.push(Scenario {
            name: name.to_owned(),
            transport: Transport::Http,
            ipv6: i % 2 == 1,
            client_bytes: bytes,
            expected,
            expected_patterns: None,
        });
    }
}

fn negative(out: &mut Vec<Scenario>, name: &str, carrier: Carrier, key: &str, text: &[u8], shapes: &[IdKind]) {
    let seq = u16::try_from(out.len()).unwrap_or(0);
    if let Some(bytes) = carry(carrier, key, text, seq, seq % 2 == 1) {
        out.push(Scenario {
            name: format!("benign-{name}"),
            transport: transport_of(carrier),
            ipv6: seq % 2 == 1,
            client_bytes: bytes,
            expected: Vec::new(),
            expected_patterns: Some(shapes.to_vec()),
        });
    }
}

/// Values that look like the declared identifiers, or like identifiers at all, but are not.
fn benign_look_alikes(out: &mut Vec<Scenario>) {
    let other_imei = b"490154203237518";
    // (name, carrier, key, value, what pattern detection must still report: an e-mail is an e-mail)
    type LookAlike = (&'static str, Carrier, &'static str, Vec<u8>, &'static [IdKind]);
    let cases: Vec<LookAlike> = vec![
        ("imei-luhn-fails", Carrier::HttpGet, "imei", b"356938035643808".to_vec(), &[]),
        ("number-15-digits-luhn-fails", Carrier::HttpJson, "order", b"356938035643801".to_vec(), &[]),
        ("imei-inside-longer-number", Carrier::UdpBeacon, "n", b"13569380356438091".to_vec(), &[]),
        ("number-16-digits", Carrier::HttpForm, "card", b"4111111111111111".to_vec(), &[]),
        ("luhn-valid-unknown-reporting-body", Carrier::TcpFrame, "n", b"120000000000005".to_vec(), &[]),
        ("md5-of-other-imei", Carrier::HttpForm, "h", hex_lower(&Md5::digest(other_imei)).into_bytes(), &[]),
        (
            "sha1-of-other-email",
            Carrier::HttpCookie,
            "h",
            hex_lower(&Sha1::digest(b"john.roe@example.org")).into_bytes(),
            &[],
        ),
        (
            "sha256-of-other-android-id",
            Carrier::HttpHeader,
            "h",
            hex_lower(&Sha256::digest(b"9774d56d682e549d")).into_bytes(),
            &[],
        ),
        (
            "base64-of-other-imei",
            Carrier::HttpJson,
            "d",
            STANDARD.encode(b"{\"imei\":\"490154203237518\"}").into_bytes(),
            &[],
        ),
        ("hex-of-other-serial", Carrier::DnsName, "x", hex_lower(b"R58M12ABCDF").into_bytes(), &[]),
        ("mac-one-nibble-off-mixed-separators", Carrier::HttpGet, "v", b"3c:5a-b4:12:9e:7e".to_vec(), &[]),
        ("time-like-seven-groups", Carrier::HttpJson, "t", b"12:34:56:78:90:12:34".to_vec(), &[]),
        ("ipv6-address", Carrier::HttpHeader, "Forwarded-For", b"fe80::3c5a:b4ff:fe12:9e7e".to_vec(), &[]),
        ("mac-all-zero", Carrier::HttpForm, "mac", b"00:00:00:00:00:00".to_vec(), &[]),
        ("mac-broadcast", Carrier::UdpBeacon, "dst", b"ff:ff:ff:ff:ff:ff".to_vec(), &[]),
        ("hex-word-machine", Carrier::HttpForm, "machine", b"3c5ab4129e7e".to_vec(), &[]),
        ("phone-inside-longer-number", Carrier::HttpGet, "n", b"336123456789".to_vec(), &[]),
        ("other-phone", Carrier::HttpJson, "ref", b"+33612345679".to_vec(), &[]),
        ("retina-image-name", Carrier::HttpJson, "icon", b"launcher@2x.png".to_vec(), &[]),
        ("other-email", Carrier::HttpForm, "contact", b"john.roe%40example.org".to_vec(), &[IdKind::Email]),
        ("version-pair", Carrier::HttpGet, "v", b"1.2345,6.7890".to_vec(), &[]),
        ("latitude-alone", Carrier::HttpGet, "lat", b"48.8584".to_vec(), &[]),
        ("other-place", Carrier::HttpJson, "p", b"48.86061,2.33764".to_vec(), &[IdKind::Location]),
        ("request-uuid", Carrier::HttpHeader, "Request-Id", b"38400000-8cf0-11bd-b23e-10b96e40000e".to_vec(), &[]),
        ("ad-tracking-limited", Carrier::HttpForm, "gaid", b"00000000-0000-0000-0000-000000000000".to_vec(), &[]),
        ("other-serial", Carrier::TcpFrame, "build", b"R58M12ABCDF".to_vec(), &[]),
        ("other-token", Carrier::HttpCookie, "t", b"tok-5f2a9c-7735".to_vec(), &[]),
        ("serial-unknown", Carrier::HttpForm, "serial", b"unknown".to_vec(), &[]),
    ];
    for (name, carrier, key, text, shapes) in cases {
        negative(out, name, carrier, key, &text, shapes);
    }
}

/// TLS and QUIC handshakes with identifiers inside: encrypted flows are not searched.
fn encrypted_handshakes(out: &mut Vec<Scenario>) {
    let cases = [
        (
            "tls-sni-holds-imei",
            Transport::Tls,
            tls_client_hello(b"356938035643809.telemetry-example.net", b"imei=356938035643809"),
        ),
        (
            "tls-record-holds-mac",
            Transport::Tls,
            tls_client_hello(b"log.telemetry-example.com", b"mac=3c:5a:b4:12:9e:7f&email=jane.doe@example.org"),
        ),
        (
            "quic-initial-holds-imei",
            Transport::Quic,
            quic_initial(b"imei=356938035643809&gaid=38400000-8cf0-11bd-b23e-10b96e40000d"),
        ),
        ("quic-initial-holds-location", Transport::Quic, quic_initial(b"lat=48.85837&lon=2.29448")),
    ];
    for (i, (name, transport, bytes)) in cases.into_iter().enumerate() {
        out.push(Scenario {
            name: name.to_owned(),
            transport,
            ipv6: i % 2 == 1,
            client_bytes: bytes,
            expected: Vec::new(),
            expected_patterns: Some(Vec::new()),
        });
    }
}

/// Identifier-shaped values nobody declared, labelled for pattern detection.
fn undeclared_patterns(out: &mut Vec<Scenario>) {
    let cases: [(&str, Carrier, &str, &[u8], IdKind); 17] = [
        ("keyed-imei", Carrier::HttpGet, "imei", b"490154203237518", IdKind::Imei),
        ("keyed-device-id-imei", Carrier::HttpJson, "deviceId", b"490154203237518", IdKind::Imei),
        ("multipart-imei", Carrier::HttpMultipart, "imei", b"860000000000009", IdKind::Imei),
        ("keyless-imei-beacon", Carrier::UdpBeacon, "x", b"490154203237518", IdKind::Imei),
        ("keyed-imsi", Carrier::HttpForm, "imsi", b"310260000000001", IdKind::Imsi),
        ("keyed-iccid", Carrier::HttpCookie, "iccid", b"89014103211118510720", IdKind::Iccid),
        ("keyed-msisdn", Carrier::HttpForm, "msisdn", b"%2B14155550123", IdKind::Phone),
        ("keyed-wifi-mac", Carrier::HttpJson, "wifi_mac", b"A4:50:46:0B:7C:21", IdKind::Mac),
        ("keyed-bssid", Carrier::HttpGet, "bssid", b"7c-8b-ca-11-22-33", IdKind::Bssid),
        ("keyless-mac-frame", Carrier::TcpFrame, "hw", b"a4:50:46:0b:7c:21", IdKind::Mac),
        ("keyed-android-id", Carrier::HttpHeader, "Android-Id", b"b3f1c2d4e5a69788", IdKind::AndroidId),
        ("keyed-oaid", Carrier::HttpForm, "oaid", b"1f0e2d3c-4b5a-6978-8796-a5b4c3d2e1f0", IdKind::AdId),
        ("keyed-serial", Carrier::HttpJson, "serialNo", b"HT7A1B2C3D4E", IdKind::Serial),
        ("keyless-email", Carrier::TcpFrame, "from", b"john.smith@example.net", IdKind::Email),
        ("encoded-email", Carrier::HttpGet, "account", b"john.smith%40example.net", IdKind::Email),
        ("keyed-lat-lng", Carrier::HttpGet, "lat", b"-33.8679&lng=151.2073", IdKind::Location),
        ("keyless-coordinates", Carrier::HttpJson, "pos", b"-33.86785,151.20732", IdKind::Location),
    ];
    for (i, (name, carrier, key, text, kind)) in cases.into_iter().enumerate() {
        let Some(bytes) = carry(carrier, key, text, u16::try_from(i).unwrap_or(0), i % 2 == 1) else { continue };
        out.push(Scenario {
            name: format!("pattern-{name}"),
            transport: transport_of(carrier),
            ipv6: i % 2 == 1,
            client_bytes: bytes,
            expected: Vec::new(),
            expected_patterns: Some(vec![kind]),
        });
    }
}
