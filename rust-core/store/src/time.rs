//! Timestamps: records carry ISO 8601 text (kept verbatim for faithful exports); the store indexes them
//! as microseconds since the Unix epoch.

use std::time::{Duration, UNIX_EPOCH};

use crate::StoreError;

/// Microseconds since the Unix epoch of an ISO 8601 / RFC 3339 UTC timestamp (`None` if unparseable).
pub fn parse_timestamp_micros(text: &str) -> Option<i64> {
    let time = humantime::parse_rfc3339_weak(text.trim().trim_end_matches('Z')).ok()?;
    let micros = time.duration_since(UNIX_EPOCH).ok()?.as_micros();
    i64::try_from(micros).ok()
}

/// ISO 8601 UTC with microseconds, the format of the engine's records.
pub fn format_micros(micros: i64) -> String {
    let time = UNIX_EPOCH + Duration::from_micros(micros.max(0).unsigned_abs());
    humantime::format_rfc3339_micros(time).to_string()
}

/// Which end of a range a user's time bound closes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Bound {
    /// Inclusive start (`--since`).
    Start,
    /// Exclusive end (`--until`); a bare date means the end of that day.
    End,
}

/// Parses `--since`/`--until`: ISO 8601 (`2024-03-01T12:00:00Z`, fraction optional) or `YYYY-MM-DD`.
pub fn parse_time_bound(text: &str, bound: Bound) -> Result<i64, StoreError> {
    let invalid = || StoreError::InvalidTime(text.to_owned());
    let trimmed = text.trim();
    let is_date = trimmed.len() == 10 && trimmed.bytes().filter(|b| *b == b'-').count() == 2;
    if !is_date {
        return parse_timestamp_micros(trimmed).ok_or_else(invalid);
    }
    let start = humantime::parse_rfc3339(&format!("{trimmed}T00:00:00Z")).map_err(|_| invalid())?;
    let time = match bound {
        Bound::Start => start,
        Bound::End => start + Duration::from_secs(24 * 3600),
    };
    let micros = time.duration_since(UNIX_EPOCH).map_err(|_| invalid())?.as_micros();
    i64::try_from(micros).map_err(|_| invalid())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_engine_timestamps_and_formats_them_back() {
        let micros = parse_timestamp_micros("2024-03-01T12:00:00.123456Z").unwrap();
        assert_eq!(micros, 1_709_294_400_123_456);
        assert_eq!(format_micros(micros), "2024-03-01T12:00:00.123456Z");
        assert_eq!(parse_timestamp_micros("2024-03-01T12:00:00Z"), Some(1_709_294_400_000_000));
        assert_eq!(parse_timestamp_micros("garbage"), None);
        assert_eq!(parse_timestamp_micros(""), None);
    }

    #[test]
    fn date_bounds_cover_the_whole_day() {
        let start = parse_time_bound("2024-03-01", Bound::Start).unwrap();
        let end = parse_time_bound("2024-03-01", Bound::End).unwrap();
        assert_eq!(start, 1_709_251_200_000_000);
        assert_eq!(end - start, 86_400_000_000);
        assert_eq!(parse_time_bound("2024-03-01T12:00:00Z", Bound::End).unwrap(), 1_709_294_400_000_000);
        assert!(matches!(parse_time_bound("yesterday", Bound::Start), Err(StoreError::InvalidTime(_))));
        assert!(parse_time_bound("2024-13-01", Bound::Start).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_timestamp_micros(&text);
            let _ = parse_time_bound(&text, Bound::Start);
            let _ = parse_time_bound(&text, Bound::End);
        }

        #[test]
        fn formatted_times_parse_back(micros in 0i64..253_402_300_799_000_000) {
            proptest::prop_assert_eq!(parse_timestamp_micros(&format_micros(micros)), Some(micros));
        }

        #[test]
        fn mutated_timestamps_never_panic(index in 0usize..27, byte in proptest::num::u8::ANY) {
            let mut text = format_micros(1_709_294_400_123_456).into_bytes();
            if let Some(slot) = text.get_mut(index) {
                *slot = byte;
            }
            let _ = parse_timestamp_micros(&String::from_utf8_lossy(&text));
            let truncated = String::from_utf8_lossy(text.get(..index).unwrap_or_default()).into_owned();
            let _ = parse_time_bound(&truncated, Bound::End);
        }
    }
}
