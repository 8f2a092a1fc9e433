//! spanview-core: the trace model, file formats and analysis shared by the server, the CLI and the
//! browser. Pure Rust without I/O or async, so it builds natively and for `wasm32-unknown-unknown`.
//!
//! API boundary: the serde representation of [`model`] types is the JSON contract between the
//! server and the app. Changing a field name here is an API change.

pub mod analysis;
pub mod attribute_filter;
pub mod call_outs;
pub mod clock_skew;
pub mod compare;
pub mod critical_path;
pub mod flame_graph;
pub mod formats;
pub mod group_compare;
pub mod health;
pub mod ids;
pub mod intervals;
pub mod layout;
pub mod minimap;
pub mod model;
pub mod normalize;
pub mod query;
pub mod redact;
pub mod repeated_work;
pub mod scatter;
pub mod scenario;
pub mod service_map_layout;
pub mod service_metrics;
pub mod service_overview;
pub mod sibling_groups;
pub mod sort;
pub mod statistics;
pub mod summary;
pub mod time_axis;
pub mod tree;
pub mod waterfall;

pub use ids::{SpanId, TraceId};
pub use model::{AnyValue, Batch, Event, KeyValue, Link, Resource, Scope, Span, SpanKind, Status};
pub use model::{StatusCode, Trace};
pub use summary::TraceSummary;
pub use tree::SpanTree;
