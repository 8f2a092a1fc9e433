//! Route-level views.

pub mod compare;
pub mod group_compare;
pub mod trace;
pub mod traces;
