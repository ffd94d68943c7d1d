//! phonehome-dns: see Cargo.toml description.
