//! Block list import: hosts files, domains, wildcards, adblock rules, CIDRs, AdGuard JSON; then lookups.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_intel::{ListCategory, ListInfo, ListSet};

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut set = ListSet::new();
    if set.import(ListInfo::new("fuzz", ListCategory::Tracker), &text).is_ok() {
        let _ = set.match_host("www.example.com").count();
        let _ = set.match_ip([10, 0, 0, 1].into()).count();
        let _ = set.match_ip(std::net::Ipv6Addr::LOCALHOST.into()).count();
    }
    let _ = ListSet::new().import_adguard(ListInfo::new("fuzz", ListCategory::Tracker), &text, Some(&text));
});
