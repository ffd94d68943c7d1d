//! phonehome-quic: see Cargo.toml description.
