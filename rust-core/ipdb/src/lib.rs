//! phonehome-ipdb: see Cargo.toml description.
