//! phonehome-leak: see Cargo.toml description.
