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

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", humantime::format_rfc3339_micros(UNIX_EPOCH + self.0))
    }
}

/// Exports write times as ISO 8601 text.
impl serde::Serialize for Timestamp {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

#[cfg(test)]
mod tests {
    use super::Timestamp;

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
