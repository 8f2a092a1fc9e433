//! Reusable views, thin wiring over `spanview-core`.

pub mod api_error;
pub mod column_resize;
pub mod compare_with;
pub mod flame_graph;
pub mod live;
pub mod scatter;
pub mod services_overview;
pub mod show_more_rows;
pub mod side_by_side;
pub mod statistics;
pub mod theme;
pub mod time_zone;
pub mod uploads;
pub mod waterfall;
