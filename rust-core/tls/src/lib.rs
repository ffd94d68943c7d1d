//! phonehome-tls: see Cargo.toml description.
