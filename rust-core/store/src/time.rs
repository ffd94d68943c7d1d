//! Time bounds as users type them (`--since`, `--until`): the one place the store reads time as text.

use std::time::{Duration, UNIX_EPOCH};

use phonehome_model::Timestamp;

use crate::StoreError;

/// An ISO 8601 / RFC 3339 UTC time (`None` if unparseable).
fn parse_timestamp(text: &str) -> Option<Timestamp> {
    let time = humantime::parse_rfc3339_weak(text.trim().trim_end_matches('Z')).ok()?;
    Some(Timestamp(time.duration_since(UNIX_EPOCH).ok()?))
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
pub fn parse_time_bound(text: &str, bound: Bound) -> Result<Timestamp, StoreError> {
    let invalid = || StoreError::InvalidTime(text.to_owned());
    let trimmed = text.trim();
    let is_date = trimmed.len() == 10 && trimmed.bytes().filter(|b| *b == b'-').count() == 2;
    if !is_date {
        return parse_timestamp(trimmed).ok_or_else(invalid);
    }
    let start = humantime::parse_rfc3339(&format!("{trimmed}T00:00:00Z")).map_err(|_| invalid())?;
    let time = match bound {
        Bound::Start => start,
        Bound::End => start + Duration::from_secs(24 * 3600),
    };
    Ok(Timestamp(time.duration_since(UNIX_EPOCH).map_err(|_| invalid())?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn micros(bound: Result<Timestamp, StoreError>) -> u64 {
        bound.unwrap().as_micros()
    }

    #[test]
    fn parses_iso_times_and_dates() {
        assert_eq!(micros(parse_time_bound("2024-03-01T12:00:00.123456Z", Bound::Start)), 1_709_294_400_123_456);
        assert_eq!(micros(parse_time_bound("2024-03-01T12:00:00Z", Bound::End)), 1_709_294_400_000_000);
        assert!(matches!(parse_time_bound("yesterday", Bound::Start), Err(StoreError::InvalidTime(_))));
        assert!(parse_time_bound("", Bound::Start).is_err());
    }

    #[test]
    fn date_bounds_cover_the_whole_day() {
        let start = micros(parse_time_bound("2024-03-01", Bound::Start));
        let end = micros(parse_time_bound("2024-03-01", Bound::End));
        assert_eq!(start, 1_709_251_200_000_000);
        assert_eq!(end - start, 86_400_000_000);
        assert!(parse_time_bound("2024-13-01", Bound::Start).is_err());
    }

    proptest::proptest! {
        #[test]
        fn any_text_parses_or_fails_without_panicking(text in "\\PC{0,40}") {
            let _ = parse_time_bound(&text, Bound::Start);
            let _ = parse_time_bound(&text, Bound::End);
        }

        #[test]
        fn formatted_times_parse_back(micros in 0u64..253_402_300_799_000_000) {
            let ts = Timestamp::from_micros(micros);
            proptest::prop_assert_eq!(parse_time_bound(&ts.iso8601(), Bound::Start).ok(), Some(ts));
        }

        #[test]
        fn mutated_timestamps_never_panic(index in 0usize..27, byte in proptest::num::u8::ANY) {
            let mut text = Timestamp::from_micros(1_709_294_400_123_456).iso8601().into_bytes();
            if let Some(slot) = text.get_mut(index) {
                *slot = byte;
            }
            let _ = parse_time_bound(&String::from_utf8_lossy(&text), Bound::Start);
            let truncated = String::from_utf8_lossy(text.get(..index).unwrap_or_default()).into_owned();
            let _ = parse_time_bound(&truncated, Bound::End);
        }
    }
}
