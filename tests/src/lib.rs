//! Helpers shared by the end-to-end tests live in `tests/src/lib.rs`.
