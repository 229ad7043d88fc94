//! Nothing: the package exists for its integration tests (see `Cargo.toml`).
