//! phonehome-stack: see Cargo.toml description.
