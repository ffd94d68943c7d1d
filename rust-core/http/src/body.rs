//! One message body gathered for inspection: its first bytes after transfer de-framing, then decoded
//! (content codings, compressed multipart parts) within the caps, and handed out to be searched.

use crate::coding::{self, Coding, DecodeLimits, Outcome};
use crate::multipart;
use crate::{Event, Flag};

/// The first bytes of a body and what is needed to decode them.
#[derive(Debug)]
pub(crate) struct Body {
    /// Content codings in the order applied; `Err` names one phonehome cannot undo.
    codings: Result<Vec<Coding>, String>,
    content_type: Option<String>,
    raw: Vec<u8>,
    cap: usize,
    /// More bytes came than `cap` kept.
    cut: bool,
}

impl Body {
    /// A body of a message with `headers`; `transfer_codings` are those a `Transfer-Encoding` applied
    /// before `chunked`.
    pub(crate) fn new(headers: &[(String, String)], transfer_codings: Vec<Coding>, cap: usize) -> Self {
        fn values<'h>(headers: &'h [(String, String)], wanted: &'h str) -> impl Iterator<Item = &'h str> {
            headers.iter().filter(move |(name, _)| name.eq_ignore_ascii_case(wanted)).map(|(_, value)| value.as_str())
        }
        let codings = coding::parse_codings(values(headers, "content-encoding")).map(|content| {
            // Content codings were applied first, transfer codings over them.
            let mut all = content;
            all.extend(transfer_codings);
            all
        });
        let content_type = values(headers, "content-type").next().map(str::to_owned);
        Self { codings, content_type, raw: Vec::new(), cap, cut: false }
    }

    /// The next de-framed body bytes.
    pub(crate) fn push(&mut self, data: &[u8]) {
        let room = self.cap.saturating_sub(self.raw.len());
        self.raw.extend_from_slice(data.get(..room.min(data.len())).unwrap_or_default());
        self.cut |= data.len() > room;
    }

    /// The body ended (`complete`) or the stream did: hands the decoded bytes (or, when decoding failed,
    /// what it gave and the raw bytes) to `out`.
    pub(crate) fn finish(self, complete: bool, max_ratio: usize, out: &mut dyn FnMut(Event<'_>)) {
        if self.raw.is_empty() {
            return;
        }
        let limits = DecodeLimits { max_output: self.cap, max_ratio };
        let raw_complete = complete && !self.cut;
        let decoded = match &self.codings {
            Ok(codings) if codings.is_empty() => None,
            Ok(codings) => Some(coding::decode(codings, &self.raw, raw_complete, limits)),
            Err(_unknown) => {
                out(Event::Flag(Flag::BodyUndecodable));
                None
            }
        };
        let body = match &decoded {
            Some(decoded) => {
                if matches!(decoded.outcome, Outcome::Bomb | Outcome::Broken(_)) {
                    out(Event::Flag(Flag::BodyUndecodable));
                    out(Event::Search(&self.raw));
                }
                decoded.bytes.as_slice()
            }
            None => self.raw.as_slice(),
        };
        out(Event::Search(body));
        if let Some(boundary) = self.content_type.as_deref().and_then(multipart::boundary) {
            decode_compressed_parts(body, boundary, limits, out);
        }
    }
}

/// Parts sent compressed (a gzip file in an upload form, a part with `Content-Encoding`) are searched
/// decoded too; the body as a whole, searched already, holds the plain parts.
fn decode_compressed_parts(body: &[u8], boundary: &str, limits: DecodeLimits, out: &mut dyn FnMut(Event<'_>)) {
    for part in multipart::parts(body, boundary) {
        let codings = match part.header("content-encoding") {
            Some(value) => coding::parse_codings([value.as_str()]),
            None if coding::looks_gzipped(part.body) => Ok(vec![Coding::Gzip]),
            None => continue,
        };
        let Ok(codings) = codings.map_err(|_| out(Event::Flag(Flag::BodyUndecodable))) else { continue };
        if codings.is_empty() {
            continue;
        }
        // The part is whole unless the body was cut inside it: a cut shows as a truncated stream.
        let decoded = coding::decode(&codings, part.body, false, limits);
        if matches!(decoded.outcome, Outcome::Bomb | Outcome::Broken(_)) {
            out(Event::Flag(Flag::BodyUndecodable));
        }
        out(Event::Search(&decoded.bytes));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::coding::tests::{brotli, gzip};

    fn searched(body: Body, complete: bool) -> (Vec<Vec<u8>>, Vec<Flag>) {
        let (mut searched, mut flags) = (Vec::new(), Vec::new());
        body.finish(complete, 200, &mut |event| match event {
            Event::Search(bytes) => searched.push(bytes.to_vec()),
            Event::Flag(flag) => flags.push(flag),
            Event::Request(_) => {}
        });
        (searched, flags)
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| ((*n).to_owned(), (*v).to_owned())).collect()
    }

    #[test]
    fn compressed_bodies_are_searched_decoded() {
        let mut body = Body::new(&headers(&[("Content-Encoding", "gzip")]), vec![], 1024);
        body.push(&gzip(b"imei=356938035643809"));
        assert_eq!(searched(body, true), (vec![b"imei=356938035643809".to_vec()], vec![]));
        // gzip then br over it, the br from a Transfer-Encoding.
        let mut body = Body::new(&headers(&[("Content-Encoding", "gzip")]), vec![Coding::Brotli], 1024);
        body.push(&brotli(&gzip(b"x")));
        assert_eq!(searched(body, true).0, [b"x".to_vec()]);
    }

    #[test]
    fn undecodable_bodies_are_flagged_and_searched_raw() {
        let mut unknown = Body::new(&headers(&[("Content-Encoding", "zstd")]), vec![], 1024);
        unknown.push(b"raw bytes");
        assert_eq!(searched(unknown, true), (vec![b"raw bytes".to_vec()], vec![Flag::BodyUndecodable]));
        let mut broken = Body::new(&headers(&[("Content-Encoding", "gzip")]), vec![], 1024);
        broken.push(b"\x1f\x8b\x08\x00garbage imei=1");
        let (searched_bytes, flags) = searched(broken, true);
        assert_eq!(flags, [Flag::BodyUndecodable]);
        assert!(searched_bytes.contains(&b"\x1f\x8b\x08\x00garbage imei=1".to_vec()));
        let mut bomb = Body::new(&headers(&[("Content-Encoding", "gzip")]), vec![], 64 * 1024);
        bomb.push(&gzip(&vec![b'a'; 1 << 20]));
        let (searched_bytes, flags) = searched(bomb, true);
        assert_eq!(flags, [Flag::BodyUndecodable]);
        assert!(searched_bytes.iter().all(|s| s.len() <= 64 * 1024));
    }

    #[test]
    fn the_cap_keeps_the_first_bytes_and_a_cut_stream_is_no_damage() {
        let data = gzip(&(0..5000u32).flat_map(|i| i.to_le_bytes()).collect::<Vec<u8>>());
        let mut body = Body::new(&headers(&[("Content-Encoding", "gzip")]), vec![], 100);
        body.push(&data);
        let (searched_bytes, flags) = searched(body, true);
        assert!(flags.is_empty());
        assert_eq!(searched_bytes[0].len(), 100);
    }

    #[test]
    fn compressed_multipart_parts_are_decoded() {
        let mut body_bytes = b"--b\r\nContent-Disposition: form-data; name=\"log\"; filename=\"l.gz\"\r\n\r\n".to_vec();
        body_bytes.extend_from_slice(&gzip(b"serial=R58M12ABCDE"));
        body_bytes.extend_from_slice(b"\r\n--b\r\nContent-Encoding: br\r\n\r\n");
        body_bytes.extend_from_slice(&brotli(b"mac=3c:5a:b4:12:9e:7f"));
        body_bytes.extend_from_slice(b"\r\n--b--\r\n");
        let mut body = Body::new(&headers(&[("Content-Type", "multipart/form-data; boundary=b")]), vec![], 4096);
        body.push(&body_bytes);
        let (searched_bytes, flags) = searched(body, true);
        assert!(flags.is_empty());
        assert_eq!(&searched_bytes[1..], [b"serial=R58M12ABCDE".to_vec(), b"mac=3c:5a:b4:12:9e:7f".to_vec()]);
    }
}
