//! Reusable views, thin wiring over `spanview-core`.

pub mod waterfall;
