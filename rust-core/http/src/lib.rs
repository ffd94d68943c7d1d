//! phonehome-http: see Cargo.toml description.
