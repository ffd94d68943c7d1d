//! phonehome-engine: see Cargo.toml description.
