//! Reusable views, thin wiring over `spanview-core`.

pub mod api_error;
pub mod waterfall;
