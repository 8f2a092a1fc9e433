//! Route-level views.

pub mod compare;
pub mod group_compare;
pub mod service;
pub mod service_map;
pub mod trace;
pub mod traces;
