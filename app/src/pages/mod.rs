//! Route-level views.

pub mod trace;
pub mod traces;
