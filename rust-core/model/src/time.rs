//! Time as every record carries it: a point since the Unix epoch, never text until a writer needs text.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Time since the Unix epoch, at nanosecond resolution (pcapng may carry it).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(pub Duration);

impl Timestamp {
    /// The wall clock now (the live engine's packets).
    pub fn now() -> Self {
        Timestamp(SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default())
    }

    /// From microseconds since the Unix epoch.
    pub fn from_micros(micros: u64) -> Self {
        Timestamp(Duration::from_micros(micros))
    }

    /// From signed microseconds since the Unix epoch, as SQL and the FFI carry them (before 1970: the epoch).
    pub fn from_micros_i64(micros: i64) -> Self {
        Timestamp::from_micros(u64::try_from(micros).unwrap_or(0))
    }

    /// Microseconds since the Unix epoch (saturating).
    pub fn as_micros(self) -> u64 {
        u64::try_from(self.0.as_micros()).unwrap_or(u64::MAX)
    }

    /// Microseconds since the Unix epoch as SQL and the FFI carry them (saturating).
    pub fn as_micros_i64(self) -> i64 {
        i64::try_from(self.0.as_micros()).unwrap_or(i64::MAX)
    }

    /// ISO 8601 in UTC with microseconds, e.g. `2024-03-01T12:00:00.123456Z`: the text of every export.
    pub fn iso8601(self) -> String {
        self.to_string()
    }

    /// Time elapsed since `earlier`, zero if `earlier` is later (captures are not always ordered).
    pub fn since(self, earlier: Timestamp) -> Duration {
        self.0.saturating_sub(earlier.0)
    }
}

/// ISO 8601 in UTC with microseconds. Total: a time past year 9999 (a damaged or mis-scaled capture
/// timestamp) takes ISO 8601's expanded year, `+10000-…`, where humantime would panic.
impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SECS_PER_DAY: u64 = 86_400;
        let secs = self.0.as_secs();
        let (year, month, day) = civil_from_days(secs / SECS_PER_DAY);
        let in_day = secs % SECS_PER_DAY;
        let sign = if year > 9999 { "+" } else { "" };
        write!(
            f,
            "{sign}{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
            in_day / 3600,
            in_day / 60 % 60,
            in_day % 60,
            self.0.subsec_micros()
        )
    }
}

/// (year, month, day) of the proleptic Gregorian calendar, `days` after 1970-01-01 (H. Hinnant's
/// `civil_from_days`, for non-negative days; no overflow for any `u64` of seconds).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468; // days since 0000-03-01
    let era = z / 146_097;
    let day_of_era = z % 146_097;
    let year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36_524 - day_of_era / 146_096) / 365;
    let day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    let month_from_march = (5 * day_of_year + 2) / 153;
    let day = day_of_year - (153 * month_from_march + 2) / 5 + 1;
    let month = if month_from_march < 10 { month_from_march + 3 } else { month_from_march - 9 };
    let year = year_of_era + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// Exports write times as ISO 8601 text.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use std::time::{Duration, UNIX_EPOCH};

    use proptest::prelude::*;

    use super::Timestamp;

    #[test]
    fn formats_times_past_year_9999_without_panicking() {
        let last = Timestamp(Duration::new(253_402_300_799, 999_999_999));
        assert_eq!(last.iso8601(), "9999-12-31T23:59:59.999999Z");
        assert_eq!(Timestamp(Duration::from_secs(253_402_300_800)).iso8601(), "+10000-01-01T00:00:00.000000Z");
        // A pcapng timestamp whose high word had a bit flipped, and the largest time there is.
        assert_eq!(Timestamp::from_micros(1 << 62).iso8601(), "+148108-07-06T14:00:27.387904Z");
        assert_eq!(Timestamp(Duration::MAX).iso8601(), "+584554051223-11-09T07:00:15.999999Z");
    }

    proptest! {
        #[test]
        fn agrees_with_humantime_up_to_year_9999(secs in 0u64..253_402_300_800, nanos in 0u32..1_000_000_000) {
            let time = Duration::new(secs, nanos);
            let expected = humantime::format_rfc3339_micros(UNIX_EPOCH + time).to_string();
            prop_assert_eq!(Timestamp(time).iso8601(), expected);
        }
    }

    #[test]
    fn formats_iso8601_utc_with_micros() {
        assert_eq!(Timestamp::default().iso8601(), "1970-01-01T00:00:00.000000Z");
        assert_eq!(Timestamp::from_micros(1_709_294_400_123_456).iso8601(), "2024-03-01T12:00:00.123456Z");
        assert_eq!(serde_json::to_string(&Timestamp::from_micros(1)).unwrap(), "\"1970-01-01T00:00:00.000001Z\"");
    }

    #[test]
    fn signed_micros_round_trip_and_saturate() {
        let ts = Timestamp::from_micros(1_709_294_400_123_456);
        assert_eq!(Timestamp::from_micros_i64(ts.as_micros_i64()), ts);
        assert_eq!(Timestamp::from_micros_i64(-5), Timestamp::default());
        assert_eq!(Timestamp(std::time::Duration::MAX).as_micros_i64(), i64::MAX);
    }
}
