//! phonehome-intel: see Cargo.toml description.
