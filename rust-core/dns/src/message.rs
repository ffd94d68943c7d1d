//! DNS messages (RFC 1035 §4): header, questions and answers, parsed leniently.

use std::fmt;
use std::net::{Ipv4Addr, Ipv6Addr};

use crate::svcb::SvcbData;
use crate::wire::Cursor;
use crate::DnsError;

pub(crate) const HEADER_LEN: usize = 12;
/// Smallest question: root name, type, class.
pub(crate) const MIN_QUESTION_LEN: usize = 5;
/// Smallest record: root name, type, class, TTL, data length.
pub(crate) const MIN_RECORD_LEN: usize = 11;

/// A resource record type (RFC 1035 §3.2.2 and the IANA registry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RecordType(pub u16);

impl RecordType {
    /// IPv4 address.
    pub const A: Self = Self(1);
    /// Authoritative name server.
    pub const NS: Self = Self(2);
    /// Canonical name (alias).
    pub const CNAME: Self = Self(5);
    /// Start of authority.
    pub const SOA: Self = Self(6);
    /// Reverse-lookup pointer.
    pub const PTR: Self = Self(12);
    /// Mail exchanger.
    pub const MX: Self = Self(15);
    /// Text strings.
    pub const TXT: Self = Self(16);
    /// IPv6 address.
    pub const AAAA: Self = Self(28);
    /// Service location.
    pub const SRV: Self = Self(33);
    /// EDNS pseudo-record.
    pub const OPT: Self = Self(41);
    /// Service binding (RFC 9460).
    pub const SVCB: Self = Self(64);
    /// Service binding for HTTPS (RFC 9460).
    pub const HTTPS: Self = Self(65);
    /// Any type (queries only).
    pub const ANY: Self = Self(255);

    /// The mnemonic of a well-known type.
    pub fn mnemonic(self) -> Option<&'static str> {
        Some(match self {
            Self::A => "A",
            Self::NS => "NS",
            Self::CNAME => "CNAME",
            Self::SOA => "SOA",
            Self::PTR => "PTR",
            Self::MX => "MX",
            Self::TXT => "TXT",
            Self::AAAA => "AAAA",
            Self::SRV => "SRV",
            Self::OPT => "OPT",
            Self::SVCB => "SVCB",
            Self::HTTPS => "HTTPS",
            Self::ANY => "ANY",
            _ => return None,
        })
    }
}

/// The mnemonic, or `TYPEnnn` for others (RFC 3597 §5).
impl fmt::Display for RecordType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mnemonic() {
            Some(mnemonic) => f.write_str(mnemonic),
            None => write!(f, "TYPE{}", self.0),
        }
    }
}

/// The fixed 12-byte header of a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Header {
    /// Transaction id that pairs a response with its query.
    pub id: u16,
    /// QR bit: a response rather than a query.
    pub is_response: bool,
    /// Kind of query (0 standard query, 4 notify, 5 update).
    pub opcode: u8,
    /// TC bit: the sender cut the message to fit (the client should retry over TCP).
    pub truncated: bool,
    /// Response code (0 no error, 2 server failure, 3 no such name).
    pub rcode: u8,
    /// Questions announced by the header.
    pub question_count: u16,
    /// Answers announced by the header.
    pub answer_count: u16,
    /// Authority records announced by the header.
    pub authority_count: u16,
    /// Additional records announced by the header.
    pub additional_count: u16,
}

impl Header {
    pub(crate) fn parse(msg: &[u8]) -> Result<Self, DnsError> {
        let mut cursor = Cursor::new(msg, 0);
        let mut field = || cursor.u16().map_err(|_| DnsError::TooShort { len: msg.len() });
        let id = field()?;
        let flags = field()?;
        Ok(Self {
            id,
            is_response: flags & 0x8000 != 0,
            opcode: ((flags >> 11) & 0xf) as u8,
            truncated: flags & 0x0200 != 0,
            rcode: (flags & 0xf) as u8,
            question_count: field()?,
            answer_count: field()?,
            authority_count: field()?,
            additional_count: field()?,
        })
    }
}

/// One entry of the question section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Question {
    /// The name asked for, in presentation form with its case kept.
    pub name: String,
    /// The type asked for.
    pub qtype: RecordType,
    /// The class asked for (1 = IN; mDNS sets the top bit for a unicast reply).
    pub qclass: u16,
}

/// Record data of the types an analyzer needs; others keep only their type.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RecordData {
    /// An IPv4 address.
    A(Ipv4Addr),
    /// An IPv6 address.
    Aaaa(Ipv6Addr),
    /// The canonical name this name is an alias of.
    Cname(String),
    /// An SVCB or HTTPS service binding.
    Svcb(SvcbData),
    /// Any other type, not decoded.
    Other {
        /// The record's type.
        rtype: RecordType,
    },
}

/// One resource record of the answer section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The owner name, in presentation form with its case kept.
    pub name: String,
    /// The record's type.
    pub rtype: RecordType,
    /// The record's class (1 = IN; mDNS uses the top bit as cache-flush flag).
    pub class: u16,
    /// Seconds the record may be cached.
    pub ttl: u32,
    /// The decoded record data.
    pub data: RecordData,
}

/// A parsed message: what could be read of it, and whether something was lost.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The header as sent.
    pub header: Header,
    /// The questions that parsed.
    pub questions: Vec<Question>,
    /// The answers that parsed.
    pub answers: Vec<Record>,
    /// Some announced questions or answers were cut or damaged and are missing.
    pub partial: bool,
}

/// Parses a DNS message (a UDP payload, or one message of [`crate::tcp_messages`]).
///
/// Lenient like an analyzer: a damaged or cut question or answer ends its section and sets
/// `partial`, a record with bad data is skipped; only an unreadable header or first question fails.
/// Authority and additional sections are not decoded.
pub fn parse_message(msg: &[u8]) -> Result<Message, DnsError> {
    let header = Header::parse(msg)?;
    let mut cursor = Cursor::new(msg, HEADER_LEN);
    let mut partial = false;

    // Capacities trust the header only as far as the bytes could hold that many entries.
    let room = msg.len().saturating_sub(HEADER_LEN);
    let mut questions = Vec::with_capacity(usize::from(header.question_count).min(room / MIN_QUESTION_LEN));
    for _ in 0..header.question_count {
        match parse_question(&mut cursor) {
            Ok(question) => questions.push(question),
            Err(err) if questions.is_empty() => return Err(err),
            Err(_) => {
                partial = true;
                break;
            }
        }
    }

    let mut answers = Vec::new();
    if !partial {
        let room = msg.len().saturating_sub(cursor.pos());
        answers.reserve(usize::from(header.answer_count).min(room / MIN_RECORD_LEN));
        for _ in 0..header.answer_count {
            match parse_record(msg, &mut cursor) {
                Ok(Ok(record)) => answers.push(record),
                // The record's framing held, so the following records are still readable.
                Ok(Err(_bad_data)) => partial = true,
                Err(_) => {
                    partial = true;
                    break;
                }
            }
        }
    }
    Ok(Message { header, questions, answers, partial })
}

fn parse_question(cursor: &mut Cursor<'_>) -> Result<Question, DnsError> {
    let mut name = String::new();
    cursor.name(Some(&mut name))?;
    Ok(Question { name, qtype: RecordType(cursor.u16()?), qclass: cursor.u16()? })
}

/// Reads one record. The outer error means the record's framing is broken (stop reading); the
/// inner one that only its data is malformed (skip it).
fn parse_record(msg: &[u8], cursor: &mut Cursor<'_>) -> Result<Result<Record, DnsError>, DnsError> {
    let mut name = String::new();
    cursor.name(Some(&mut name))?;
    let rtype = RecordType(cursor.u16()?);
    let class = cursor.u16()?;
    let ttl = cursor.u32()?;
    let data_len = usize::from(cursor.u16()?);
    let data_start = cursor.pos();
    let data = cursor.take(data_len)?;
    Ok(parse_data(msg, rtype, data_start, data).map(|data| Record { name, rtype, class, ttl, data }))
}

fn parse_data(msg: &[u8], rtype: RecordType, data_start: usize, data: &[u8]) -> Result<RecordData, DnsError> {
    let bad_data = DnsError::BadRecordData { rtype, offset: data_start };
    match rtype {
        RecordType::A => {
            let octets: [u8; 4] = data.try_into().map_err(|_| bad_data)?;
            Ok(RecordData::A(Ipv4Addr::from(octets)))
        }
        RecordType::AAAA => {
            let octets: [u8; 16] = data.try_into().map_err(|_| bad_data)?;
            Ok(RecordData::Aaaa(Ipv6Addr::from(octets)))
        }
        RecordType::CNAME => {
            // The target may be compressed, so it is read from the whole message.
            let mut target = String::new();
            let end = crate::wire::read_name(msg, data_start, Some(&mut target))?;
            if end != data_start + data.len() {
                return Err(bad_data);
            }
            Ok(RecordData::Cname(target))
        }
        RecordType::SVCB | RecordType::HTTPS => SvcbData::parse(msg, rtype, data_start, data).map(RecordData::Svcb),
        _ => Ok(RecordData::Other { rtype }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// `captive.apple.com A` answered through three CNAMEs, as in nDPI's android.pcap (frame 79; the corpus
    /// itself is read by the integration tests, never copied here).
    fn captive_apple() -> Vec<u8> {
        let cnames = [
            "captive-cidr.origin-apple.com.akadns.net",
            "captive-cdn.origin-apple.com.akadns.net",
            "captive.g.aaplimg.com",
        ];
        let cnames: Vec<String> = cnames.iter().map(|c| (*c).to_owned()).collect();
        encode(
            0xfba6,
            "captive.apple.com",
            &cnames,
            &[u32::from(Ipv4Addr::new(17, 253, 53, 201)), u32::from(Ipv4Addr::new(17, 253, 53, 208))],
            None,
        )
    }

    #[test]
    fn real_response_with_cname_chain() {
        let message = parse_message(&captive_apple()).expect("parses");
        assert_eq!(message.header.id, 0xfba6);
        assert!(message.header.is_response && !message.header.truncated && !message.partial);
        assert_eq!(message.questions, [Question { name: "captive.apple.com".into(), qtype: RecordType::A, qclass: 1 }]);
        let data: Vec<&RecordData> = message.answers.iter().map(|r| &r.data).collect();
        assert_eq!(
            data,
            [
                &RecordData::Cname("captive-cidr.origin-apple.com.akadns.net".into()),
                &RecordData::Cname("captive-cdn.origin-apple.com.akadns.net".into()),
                &RecordData::Cname("captive.g.aaplimg.com".into()),
                &RecordData::A(Ipv4Addr::new(17, 253, 53, 201)),
                &RecordData::A(Ipv4Addr::new(17, 253, 53, 208)),
            ]
        );
        assert_eq!(message.answers[3].name, "captive.g.aaplimg.com");
        assert_eq!(message.answers[3].ttl, 60);
    }

    #[test]
    fn cut_answers_keep_the_question() {
        let full = &captive_apple();
        // Cut inside the last A record: four answers survive.
        let message = parse_message(&full[..full.len() - 2]).expect("question survives");
        assert!(message.partial);
        assert_eq!(message.questions[0].name, "captive.apple.com");
        assert_eq!(message.answers.len(), 4);
        assert_eq!(parse_message(&full[..20]), Err(DnsError::Truncated { offset: 12 + 8 }));
        assert_eq!(parse_message(&full[..11]), Err(DnsError::TooShort { len: 11 }));
    }

    #[test]
    fn a_record_with_bad_length_is_skipped_not_fatal() {
        // Query name "a", then an A record with 3 data bytes, then a good A record.
        let msg = b"\x00\x01\x81\x80\x00\x01\x00\x02\x00\x00\x00\x00\x01a\x00\x00\x01\x00\x01\
            \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x03\x01\x02\x03\
            \xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\x01\x02\x03\x04";
        let message = parse_message(msg).expect("parses");
        assert!(message.partial);
        assert_eq!(message.answers.len(), 1);
        assert_eq!(message.answers[0].data, RecordData::A(Ipv4Addr::new(1, 2, 3, 4)));
    }

    #[test]
    fn record_type_names() {
        assert_eq!(RecordType::HTTPS.to_string(), "HTTPS");
        assert_eq!(RecordType(4242).to_string(), "TYPE4242");
    }

    /// Encodes with `simple-dns` (an independent implementation, with compression) for round trips.
    fn encode(
        id: u16,
        question: &str,
        cnames: &[String],
        v4: &[u32],
        svcb: Option<(u16, Vec<String>, Vec<u32>, bool)>,
    ) -> Vec<u8> {
        use simple_dns::rdata::{RData, SVCParam, A, CNAME, HTTPS, SVCB};
        use simple_dns::{CharacterString, Name, Packet, ResourceRecord, CLASS, QCLASS, QTYPE, TYPE};
        let mut packet = Packet::new_reply(id);
        let name = |n: &str| Name::new_unchecked(n).into_owned();
        packet.questions.push(simple_dns::Question::new(
            name(question),
            QTYPE::TYPE(TYPE::A),
            QCLASS::CLASS(CLASS::IN),
            false,
        ));
        let mut owner = question.to_owned();
        for target in cnames {
            packet.answers.push(ResourceRecord::new(name(&owner), CLASS::IN, 300, RData::CNAME(CNAME(name(target)))));
            owner.clone_from(target);
        }
        for address in v4 {
            packet.answers.push(ResourceRecord::new(name(&owner), CLASS::IN, 60, RData::A(A { address: *address })));
        }
        if let Some((priority, alpn, hints, ech)) = svcb {
            let mut data = SVCB::new(priority, name("."));
            let ids: Vec<CharacterString> =
                alpn.iter().map(|id| CharacterString::new(id.as_bytes()).expect("short id").into_owned()).collect();
            data.set_alpn(&ids);
            data.set_ipv4hint(&hints);
            if ech {
                data.set_param(SVCParam::Ech(vec![1, 2, 3].into()));
            }
            packet.answers.push(ResourceRecord::new(name(&owner), CLASS::IN, 60, RData::HTTPS(HTTPS(data))));
        }
        packet.build_bytes_vec_compressed().expect("encodes")
    }

    fn hostname() -> impl Strategy<Value = String> {
        prop::collection::vec("[a-zA-Z0-9_-]{1,20}", 1..6).prop_map(|labels| labels.join("."))
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(msg in prop::collection::vec(any::<u8>(), 0..600)) {
            if let Ok(message) = parse_message(&msg) {
                prop_assert!(message.answers.len() <= usize::from(message.header.answer_count));
                prop_assert!(message.questions.iter().all(|q| q.name.len() <= 4 * 255));
            }
        }

        #[test]
        fn header_followed_by_garbage_never_panics(counts in any::<[u8; 8]>(), tail in prop::collection::vec(any::<u8>(), 0..300)) {
            let mut msg = vec![0x12, 0x34, 0x81, 0x80];
            msg.extend_from_slice(&counts);
            msg.extend_from_slice(&tail);
            let _ = parse_message(&msg);
        }

        #[test]
        fn pointer_soup_never_panics(counts in any::<[u8; 8]>(), body in prop::collection::vec(prop::sample::select(vec![0xc0u8, 0xc1, 0x00, 0x01, 0x02, 0x0c, 0x0d, 0x10, 0x3f, 0x61]), 0..200)) {
            // Bytes biased to pointers, small offsets and short labels: loops, chains, self-references.
            let mut msg = vec![0, 0, 0x81, 0x80];
            msg.extend_from_slice(&counts);
            msg.extend_from_slice(&body);
            if let Ok(message) = parse_message(&msg) {
                prop_assert!(message.questions.len() <= usize::from(message.header.question_count));
            }
        }

        #[test]
        fn mutated_and_cut_real_messages_never_panic(flips in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8), cut in any::<prop::sample::Index>()) {
            let mut msg = captive_apple();
            for (at, byte) in flips {
                let at = at.index(msg.len());
                msg[at] = byte;
            }
            let cut = cut.index(msg.len() + 1);
            let _ = parse_message(&msg[..cut]);
        }

        #[test]
        fn round_trips_through_an_independent_encoder(
            id in any::<u16>(),
            question in hostname(),
            cnames in prop::collection::vec(hostname(), 0..4),
            v4 in prop::collection::vec(any::<u32>(), 0..4),
            svcb in prop::option::of((1u16..100, prop::collection::vec("[a-z0-9-]{1,8}", 0..3), prop::collection::vec(any::<u32>(), 0..3), any::<bool>())),
        ) {
            let wire = encode(id, &question, &cnames, &v4, svcb.clone());
            let message = parse_message(&wire).expect("encoder output parses");
            prop_assert!(!message.partial);
            prop_assert_eq!(message.header.id, id);
            prop_assert_eq!(&message.questions[0].name, &question);
            let mut answers = message.answers.iter();
            for target in &cnames {
                prop_assert_eq!(&answers.next().expect("cname").data, &RecordData::Cname(target.clone()));
            }
            for address in &v4 {
                prop_assert_eq!(&answers.next().expect("a").data, &RecordData::A(Ipv4Addr::from(*address)));
            }
            if let Some((priority, alpn, hints, ech)) = svcb {
                let RecordData::Svcb(data) = &answers.next().expect("https").data else {
                    return Err(TestCaseError::fail("not SVCB data"));
                };
                prop_assert_eq!(data.priority, priority);
                prop_assert_eq!(&data.alpn, &alpn);
                prop_assert_eq!(&data.ipv4hint, &hints.into_iter().map(Ipv4Addr::from).collect::<Vec<_>>());
                prop_assert_eq!(data.has_ech, ech);
            }
            prop_assert!(answers.next().is_none());
            // Every prefix parses or fails cleanly, and a parse never invents answers.
            for cut in 0..wire.len() {
                if let Ok(prefix) = parse_message(&wire[..cut]) {
                    prop_assert!(prefix.answers.len() <= message.answers.len());
                }
            }
        }
    }
}
