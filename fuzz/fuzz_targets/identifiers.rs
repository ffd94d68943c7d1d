//! The identifiers TOML (`--ids`), then the leak detector built from it searching the same bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use phonehome_leak::{DetectorConfig, Identifiers, LeakDetector};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(ids) = Identifiers::from_toml(text) else { return };
    // Bounds the automaton build per input; the parser itself sees any size.
    if ids.len() > 32 {
        return;
    }
    if let Ok(detector) = LeakDetector::new(&ids, &DetectorConfig::default()) {
        let _ = detector.scan(data);
        let _ = detector.scan_patterns(data);
    }
});
