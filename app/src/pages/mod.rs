//! Route-level views.

pub mod compare;
pub mod trace;
pub mod traces;
