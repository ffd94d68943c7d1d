//! Scenarios whose identifiers are visible only once the protocol is decoded: compressed and chunked
//! bodies, later requests of a keep-alive connection, pipelined requests with any method token, compressed
//! multipart parts, masked (and deflated) WebSocket messages, h2c with Huffman-coded headers, a raw stream
//! where the identifier comes late — and the written forms of phone numbers, IMEIs and MACs.

use std::io::Write;

use flate2::write::{DeflateEncoder, GzEncoder, ZlibEncoder};
use flate2::{Compress, Compression, FlushCompress};
use phonehome_http::testing::{h2_frame, h2_request, ws_frame};

use super::{encode, http_request, identifiers, key_for, Scenario, Transport};
use crate::{Encoding, IdKind};

/// Carriers that need decoding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decoded {
    GzipJson,
    ZlibForm,
    RawDeflateJson,
    BrotliJson,
    GzipThenBrotli,
    ChunkedSplit,
    ChunkedGzip,
    LaterKeepAliveRequest,
    PipelinedAnyMethod,
    MultipartGzipPart,
    WebSocketMasked,
    WebSocketDeflate,
    H2cHuffmanHeader,
    H2cUpgradeGzipBody,
    RawTcpLate,
}

/// Every carrier, in rotation order.
pub const CARRIERS: [Decoded; 15] = [
    Decoded::GzipJson,
    Decoded::ZlibForm,
    Decoded::RawDeflateJson,
    Decoded::BrotliJson,
    Decoded::GzipThenBrotli,
    Decoded::ChunkedSplit,
    Decoded::ChunkedGzip,
    Decoded::LaterKeepAliveRequest,
    Decoded::PipelinedAnyMethod,
    Decoded::MultipartGzipPart,
    Decoded::WebSocketMasked,
    Decoded::WebSocketDeflate,
    Decoded::H2cHuffmanHeader,
    Decoded::H2cUpgradeGzipBody,
    Decoded::RawTcpLate,
];

/// Scenarios per kind × encoding in the decoded carriers.
const PER_CELL: usize = 2;

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = GzEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap_or_default();
    e.finish().unwrap_or_default()
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = ZlibEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap_or_default();
    e.finish().unwrap_or_default()
}

fn raw_deflate(data: &[u8]) -> Vec<u8> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(data).unwrap_or_default();
    e.finish().unwrap_or_default()
}

fn brotli(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).unwrap_or_default();
    }
    out
}

/// A `permessage-deflate` message body (RFC 7692 §7.2.1): raw deflate, sync-flushed, its last 4 bytes cut.
fn deflate_message(data: &[u8]) -> Vec<u8> {
    let mut compress = Compress::new(Compression::default(), false);
    let mut out = Vec::with_capacity(data.len() + 64);
    compress.compress_vec(data, &mut out, FlushCompress::Sync).unwrap_or(flate2::Status::Ok);
    out.truncate(out.len().saturating_sub(4));
    out
}

fn with_body(method: &str, target: &str, headers: &str, body: &[u8]) -> Vec<u8> {
    let mut out = format!(
        "{method} {target} HTTP/1.1\r\nHost: log.telemetry-example.com\r\nUser-Agent: okhttp/4.12.0\r\n{headers}Content-Length: {}\r\n\r\n",
        body.len()
    )
    .into_bytes();
    out.extend_from_slice(body);
    out
}

fn chunked(body: &[u8], chunk: usize, headers: &str) -> Vec<u8> {
    let mut out = format!(
        "POST /v2/batch HTTP/1.1\r\nHost: log.telemetry-example.com\r\n{headers}Transfer-Encoding: chunked\r\nContent-Type: application/json\r\n\r\n"
    )
    .into_bytes();
    for piece in body.chunks(chunk.max(1)) {
        out.extend_from_slice(format!("{:x}\r\n", piece.len()).as_bytes());
        out.extend_from_slice(piece);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

const WS_UPGRADE: &str = "GET /socket HTTP/1.1\r\nHost: push.telemetry-example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

/// The client bytes carrying `text` after `key` in `carrier`, and how they travel.
pub fn carry(carrier: Decoded, key: &str, text: &[u8]) -> (Transport, Vec<u8>) {
    let value = String::from_utf8_lossy(text);
    let json = format!("{{\"app\":\"com.example.launcher\",\"{key}\":\"{value}\",\"screen\":\"home\"}}").into_bytes();
    let form = format!("os=android&{key}={value}&ver=4.2.1").into_bytes();
    let json_type = "Content-Type: application/json\r\n";
    let bytes = match carrier {
        Decoded::GzipJson => {
            with_body("POST", "/v1/events", &format!("{json_type}Content-Encoding: gzip\r\n"), &gzip(&json))
        }
        Decoded::ZlibForm => with_body(
            "POST",
            "/collect",
            "Content-Type: application/x-www-form-urlencoded\r\nContent-Encoding: deflate\r\n",
            &zlib(&form),
        ),
        Decoded::RawDeflateJson => {
            with_body("POST", "/v1/events", &format!("{json_type}Content-Encoding: deflate\r\n"), &raw_deflate(&json))
        }
        Decoded::BrotliJson => {
            with_body("POST", "/v1/events", &format!("{json_type}Content-Encoding: br\r\n"), &brotli(&json))
        }
        Decoded::GzipThenBrotli => with_body(
            "POST",
            "/v1/events",
            &format!("{json_type}Content-Encoding: gzip, br\r\n"),
            &brotli(&gzip(&json)),
        ),
        // Chunks of 5 bytes: the value is cut across several chunks.
        Decoded::ChunkedSplit => chunked(&json, 5, ""),
        Decoded::ChunkedGzip => chunked(&gzip(&json), 64, "Content-Encoding: gzip\r\n"),
        Decoded::LaterKeepAliveRequest => {
            // A first upload larger than any per-flow budget of old, then the hourly beacon on the same connection.
            let filler: Vec<u8> = (0..20_000u32).flat_map(|i| format!("{},", i % 977).into_bytes()).collect();
            let mut out = with_body("POST", "/v1/upload", "Content-Type: text/csv\r\n", &filler);
            out.extend(http_request("GET", &format!("/beacon?{key}={value}&ts=1732193600"), "", b"", ""));
            out
        }
        Decoded::PipelinedAnyMethod => {
            let mut out = http_request("GET", "/config", "", b"", "");
            out.extend(http_request("GET", "/ping", "", b"", ""));
            // RFC 9110: any token is a method.
            out.extend(http_request("REPORT", &format!("/r?{key}={value}"), "", b"", ""));
            out
        }
        Decoded::MultipartGzipPart => {
            let boundary = "----phonehomeGz4YWxkTrZu0gW";
            let mut body = format!(
                "--{boundary}\r\nContent-Disposition: form-data; name=\"os\"\r\n\r\nandroid\r\n--{boundary}\r\n\
                 Content-Disposition: form-data; name=\"log\"; filename=\"crash.log.gz\"\r\nContent-Type: application/gzip\r\n\r\n"
            )
            .into_bytes();
            body.extend(gzip(format!("boot ok\n{key}={value}\n").as_bytes()));
            body.extend_from_slice(format!("\r\n--{boundary}--\r\n").as_bytes());
            with_body("POST", "/upload", &format!("Content-Type: multipart/form-data; boundary={boundary}\r\n"), &body)
        }
        Decoded::WebSocketMasked => {
            let mut out = format!("{WS_UPGRADE}\r\n").into_bytes();
            let (first, rest) = json.split_at(json.len() / 2);
            out.extend(ws_frame(0x01, first, [0x37, 0xfa, 0x21, 0x3d]));
            out.extend(ws_frame(0x89, b"", [1, 2, 3, 4]));
            out.extend(ws_frame(0x80, rest, [0x9e, 0x01, 0x5c, 0x77]));
            out
        }
        Decoded::WebSocketDeflate => {
            let mut out = format!("{WS_UPGRADE}Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n").into_bytes();
            out.extend(ws_frame(0xc1, &deflate_message(b"{\"type\":\"hello\"}"), [5, 6, 7, 8]));
            out.extend(ws_frame(0xc1, &deflate_message(&json), [0x11, 0x22, 0x33, 0x44]));
            out
        }
        Decoded::H2cHuffmanHeader => {
            let mut out = phonehome_http::h2::PREFACE.to_vec();
            out.extend(h2_frame(0x4, 0, 0, &[0, 3, 0, 0, 0, 100]));
            let header = format!("x-{key}");
            let fields = [
                (":method", "GET"),
                (":scheme", "http"),
                (":authority", "log.telemetry-example.com"),
                (":path", "/config"),
                (header.as_str(), value.as_ref()),
            ];
            out.extend(h2_request(1, &fields, b"", true, 16_384));
            out
        }
        Decoded::H2cUpgradeGzipBody => {
            let mut out = b"GET / HTTP/1.1\r\nHost: log.telemetry-example.com\r\nConnection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAoAAAAAIAAAAA\r\n\r\n".to_vec();
            out.extend_from_slice(phonehome_http::h2::PREFACE);
            out.extend(h2_frame(0x4, 0, 0, &[]));
            let fields = [
                (":method", "POST"),
                (":scheme", "http"),
                (":authority", "log.telemetry-example.com"),
                (":path", "/v1/events"),
                ("content-encoding", "gzip"),
            ];
            out.extend(h2_request(3, &fields, &gzip(&json), true, 40));
            out
        }
        Decoded::RawTcpLate => {
            // A custom binary protocol: 40 KiB of records, then the identifier.
            let mut out: Vec<u8> = (0..40_960u32).map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8 | 0x80).collect();
            out.extend_from_slice(format!("\x00REG {key}={value}\n").as_bytes());
            return (Transport::RawTcp, out);
        }
    };
    (Transport::Http, bytes)
}

/// Every declared kind × encoding in the decoded carriers, rotating so that every carrier meets every encoding.
pub(super) fn declared_leaks(out: &mut Vec<Scenario>) {
    let ids = identifiers();
    for (k, id) in ids.iter().enumerate() {
        let variants = id.variants();
        for (e, encoding) in Encoding::ALL.into_iter().enumerate() {
            for j in 0..PER_CELL {
                let c = k * Encoding::ALL.len() + e + j * 3;
                let carrier = CARRIERS[c % CARRIERS.len()];
                let variant = variants.get(c % variants.len().max(1)).unwrap_or(&id.value);
                let (text, label) = encode(id, variant, encoding, c % 3);
                let (transport, client_bytes) = carry(carrier, key_for(id.kind), &text);
                out.push(Scenario {
                    name: format!("{}-{}-{:?}-decoded-{j}", id.label, encoding, carrier),
                    transport,
                    ipv6: c % 2 == 1,
                    client_bytes,
                    expected: vec![(id.kind, label)],
                    expected_patterns: None,
                });
            }
        }
    }
}

/// Phone numbers, IMEIs and MACs as people and other apps write them, in plain and decoded carriers.
pub(super) fn written_forms(out: &mut Vec<Scenario>) {
    let cases: [(&str, IdKind, &str); 13] = [
        ("phone-national-spaces", IdKind::Phone, "06 12 34 56 78"),
        ("phone-national-dots", IdKind::Phone, "06.12.34.56.78"),
        ("phone-national-dashes", IdKind::Phone, "06-12-34-56-78"),
        ("phone-national-compact", IdKind::Phone, "0612345678"),
        ("phone-international-spaces", IdKind::Phone, "+33 6 12 34 56 78"),
        ("phone-trunk-in-parentheses", IdKind::Phone, "+33 (0)6 12 34 56 78"),
        ("phone-dialling-prefix", IdKind::Phone, "00 33 6 12 34 56 78"),
        ("phone-dialling-prefix-compact", IdKind::Phone, "0033612345678"),
        ("imei-14-digits", IdKind::Imei, "35693803564380"),
        ("imeisv", IdKind::Imei, "3569380356438012"),
        ("mac-dotted", IdKind::Mac, "3c5a.b412.9e7f"),
        ("mac-dotted-upper", IdKind::Mac, "3C5A.B412.9E7F"),
        ("bssid-bare-upper", IdKind::Bssid, "F4F26D8A10C3"),
    ];
    for (i, (name, kind, text)) in cases.into_iter().enumerate() {
        let carrier = CARRIERS[(i * 4) % CARRIERS.len()];
        // JSON keeps the spaces of a written number intact; a form body would need them encoded.
        let (transport, client_bytes) = carry(carrier, key_for(kind), text.as_bytes());
        out.push(Scenario {
            name: format!("written-{name}-{carrier:?}"),
            transport,
            ipv6: i % 2 == 0,
            client_bytes,
            expected: vec![(kind, Encoding::Plain)],
            expected_patterns: None,
        });
    }
}

/// Decoded carriers with nothing declared in them: compressed bodies, random WebSocket text, h2c, a late raw
/// stream, numbers one digit off the declared ones, and a decompression bomb.
pub(super) fn benign_look_alikes(out: &mut Vec<Scenario>) {
    let mut seed = 0x2545_f491_4f6c_dd1du64;
    let mut random_text = |len: usize| -> Vec<u8> {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=:,{}\" ";
        (0..len)
            .map(|_| {
                seed ^= seed << 13;
                seed ^= seed >> 7;
                seed ^= seed << 17;
                ALPHABET[(seed % ALPHABET.len() as u64) as usize]
            })
            .collect()
    };
    let cases: Vec<(&str, Decoded, &str, Vec<u8>)> = vec![
        ("gzip-json-other-imei", Decoded::GzipJson, "imei", b"490154203237518".to_vec()),
        ("brotli-other-phone-written", Decoded::BrotliJson, "msisdn", b"06 12 34 56 79".to_vec()),
        ("chunked-other-mac-dotted", Decoded::ChunkedSplit, "mac", b"3c5a.b412.9e7e".to_vec()),
        ("stacked-imei-in-longer-number", Decoded::GzipThenBrotli, "n", b"35693803564380123".to_vec()),
        ("websocket-random-text", Decoded::WebSocketMasked, "m", random_text(400)),
        ("websocket-deflate-random-text", Decoded::WebSocketDeflate, "m", random_text(300)),
        ("h2c-no-identifier", Decoded::H2cHuffmanHeader, "trace", b"00-4bf92f3577b34da6a3ce929d0e0e4736-01".to_vec()),
        ("h2c-upgrade-other-email", Decoded::H2cUpgradeGzipBody, "email", b"john.roe@example.org".to_vec()),
        ("multipart-gzip-other-serial", Decoded::MultipartGzipPart, "sn", b"R58M12ABCDF".to_vec()),
        ("keep-alive-other-android-id", Decoded::LaterKeepAliveRequest, "aid", b"9774d56d682e549d".to_vec()),
        ("raw-late-other-token", Decoded::RawTcpLate, "token", b"tok-5f2a9c-7735".to_vec()),
        ("pipelined-phone-in-longer-number", Decoded::PipelinedAnyMethod, "n", b"06 12 34 56 789".to_vec()),
    ];
    for (i, (name, carrier, key, text)) in cases.into_iter().enumerate() {
        let (transport, client_bytes) = carry(carrier, key, &text);
        out.push(Scenario {
            name: format!("benign-decoded-{name}"),
            transport,
            ipv6: i % 2 == 1,
            client_bytes,
            expected: Vec::new(),
            expected_patterns: None,
        });
    }
    // A decompression bomb: 64 MiB of zeros in 64 KiB of gzip, then a real request.
    let mut bomb = with_body("POST", "/v1/events", "Content-Encoding: gzip\r\n", &gzip(&vec![0; 64 << 20]));
    bomb.extend(http_request("GET", "/after-the-bomb?imei=356938035643809", "", b"", ""));
    out.push(Scenario {
        name: "decompression-bomb-then-a-request".to_owned(),
        transport: Transport::Http,
        ipv6: false,
        client_bytes: bomb,
        expected: vec![(IdKind::Imei, Encoding::Plain)],
        expected_patterns: None,
    });
}
