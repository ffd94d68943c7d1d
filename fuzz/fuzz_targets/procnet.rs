//! `/proc/net/{tcp,udp}{,6}` tables as the kernel (or anything else) writes them.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    for entry in phonehome_stack::parse_table(&text) {
        let _ = format!("{entry:?}");
    }
    for line in text.lines() {
        let _ = phonehome_stack::parse_line(line);
    }
});
