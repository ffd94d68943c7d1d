//! IP → name memory fed from DNS answers, so a later connection to an address can be named.

use std::collections::HashSet;
use std::net::IpAddr;
use std::num::NonZeroUsize;
use std::sync::Arc;
use std::time::Duration;

use lru::LruCache;

use crate::{Message, RecordData};

/// Distinct names remembered per address; CDNs can answer many names with one address.
const NAMES_PER_ADDRESS: usize = 4;
/// Longest CNAME chain followed from the question name.
const MAX_CHAIN: usize = 16;
/// Clients connect right after a TTL-0 answer and keep using addresses past short TTLs.
const DEFAULT_MIN_TTL: Duration = Duration::from_secs(60);
/// Caps how long a long-TTL answer can name an address that may have moved since.
const DEFAULT_MAX_TTL: Duration = Duration::from_secs(6 * 3600);

/// The name an address was last resolved from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CachedName {
    /// The name the client asked for (the question name, before any CNAME).
    pub name: Arc<str>,
    /// Several distinct names were answered with this address and are still fresh.
    pub uncertain: bool,
    /// The other fresh names, newest first (empty unless `uncertain`).
    pub alternatives: Vec<Arc<str>>,
}

#[derive(Debug)]
struct Candidate {
    name: Arc<str>,
    expires: Duration,
}

/// A bounded IP → name map with TTL expiry on a caller-supplied clock (time since the epoch).
///
/// Holds at most `capacity` addresses; a new address evicts the one least recently answered.
#[derive(Debug)]
pub struct NameCache {
    /// Per address, candidates newest first.
    entries: LruCache<IpAddr, Vec<Candidate>>,
    min_ttl: Duration,
    max_ttl: Duration,
}

impl NameCache {
    /// A cache for at most `capacity` addresses (at least one), with TTLs clamped to 60 s – 6 h.
    pub fn new(capacity: usize) -> Self {
        Self {
            entries: LruCache::new(NonZeroUsize::new(capacity).unwrap_or(NonZeroUsize::MIN)),
            min_ttl: DEFAULT_MIN_TTL,
            max_ttl: DEFAULT_MAX_TTL,
        }
    }

    /// Replaces the bounds every answer's TTL is clamped to.
    pub fn with_ttl_bounds(mut self, min: Duration, max: Duration) -> Self {
        self.min_ttl = min;
        self.max_ttl = max.max(min);
        self
    }

    /// Number of addresses held, fresh or not.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no address is held.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Records the addresses a response gives for its first question's name: A and AAAA records
    /// and SVCB/HTTPS hints owned by that name or by a CNAME reached from it. Records owned by
    /// unrelated names are ignored, so an answer cannot name addresses for a domain it was not
    /// asked about. Returns how many addresses were recorded.
    pub fn insert_answers(&mut self, message: &Message, now: Duration) -> usize {
        let Some(question) = message.questions.first() else {
            return 0;
        };
        let chain = cname_chain(message, &question.name);
        let asked: Arc<str> = Arc::from(question.name.as_str());
        let mut recorded = 0;
        for record in &message.answers {
            if !chain.contains(record.name.to_ascii_lowercase().as_str()) {
                continue;
            }
            let ttl = Duration::from_secs(u64::from(record.ttl)).clamp(self.min_ttl, self.max_ttl);
            let expires = now.saturating_add(ttl);
            for address in addresses(&record.data) {
                self.remember(address, &asked, expires, now);
                recorded += 1;
            }
        }
        recorded
    }

    /// The freshest name for `address` at time `now`, if any is still within its TTL.
    pub fn lookup(&self, address: IpAddr, now: Duration) -> Option<CachedName> {
        let mut fresh = self.entries.peek(&address)?.iter().filter(|c| c.expires > now);
        let newest = fresh.next()?;
        let alternatives: Vec<Arc<str>> = fresh.map(|c| Arc::clone(&c.name)).collect();
        Some(CachedName { name: Arc::clone(&newest.name), uncertain: !alternatives.is_empty(), alternatives })
    }

    fn remember(&mut self, address: IpAddr, name: &Arc<str>, expires: Duration, now: Duration) {
        let candidates = self.entries.get_or_insert_mut(address, Vec::new);
        candidates.retain(|c| c.expires > now && !c.name.eq_ignore_ascii_case(name));
        candidates.truncate(NAMES_PER_ADDRESS - 1);
        candidates.insert(0, Candidate { name: Arc::clone(name), expires });
    }
}

/// Lower-cased names of `start` and of every CNAME target reachable from it in the answers.
fn cname_chain(message: &Message, start: &str) -> HashSet<String> {
    let mut chain = HashSet::from([start.to_ascii_lowercase()]);
    for _ in 0..MAX_CHAIN {
        let before = chain.len();
        for record in &message.answers {
            if let RecordData::Cname(target) = &record.data {
                if chain.contains(record.name.to_ascii_lowercase().as_str()) {
                    chain.insert(target.to_ascii_lowercase());
                }
            }
        }
        if chain.len() == before {
            break;
        }
    }
    chain
}

/// The addresses a record gives: its own for A and AAAA, its hints for SVCB and HTTPS.
fn addresses(data: &RecordData) -> impl Iterator<Item = IpAddr> + '_ {
    let (own, v4_hints, v6_hints) = match data {
        RecordData::A(v4) => (Some(IpAddr::V4(*v4)), &[][..], &[][..]),
        RecordData::Aaaa(v6) => (Some(IpAddr::V6(*v6)), &[][..], &[][..]),
        RecordData::Svcb(svcb) => (None, &svcb.ipv4hint[..], &svcb.ipv6hint[..]),
        RecordData::Cname(_) | RecordData::Other { .. } => (None, &[][..], &[][..]),
    };
    own.into_iter().chain(v4_hints.iter().copied().map(IpAddr::V4)).chain(v6_hints.iter().copied().map(IpAddr::V6))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Header, Question, Record, RecordType, SvcbData};
    use std::net::{Ipv4Addr, Ipv6Addr};

    const V4: Ipv4Addr = Ipv4Addr::new(192, 0, 2, 1);
    const SECOND: Duration = Duration::from_secs(1);

    fn record(name: &str, ttl: u32, data: RecordData) -> Record {
        let rtype = match &data {
            RecordData::A(_) => RecordType::A,
            RecordData::Aaaa(_) => RecordType::AAAA,
            RecordData::Cname(_) => RecordType::CNAME,
            RecordData::Svcb(_) => RecordType::HTTPS,
            RecordData::Other { rtype } => *rtype,
        };
        Record { name: name.to_owned(), rtype, class: 1, ttl, data }
    }

    fn response(question: &str, answers: Vec<Record>) -> Message {
        Message {
            header: Header {
                id: 1,
                is_response: true,
                opcode: 0,
                truncated: false,
                rcode: 0,
                question_count: 1,
                answer_count: u16::try_from(answers.len()).expect("few answers"),
                authority_count: 0,
                additional_count: 0,
            },
            questions: vec![Question { name: question.to_owned(), qtype: RecordType::A, qclass: 1 }],
            answers,
            partial: false,
        }
    }

    #[test]
    fn cname_chain_maps_addresses_to_the_asked_name() {
        let message = response(
            "www.Example.com",
            vec![
                record("www.example.com", 300, RecordData::Cname("edge.cdn.net".into())),
                record("EDGE.cdn.net", 300, RecordData::Cname("a1.cdn.net".into())),
                record("a1.cdn.net", 20, RecordData::A(V4)),
                record("unrelated.org", 300, RecordData::A(Ipv4Addr::new(198, 51, 100, 9))),
            ],
        );
        let mut cache = NameCache::new(16);
        assert_eq!(cache.insert_answers(&message, SECOND), 1);
        let cached = cache.lookup(V4.into(), SECOND * 2).expect("cached");
        assert_eq!((&*cached.name, cached.uncertain), ("www.Example.com", false));
        assert_eq!(cache.lookup(Ipv4Addr::new(198, 51, 100, 9).into(), SECOND * 2), None);
    }

    #[test]
    fn ttl_is_clamped_and_expires() {
        let mut cache = NameCache::new(16).with_ttl_bounds(SECOND * 10, SECOND * 100);
        cache.insert_answers(&response("a.test", vec![record("a.test", 0, RecordData::A(V4))]), SECOND);
        assert!(cache.lookup(V4.into(), SECOND * 10).is_some());
        assert_eq!(cache.lookup(V4.into(), SECOND * 11), None);
        let v6 = Ipv6Addr::LOCALHOST;
        cache.insert_answers(&response("b.test", vec![record("b.test", 86_400, RecordData::Aaaa(v6))]), SECOND);
        assert!(cache.lookup(v6.into(), SECOND * 100).is_some());
        assert_eq!(cache.lookup(v6.into(), SECOND * 101), None);
    }

    #[test]
    fn several_fresh_names_make_the_answer_uncertain() {
        let mut cache = NameCache::new(16);
        for (i, name) in ["a.test", "b.test", "A.TEST"].into_iter().enumerate() {
            let now = SECOND * u32::try_from(i).expect("small");
            cache.insert_answers(&response(name, vec![record(name, 300, RecordData::A(V4))]), now);
        }
        let cached = cache.lookup(V4.into(), SECOND * 5).expect("cached");
        assert_eq!(&*cached.name, "A.TEST");
        assert!(cached.uncertain);
        assert_eq!(cached.alternatives, [Arc::<str>::from("b.test")]);
        // Once b.test expires, the address is certain again.
        let later = cache.lookup(V4.into(), SECOND * 301).expect("A.TEST still fresh");
        assert_eq!((&*later.name, later.uncertain), ("A.TEST", false));
    }

    #[test]
    fn svcb_hints_are_recorded() {
        let svcb = SvcbData {
            priority: 1,
            target: ".".into(),
            ipv4hint: vec![V4],
            ipv6hint: vec![Ipv6Addr::LOCALHOST],
            ..SvcbData::default()
        };
        let mut cache = NameCache::new(16);
        let message = response("svc.test", vec![record("svc.test", 60, RecordData::Svcb(svcb))]);
        assert_eq!(cache.insert_answers(&message, SECOND), 2);
        assert!(cache.lookup(Ipv6Addr::LOCALHOST.into(), SECOND).is_some());
    }

    #[test]
    fn capacity_evicts_the_oldest_answer_and_names_per_address_are_capped() {
        let mut cache = NameCache::new(2);
        for last_octet in 1..=3 {
            let ip = Ipv4Addr::new(192, 0, 2, last_octet);
            cache.insert_answers(&response("n.test", vec![record("n.test", 60, RecordData::A(ip))]), SECOND);
        }
        assert_eq!(cache.len(), 2);
        assert_eq!(cache.lookup(V4.into(), SECOND), None);
        for i in 0..10 {
            let name = format!("n{i}.test");
            cache.insert_answers(&response(&name, vec![record(&name, 60, RecordData::A(V4))]), SECOND);
        }
        let cached = cache.lookup(V4.into(), SECOND).expect("cached");
        assert_eq!(cached.alternatives.len(), NAMES_PER_ADDRESS - 1);
    }
}
