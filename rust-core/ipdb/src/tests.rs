use super::*;
use proptest::prelude::*;
use std::collections::BTreeSet;
use std::sync::LazyLock;

fn ip(text: &str) -> IpAddr {
    text.parse().expect("test literal is an IP address")
}

/// Full start keys of every row, rebuilt from the bucket index and the low key bits.
fn full_keys<const K: usize>(table: &Table<K>) -> Vec<u64> {
    let rows = |bucket: usize| read_le::<INDEX_ENTRY_BYTES>(table.index, bucket).expect("index entry");
    let mut keys = Vec::new();
    for bucket in 0..INDEX_ENTRIES - 1 {
        for row in rows(bucket)..rows(bucket + 1) {
            let low = read_le::<K>(table.keys, usize::try_from(row).expect("small")).expect("key in range");
            keys.push(((bucket as u64) << Table::<K>::LOW_BITS) | low);
        }
    }
    keys
}

/// A table with its full row starts, for linear searches.
struct Rows<const K: usize> {
    table: &'static Table<'static, K>,
    keys: Vec<u64>,
}

static V4_ROWS: LazyLock<Rows<2>> = LazyLock::new(|| Rows { table: &V4, keys: full_keys(&V4) });
static V6_ROWS: LazyLock<Rows<6>> = LazyLock::new(|| Rows { table: &V6, keys: full_keys(&V6) });

impl<const K: usize> Rows<K> {
    /// The value covering `key` by a linear scan instead of the bucket index and binary search.
    fn naive_value(&self, key: u64) -> Option<u32> {
        self.table.row_value(self.keys.iter().rposition(|&start| start <= key)?)
    }

    /// Checks the row invariants and returns every row's value.
    fn checked_values(&self, family: &str) -> Vec<u32> {
        assert_eq!(self.keys.len(), self.table.keys.len() / K, "{family}: every row in exactly one bucket");
        assert_eq!(self.keys.first(), Some(&0), "{family}: row 0 starts at 0");
        assert!(self.keys.windows(2).all(|w| w[0] < w[1]), "{family}: starts strictly increasing");
        let values: Vec<u32> =
            (0..self.keys.len()).map(|row| self.table.row_value(row).expect("value in range")).collect();
        assert!(values.windows(2).all(|w| w[0] != w[1]), "{family}: adjacent equal values are merged");
        values
    }
}

fn v6_key(ip: Ipv6Addr) -> u64 {
    (u128::from(ip) >> 64) as u64
}

#[test]
fn well_known_addresses() {
    let google = lookup(ip("8.8.8.8"));
    assert_eq!((google.country, google.asn, google.as_org), (Some("US"), Some(15169), Some("Google LLC")));
    assert_eq!(lookup(ip("1.1.1.1")).asn, Some(13335));
    assert_eq!(lookup(ip("1.1.1.1")).as_org, Some("Cloudflare, Inc."));
    let yandex = lookup(ip("77.88.8.8"));
    assert_eq!((yandex.country, yandex.asn), (Some("RU"), Some(13238)));
    assert!(yandex.as_org.is_some_and(|org| org.contains("YANDEX") || org.contains("Yandex")), "{yandex:?}");
    assert_eq!(lookup(ip("114.114.114.114")).country, Some("CN"));
    let google6 = lookup(ip("2001:4860:4860::8888"));
    assert_eq!((google6.asn, google6.as_org), (Some(15169), Some("Google LLC")));
    assert_eq!(lookup(ip("2a02:6b8::2:242")).country, Some("RU"), "Yandex IPv6");
}

#[test]
fn special_purpose_addresses_are_unknown() {
    for text in [
        "0.0.0.0",
        "10.1.2.3",
        "100.64.0.1",
        "127.0.0.1",
        "169.254.1.1",
        "172.16.0.1",
        "172.31.255.255",
        "192.0.0.1",
        "192.0.2.1",
        "192.168.1.1",
        "198.18.0.1",
        "198.51.100.1",
        "203.0.113.1",
        "224.0.0.251",
        "239.255.255.250",
        "240.0.0.1",
        "255.255.255.255",
        "::",
        "::1",
        "100::1",
        "2001:db8::1",
        "fc00::1",
        "fd12:3456::1",
        "fe80::1",
        "ff02::fb",
    ] {
        assert_eq!(lookup(ip(text)), IpInfo::default(), "{text}");
    }
}

#[test]
fn ipv4_carried_in_ipv6_is_looked_up_as_ipv4() {
    assert_eq!(lookup(ip("::ffff:8.8.8.8")), lookup(ip("8.8.8.8")));
    assert_eq!(lookup(ip("64:ff9b::8.8.8.8")), lookup(ip("8.8.8.8")));
    assert_eq!(lookup(ip("64:ff9b::10.0.0.1")), IpInfo::default());
}

#[test]
fn serializes_as_plain_fields() {
    let json = serde_json::to_string(&lookup(ip("8.8.8.8"))).expect("serializable");
    assert_eq!(json, r#"{"country":"US","asn":15169,"as_org":"Google LLC"}"#);
}

#[test]
fn tables_are_sorted_merged_and_in_range() {
    let (mut countries, mut entries) = (BTreeSet::new(), BTreeSet::new());
    for values in [V4_ROWS.checked_values("v4"), V6_ROWS.checked_values("v6")] {
        countries.extend(values.iter().map(|v| v & 0xff));
        entries.extend(values.iter().map(|v| v >> 8));
    }
    // Every string-table entry is used, and no value points past the end of its table.
    let expected = |len: usize| (0..=u32::try_from(len).expect("small")).collect::<BTreeSet<_>>();
    assert_eq!(countries, expected(COUNTRIES.len() / 2));
    assert_eq!(entries, expected(ASN_ENTRIES.len() / ASN_ENTRY_BYTES));
}

#[test]
fn string_tables_are_well_formed() {
    assert!(COUNTRIES.len() % 2 == 0 && COUNTRIES.bytes().all(|b| b.is_ascii_uppercase()));
    let all: Vec<_> = (1..=ASN_ENTRIES.len() / ASN_ENTRY_BYTES)
        .map(|i| asn_entry(u32::try_from(i).expect("small")).expect("entry in range"))
        .collect();
    assert!(all.windows(2).all(|w| w[0].0 < w[1].0), "ASNs strictly increasing");
    let named = all.iter().filter(|(_, org)| org.is_some()).count();
    assert!(named * 100 > all.len() * 99, "almost every ASN has a name: {named}/{}", all.len());
    assert_eq!(country_code(0), None);
    assert_eq!(asn_entry(0), None);
}

#[test]
fn data_versions_match_the_generator() {
    let generator = include_str!("../generate.py");
    for version in [COUNTRY_DATA_VERSION, ASN_DATA_VERSION] {
        let (package, number) = version.rsplit_once('@').expect("package@version");
        assert!(generator.contains(&format!("(\"{package}\", \"{number}\"")), "{version} not pinned in generate.py");
    }
}

#[test]
fn data_date_is_the_release_date_of_both_packages() {
    for version in [COUNTRY_DATA_VERSION, ASN_DATA_VERSION] {
        let release = version.rsplit_once('.').map(|(_, release)| release).expect("2.3.YYYYMMDDhh");
        let date = format!("{}-{}-{}", &release[..4], &release[4..6], &release[6..8]);
        assert_eq!(date, DATA_DATE, "{version}");
    }
}

/// `generate.py` writes the sha256 of every table it makes into `data/SHA256SUMS`: a table edited,
/// truncated or replaced without regenerating fails here.
#[test]
fn embedded_tables_are_the_ones_the_generator_wrote() {
    use sha2::{Digest, Sha256};
    let embedded: [(&str, &[u8]); 5] = [
        ("asn-entries.bin", ASN_ENTRIES),
        ("asn-orgs.txt", ASN_ORGS.as_bytes()),
        ("countries.txt", COUNTRIES.as_bytes()),
        ("v4.bin", V4_DATA),
        ("v6.bin", V6_DATA),
    ];
    let sums: Vec<(&str, &str)> = include_str!("../data/SHA256SUMS")
        .lines()
        .map(|line| line.split_once("  ").map(|(sum, name)| (name, sum)).expect("sha256sum format"))
        .collect();
    assert_eq!(sums.iter().map(|(name, _)| *name).collect::<Vec<_>>(), embedded.map(|(name, _)| name));
    for ((name, bytes), (_, sum)) in embedded.iter().zip(&sums) {
        assert_eq!(hex::encode(Sha256::digest(bytes)), *sum, "{name} differs from what generate.py wrote");
    }
}

#[test]
fn table_bytes_counts_every_embedded_file() {
    let files = [
        include_bytes!("../data/v4.bin").len(),
        include_bytes!("../data/v6.bin").len(),
        include_bytes!("../data/asn-entries.bin").len(),
        include_bytes!("../data/asn-orgs.txt").len(),
        include_bytes!("../data/countries.txt").len(),
    ];
    assert_eq!(table_bytes(), files.iter().sum::<usize>());
}

/// A row start of either table, shifted by -1, 0 or +1: where off-by-one errors live.
fn boundary_key() -> impl Strategy<Value = (bool, u64)> {
    (any::<bool>(), any::<prop::sample::Index>(), -1i64..=1).prop_map(|(v6, row, delta)| {
        let keys = if v6 { &V6_ROWS.keys } else { &V4_ROWS.keys };
        let start = keys.get(row.index(keys.len())).copied().unwrap_or_default();
        let max = if v6 { u64::MAX } else { u64::from(u32::MAX) };
        (v6, start.saturating_add_signed(delta).min(max))
    })
}

proptest! {
    #[test]
    fn any_ipv4_matches_linear_search(addr in any::<u32>()) {
        let ip = Ipv4Addr::from(addr);
        prop_assert_eq!(lookup(IpAddr::V4(ip)), info(V4_ROWS.naive_value(u64::from(addr))));
    }

    #[test]
    fn any_ipv6_matches_linear_search(addr in any::<u128>()) {
        let ip = Ipv6Addr::from(addr);
        let found = lookup(IpAddr::V6(ip));
        if embedded_ipv4(ip).is_none() {
            prop_assert_eq!(found, info(V6_ROWS.naive_value(v6_key(ip))));
        }
    }

    #[test]
    fn global_unicast_ipv6_matches_linear_search(addr in 0x2000u128 << 112..0x4000u128 << 112) {
        let ip = Ipv6Addr::from(addr);
        prop_assert_eq!(lookup(IpAddr::V6(ip)), info(V6_ROWS.naive_value(v6_key(ip))));
    }

    #[test]
    fn range_boundaries_match_linear_search((v6, key) in boundary_key()) {
        if v6 {
            prop_assert_eq!(V6.value(key), V6_ROWS.naive_value(key));
        } else {
            prop_assert_eq!(V4.value(key), V4_ROWS.naive_value(key));
        }
    }

    #[test]
    fn any_value_is_safe(value in any::<u32>()) {
        let _ = info(Some(value));
    }

    #[test]
    fn corrupted_tables_never_panic(
        edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..16),
        cut in any::<prop::sample::Index>(),
        keys in prop::collection::vec(any::<u64>(), 8),
    ) {
        let mut bytes = V4_DATA.to_vec();
        for (at, byte) in edits {
            // Half the edits land in the bucket index, the part most likely to mislead a search.
            let span = if byte % 2 == 0 { INDEX_ENTRIES * INDEX_ENTRY_BYTES } else { bytes.len() };
            if let Some(slot) = bytes.get_mut(at.index(span)) {
                *slot = byte;
            }
        }
        for len in [bytes.len(), cut.index(bytes.len())] {
            let bytes = bytes.get(..len).unwrap_or_default();
            for &key in &keys {
                // The same bytes read as either family's table.
                let _ = Table::<2>::parse(bytes).map(|table| info(table.value(key)));
                let _ = Table::<6>::parse(bytes).map(|table| info(table.value(key)));
            }
        }
    }
}
