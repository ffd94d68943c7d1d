use super::*;
use proptest::prelude::*;

/// A classic pcap file: little-endian, microseconds, or big-endian, nanoseconds.
pub(crate) fn pcap(big_endian: bool, nanos: bool, dlt: u32, records: &[(u32, u32, &[u8], u32)]) -> Vec<u8> {
    let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let u16b = |v: u16| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let mut out = Vec::new();
    out.extend(u32b(if nanos { 0xA1B2_3C4D } else { 0xA1B2_C3D4 }));
    out.extend(u16b(2));
    out.extend(u16b(4));
    out.extend(u32b(0));
    out.extend(u32b(0));
    out.extend(u32b(65535));
    out.extend(u32b(dlt));
    for &(secs, frac, data, orig_len) in records {
        out.extend(u32b(secs));
        out.extend(u32b(frac));
        out.extend(u32b(data.len() as u32));
        out.extend(u32b(orig_len));
        out.extend(data);
    }
    out
}

/// pcapng block: type, total length, body padded to 4 bytes, total length.
fn block(big_endian: bool, block_type: u32, body: &[u8]) -> Vec<u8> {
    let u32b = |v: u32| if big_endian { v.to_be_bytes() } else { v.to_le_bytes() };
    let padded = body.len().div_ceil(4) * 4;
    let total = (12 + padded) as u32;
    let mut out = Vec::new();
    out.extend(u32b(block_type));
    out.extend(u32b(total));
    out.extend(body);
    out.resize(8 + padded, 0);
    out.extend(u32b(total));
    out
}

struct Ng {
    big_endian: bool,
    out: Vec<u8>,
}

impl Ng {
    fn u32b(&self, v: u32) -> [u8; 4] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn u16b(&self, v: u16) -> [u8; 2] {
        if self.big_endian {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }
    fn section(mut self, big_endian: bool) -> Self {
        self.big_endian = big_endian;
        let mut body = Vec::new();
        body.extend(self.u32b(0x1A2B_3C4D));
        body.extend(self.u16b(1));
        body.extend(self.u16b(0));
        body.extend([0xFF; 8]);
        let b = block(big_endian, 0x0A0D_0D0A, &body);
        self.out.extend(b);
        self
    }
    /// Interface with optional if_tsresol and if_tsoffset options.
    fn interface(mut self, dlt: u16, snaplen: u32, tsresol: Option<u8>, tsoffset: Option<i64>) -> Self {
        let mut body = Vec::new();
        body.extend(self.u16b(dlt));
        body.extend(self.u16b(0));
        body.extend(self.u32b(snaplen));
        if let Some(r) = tsresol {
            body.extend(self.u16b(9));
            body.extend(self.u16b(1));
            body.extend([r, 0, 0, 0]);
        }
        if let Some(o) = tsoffset {
            body.extend(self.u16b(14));
            body.extend(self.u16b(8));
            body.extend(if self.big_endian { o.to_be_bytes() } else { o.to_le_bytes() });
        }
        if tsresol.is_some() || tsoffset.is_some() {
            body.extend([0; 4]); // opt_endofopt
        }
        let b = block(self.big_endian, 1, &body);
        self.out.extend(b);
        self
    }
    fn epb(mut self, if_id: u32, ts: u64, data: &[u8], orig_len: u32) -> Self {
        let mut body = Vec::new();
        body.extend(self.u32b(if_id));
        body.extend(self.u32b((ts >> 32) as u32));
        body.extend(self.u32b(ts as u32));
        body.extend(self.u32b(data.len() as u32));
        body.extend(self.u32b(orig_len));
        body.extend(data);
        let b = block(self.big_endian, 6, &body);
        self.out.extend(b);
        self
    }
    fn spb(mut self, data: &[u8]) -> Self {
        let mut body = Vec::new();
        body.extend(self.u32b(data.len() as u32));
        body.extend(data);
        let b = block(self.big_endian, 3, &body);
        self.out.extend(b);
        self
    }
    fn obsolete_pb(mut self, if_id: u16, ts: u64, data: &[u8]) -> Self {
        let mut body = Vec::new();
        body.extend(self.u16b(if_id));
        body.extend(self.u16b(0));
        body.extend(self.u32b((ts >> 32) as u32));
        body.extend(self.u32b(ts as u32));
        body.extend(self.u32b(data.len() as u32));
        body.extend(self.u32b(data.len() as u32));
        body.extend(data);
        let b = block(self.big_endian, 2, &body);
        self.out.extend(b);
        self
    }
    /// A name resolution block with only opt_endofopt: carries no packet.
    fn skipped_block(self) -> Self {
        self.raw(4, &[0; 4])
    }
    /// Any block, framed with consistent lengths.
    fn raw(mut self, block_type: u32, body: &[u8]) -> Self {
        let b = block(self.big_endian, block_type, body);
        self.out.extend(b);
        self
    }
}

fn ng() -> Ng {
    Ng { big_endian: false, out: Vec::new() }
}

/// Every interesting pcapng feature in one file: 5 frames.
pub(crate) fn sample_pcapng() -> Vec<u8> {
    ng().section(false)
        .interface(1, 0, None, None)
        .interface(101, 0, Some(9), Some(100))
        .skipped_block()
        .epb(0, 1_700_000_000_123_456, b"ethernet frame", 14)
        .epb(1, 5_000_000_007, b"raw ip", 60)
        .spb(b"simple")
        .obsolete_pb(1, 1_000_000_000, b"old")
        .section(true)
        .interface(113, 4, Some(0x80 | 10), None)
        .epb(0, 3 * 1024 + 512, b"big endian", 10)
        .out
}

/// A frame as owned values: number, time, link, data, original length.
type OwnedFrame = (u64, Timestamp, LinkType, Vec<u8>, u32);

fn read_all(bytes: Vec<u8>) -> (Vec<OwnedFrame>, Option<CaptureError>) {
    let (frames, err, _) = read_with_notices(bytes);
    (frames, err)
}

/// Every frame, the error that ended reading (if any) and every notice, in order.
fn read_with_notices(bytes: Vec<u8>) -> (Vec<OwnedFrame>, Option<CaptureError>, Vec<Notice>) {
    let mut reader = match CaptureReader::new(io::Cursor::new(bytes)) {
        Ok(r) => r,
        Err(e) => return (Vec::new(), Some(e), Vec::new()),
    };
    let mut frames = Vec::new();
    let mut notices = Vec::new();
    let mut err = None;
    while let Some(item) = reader.next_frame() {
        match item {
            Ok(f) => frames.push((f.number, f.ts, f.link, f.data.to_vec(), f.orig_len)),
            Err(e) => err = Some(e),
        }
        notices.extend(reader.take_notices());
    }
    notices.extend(reader.take_notices());
    assert!(reader.next_frame().is_none(), "reading stops at the end");
    assert!(reader.notice_count() >= notices.len() as u64);
    (frames, err, notices)
}

fn ts(secs: u64, nanos: u32) -> Timestamp {
    Timestamp(Duration::new(secs, nanos))
}

#[test]
fn reads_pcap_in_both_byte_orders_and_resolutions() {
    let le = pcap(false, false, 1, &[(1_700_000_000, 123_456, b"abc", 60), (1_700_000_001, 0, b"de", 2)]);
    let (frames, err) = read_all(le);
    assert!(err.is_none());
    assert_eq!(frames.len(), 2);
    assert_eq!(frames[0], (1, ts(1_700_000_000, 123_456_000), LinkType::Ethernet, b"abc".to_vec(), 60));
    assert_eq!(frames[1].0, 2);

    let be = pcap(true, true, 113, &[(7, 999_999_999, b"xyz", 3)]);
    let (frames, err) = read_all(be);
    assert!(err.is_none());
    assert_eq!(frames, vec![(1, ts(7, 999_999_999), LinkType::LinuxSll, b"xyz".to_vec(), 3)]);
}

#[test]
fn reads_pcapng_sections_interfaces_and_all_packet_blocks() {
    let (frames, err) = read_all(sample_pcapng());
    assert!(err.is_none(), "{err:?}");
    let expected = vec![
        (1, ts(1_700_000_000, 123_456_000), LinkType::Ethernet, b"ethernet frame".to_vec(), 14),
        // if_tsresol 9 (ns) and if_tsoffset 100 s
        (2, ts(105, 7), LinkType::RawIp, b"raw ip".to_vec(), 60),
        // SPB: interface 0, no timestamp
        (3, Timestamp::default(), LinkType::Ethernet, b"simple".to_vec(), 6),
        (4, ts(101, 0), LinkType::RawIp, b"old".to_vec(), 3),
        // second section, big-endian, 2^-10 s resolution, snap length 4 (EPB keeps its caplen)
        (5, ts(3, 500_000_000), LinkType::LinuxSll, b"big endian".to_vec(), 10),
    ];
    assert_eq!(frames, expected);
}

#[test]
fn simple_packet_block_is_cut_to_the_snap_length() {
    let file = ng().section(false).interface(1, 4, None, None).spb(b"0123456789").out;
    let (frames, err) = read_all(file);
    assert!(err.is_none());
    assert_eq!(frames[0].3, b"0123".to_vec());
    assert_eq!(frames[0].4, 10);
}

#[test]
fn packet_for_an_undescribed_interface_is_skipped() {
    let file =
        ng().section(false).interface(1, 0, None, None).epb(0, 0, b"ok", 2).epb(3, 0, b"bad", 3).epb(0, 0, b"on", 2);
    let (frames, err, notices) = read_with_notices(file.out);
    assert!(err.is_none(), "{err:?}");
    let numbers: Vec<u64> = frames.iter().map(|f| f.0).collect();
    assert_eq!(numbers, [1, 3], "the skipped packet keeps its number");
    assert_eq!(notices.len(), 1);
    assert!(notices[0].message.contains("packet 2") && notices[0].message.contains("interface 3"), "{}", notices[0]);
    // A new section forgets the interfaces of the previous one.
    let file = ng().section(false).interface(1, 0, None, None).section(false).epb(0, 0, b"x", 1).out;
    let (frames, err, notices) = read_with_notices(file);
    assert!(frames.is_empty() && err.is_none() && notices.len() == 1, "{frames:?} {err:?} {notices:?}");
}

#[test]
fn block_whose_content_overruns_its_length_is_skipped() {
    let mut file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"abcd", 4).out;
    // caplen (at 20 bytes into the EPB) claims more than the block holds.
    let epb = file.len() - 36;
    file[epb + 20..epb + 24].copy_from_slice(&200u32.to_le_bytes());
    file.extend(ng().section(false).interface(101, 0, None, None).epb(0, 0, b"next", 4).out);
    let (frames, err, notices) = read_with_notices(file);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 1);
    assert_eq!(frames[0].3, b"next");
    assert_eq!(notices, [Notice { offset: epb as u64, message: notices[0].message.clone() }]);
    assert!(notices[0].message.contains("overruns"), "{}", notices[0]);
}

#[test]
fn a_damaged_statistics_block_is_skipped_and_every_packet_after_it_is_read() {
    // An empty interface statistics block: its lengths agree, its body lacks the interface and time.
    let mut file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"before", 6).raw(5, &[]);
    let damaged_at = file.out.len() - 12;
    for i in 0..2000u32 {
        file = file.epb(0, u64::from(i), &i.to_le_bytes(), 4);
    }
    let (frames, err, notices) = read_with_notices(file.out);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 2001);
    assert_eq!(notices.len(), 1);
    assert_eq!(notices[0].offset, damaged_at as u64);
    let line = notices[0].to_string();
    assert!(line.contains("interface statistics block (12 bytes)"), "{line}");
    assert!(line.len() < 120, "one short line, not the parser's buffer: {line}");
}

#[test]
fn a_damaged_interface_keeps_its_number() {
    // The second interface's block has consistent lengths but a body too short for its fields.
    let file = ng().section(false).interface(1, 0, None, None).raw(1, &[0; 4]).interface(101, 0, None, None);
    let file = file.epb(2, 0, b"raw", 3).epb(1, 0, b"lost", 4).epb(0, 0, b"eth", 3);
    let (frames, err, notices) = read_with_notices(file.out);
    assert!(err.is_none(), "{err:?}");
    let got: Vec<(u64, LinkType)> = frames.iter().map(|f| (f.0, f.2)).collect();
    assert_eq!(got, [(1, LinkType::RawIp), (3, LinkType::Ethernet)]);
    assert_eq!(notices.len(), 2, "{notices:?}");
    assert!(notices[1].message.contains("description block was damaged"), "{}", notices[1]);
}

#[test]
fn damage_that_loses_the_framing_ends_the_capture_with_its_offset() {
    let mut file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"ok", 2).out;
    let at = file.len();
    // A block whose trailing length disagrees with its leading one.
    let mut bad = block(false, 6, &[0; 24]);
    let end = bad.len() - 4;
    bad[end..].copy_from_slice(&999u32.to_le_bytes());
    file.extend(bad);
    file.extend(ng().section(false).out);
    let (frames, err, _) = read_with_notices(file);
    assert_eq!(frames.len(), 1);
    match err {
        Some(CaptureError::Damaged { packet: 2, offset, reason }) => {
            assert_eq!(offset, at as u64);
            assert!(reason.len() < 80, "{reason}");
        }
        other => panic!("{other:?}"),
    }
    // A damaged section header: the byte order of what follows is unknown.
    let mut file = ng().section(false).interface(1, 0, None, None).epb(0, 0, b"ok", 2).out;
    let mut shb = block(false, 0x0A0D_0D0A, &[0; 16]);
    shb[8..12].copy_from_slice(&[1, 2, 3, 4]); // no byte-order magic
    file.extend(shb);
    file.extend(ng().section(false).interface(1, 0, None, None).epb(0, 0, b"lost", 4).out);
    let (frames, err, _) = read_with_notices(file);
    assert_eq!(frames.len(), 1);
    assert!(matches!(err, Some(CaptureError::Damaged { packet: 2, .. })), "{err:?}");
}

#[test]
fn pathological_time_options_never_stop_the_reading() {
    let file = ng()
        .section(false)
        .interface(1, 0, Some(0), Some(i64::MAX))
        .interface(1, 0, Some(0x7F), None)
        .interface(1, 0, None, Some(i64::MIN))
        .epb(0, u64::MAX, b"zero resolution, huge offset", 1)
        .epb(1, 12_345, b"resolution out of range", 1)
        .epb(2, 1 << 62, b"negative offset", 1)
        .out;
    let (frames, err, notices) = read_with_notices(file);
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[0].1, Timestamp(Duration::MAX), "saturates");
    assert_eq!(frames[1].1, Timestamp::default());
    assert_eq!(frames[2].1, Timestamp::default(), "saturates at the epoch");
    assert_eq!(notices.len(), 1);
    assert!(notices[0].message.contains("if_tsresol 0x7f"), "{}", notices[0]);
    for frame in &frames {
        assert!(!frame.1.iso8601().is_empty());
    }
}

#[test]
fn reader_can_move_to_another_thread() {
    fn assert_send<T: Send>() {}
    assert_send::<CaptureReader>();
}

#[test]
fn rejects_what_is_not_a_capture() {
    assert!(matches!(read_all(Vec::new()).1, Some(CaptureError::UnknownFormat)));
    assert!(matches!(read_all(b"GET / HTTP/1.1\r\n".to_vec()).1, Some(CaptureError::UnknownFormat)));
    assert!(matches!(CaptureReader::open(Path::new("/nonexistent/capture.pcap")), Err(CaptureError::Io(_))));
}

#[test]
fn reads_records_larger_than_the_initial_buffer() {
    let big = vec![0x5A; INITIAL_BUFFER * 3];
    let (frames, err) = read_all(pcap(false, false, 1, &[(1, 0, b"small", 5), (2, 0, &big, 1), (3, 0, b"after", 5)]));
    assert!(err.is_none(), "{err:?}");
    assert_eq!(frames.len(), 3);
    assert_eq!(frames[1].3.len(), big.len());
    assert_eq!(frames[2].3, b"after".to_vec());
}

#[test]
fn absurd_record_length_is_damage_within_bounded_memory() {
    let mut file = pcap(false, false, 1, &[(1, 0, b"ok", 2)]);
    file.extend(1u32.to_le_bytes());
    file.extend(0u32.to_le_bytes());
    file.extend(0xFFFF_FFF0u32.to_le_bytes());
    file.extend(0xFFFF_FFF0u32.to_le_bytes());
    file.extend(vec![0u8; MAX_BUFFER + 1024]);
    let (frames, err) = read_all(file);
    assert_eq!(frames.len(), 1);
    assert!(matches!(err, Some(CaptureError::Damaged { packet: 2, .. })), "{err:?}");
}

/// Returns one byte per read, like a slow pipe.
struct Trickle(io::Cursor<Vec<u8>>);

impl Read for Trickle {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let one = buf.len().min(1);
        self.0.read(&mut buf[..one])
    }
}

#[test]
fn short_reads_are_not_truncation() {
    let bytes = sample_pcapng();
    let len = bytes.len() as u64;
    let mut reader = CaptureReader::new(Trickle(io::Cursor::new(bytes))).expect("pcapng");
    let mut count = 0;
    while let Some(item) = reader.next_frame() {
        item.expect("frame");
        count += 1;
    }
    assert_eq!(count, 5);
    assert_eq!(reader.bytes_read(), len);
}

/// Fails after the header, as a disk error would.
struct Failing(io::Cursor<Vec<u8>>);

impl Read for Failing {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.0.position() >= 24 {
            return Err(io::Error::other("disk on fire"));
        }
        let n = buf.len().min(24 - self.0.position() as usize);
        self.0.read(&mut buf[..n])
    }
}

#[test]
fn read_errors_are_reported_with_their_cause() {
    let bytes = pcap(false, false, 1, &[(1, 0, b"abc", 3)]);
    let err = match CaptureReader::new(Failing(io::Cursor::new(bytes))) {
        Err(e) => e,
        Ok(mut r) => match r.next_frame() {
            Some(Err(e)) => e,
            other => panic!("expected an error, got {other:?}"),
        },
    };
    assert!(err.to_string().contains("disk on fire"), "{err}");
}

/// Cuts a file at every byte: never a panic, the frames before the cut are all returned, and
/// the error (if the cut is not between records) names the last good one.
fn check_every_truncation(file: &[u8], clean_ends: &[usize], frame_ends: &[usize]) {
    for cut in 0..=file.len() {
        let (frames, err) = read_all(file[..cut].to_vec());
        let whole = frame_ends.iter().filter(|&&end| end <= cut).count() as u64;
        assert_eq!(frames.len() as u64, whole, "cut at {cut}");
        match err {
            None => assert!(clean_ends.contains(&cut), "cut at {cut} read as a clean end"),
            Some(CaptureError::Truncated { last_good }) => assert_eq!(last_good, whole, "cut at {cut}"),
            Some(CaptureError::UnknownFormat) => assert!(cut < 4, "cut at {cut}"),
            Some(other) => panic!("cut at {cut}: {other}"),
        }
    }
}

#[test]
fn pcap_truncated_at_every_offset_reports_last_good_packet() {
    let file = pcap(false, false, 1, &[(1, 0, b"first", 5), (2, 0, b"second!", 7), (3, 0, b"", 0)]);
    let frame_ends = [24 + 21, 24 + 21 + 23, 24 + 21 + 23 + 16];
    assert_eq!(file.len(), frame_ends[2]);
    check_every_truncation(&file, &[24, frame_ends[0], frame_ends[1], frame_ends[2]], &frame_ends);
}

#[test]
fn pcapng_truncated_at_every_offset_reports_last_good_packet() {
    let file = sample_pcapng();
    let mut block_ends = Vec::new();
    let mut at = 0;
    let mut big_endian = false;
    while at < file.len() {
        if file[at..at + 4] == PCAPNG_MAGIC {
            big_endian = file[at + 8..at + 12] == [0x1A, 0x2B, 0x3C, 0x4D];
        }
        at += declared_block_len(&file[at..], big_endian).expect("length");
        block_ends.push(at);
    }
    // SHB, IDB, IDB, NRB, EPB, EPB, SPB, PB, SHB, IDB, EPB: frames end blocks 5-8 and 11.
    assert_eq!(block_ends.len(), 11);
    let frame_ends = [block_ends[4], block_ends[5], block_ends[6], block_ends[7], block_ends[10]];
    check_every_truncation(&file, &block_ends, &frame_ends);
}

proptest! {
    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2048), ng in any::<bool>()) {
        let mut file = if ng { PCAPNG_MAGIC.to_vec() } else { vec![0xD4, 0xC3, 0xB2, 0xA1] };
        file.extend(bytes);
        let _ = read_all(file);
    }

    #[test]
    fn mutated_captures_never_panic(
        ng in any::<bool>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let mut file = if ng {
            sample_pcapng()
        } else {
            pcap(false, true, 1, &[(1, 0, b"first", 5), (2, 0, b"second!", 7)])
        };
        for (at, value) in edits {
            let i = at.index(file.len());
            file[i] = value;
        }
        let _ = read_all(file);
    }
}
