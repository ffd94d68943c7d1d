//! phonehome-model: the typed vocabulary every phonehome crate speaks — flow keys, flow and alert records,
//! severities and alert kinds, time. Text forms (CSV, JSON, SQL, ISO 8601) are made only by the writers and
//! readers at the edges; inside, a time is a [`Timestamp`], an address an [`IpAddr`](std::net::IpAddr), a list a
//! `Vec<String>`.
//!
//! With the `uniffi` feature the same types carry uniffi derives (addresses cross as text, times as microseconds
//! since the epoch), so the FFI re-exports them instead of copying them.

#[cfg(any(test, feature = "fixtures"))]
pub mod fixtures;
mod record;
mod time;
mod vocab;

pub use record::{join_list, split_list, AlertRecord, Company, FlowKey, FlowRecord};
pub use time::Timestamp;
pub use vocab::{AlertKind, HostSource, Proto, Severity, TcpState, UnknownName, L7};

#[cfg(feature = "uniffi")]
mod ffi {
    use std::net::IpAddr;

    use crate::Timestamp;

    // Addresses cross the FFI as their text; times as microseconds since the epoch (Kotlin `Long`).
    uniffi::custom_type!(IpAddr, String, {
        remote,
        try_lift: |text| Ok(text.parse::<IpAddr>()?),
        lower: |ip| ip.to_string(),
    });

    uniffi::custom_type!(Timestamp, i64, {
        try_lift: |micros| Ok(Timestamp::from_micros_i64(micros)),
        lower: |ts| ts.as_micros_i64(),
    });
}

#[cfg(feature = "uniffi")]
uniffi::setup_scaffolding!("phonehome_model");
