//! The dashboard's scatter plot of trace duration over start time, as numbers: where each
//! trace's dot goes, where the time axis's labels sit, and which time range a drag across the
//! plot selects. Positions are in the plot's SVG viewBox units ([`WIDTH`] × [`HEIGHT`], y down);
//! `app/src/components/scatter.rs` draws them.

use crate::time_axis;

/// The plot's viewBox width; the SVG is stretched to the page's width.
pub const WIDTH: f64 = 1000.0;
/// The plot's viewBox height.
pub const HEIGHT: f64 = 180.0;
/// Room kept free on every side, so dots at the edges are whole.
pub const PAD: f64 = 10.0;
/// A drag across fewer viewBox units than this is a click (on a dot, perhaps), not a range.
pub const MIN_BRUSH: f64 = 8.0;

const NANOS_PER_DAY: u64 = 86_400 * 1_000_000_000;

/// The axes' extent over a set of traces: their start times and durations.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScatterScale {
    /// The earliest and latest start (Unix ns): the time axis's ends.
    pub first_nanos: u64,
    pub last_nanos: u64,
    /// The shortest and longest duration, at least 1 ns: the log scale's bottom and the top.
    pub fastest_nanos: u64,
    pub slowest_nanos: u64,
}

impl ScatterScale {
    /// The scale of a plot of `(start_nanos, duration_nanos)` points.
    pub fn new(points: impl IntoIterator<Item = (u64, u64)>) -> Self {
        let mut scale: Option<(u64, u64, u64, u64)> = None;
        for (start, duration) in points {
            let (first, last, fastest, slowest) =
                scale.get_or_insert((start, start, duration, duration));
            *first = (*first).min(start);
            *last = (*last).max(start);
            *fastest = (*fastest).min(duration);
            *slowest = (*slowest).max(duration);
        }
        let (first_nanos, last_nanos, fastest, slowest) = scale.unwrap_or_default();
        Self {
            first_nanos,
            last_nanos,
            fastest_nanos: fastest.max(1),
            slowest_nanos: slowest.max(1),
        }
    }

    /// The time the axis covers, at least 1 ns.
    fn range_nanos(&self) -> f64 {
        (self.last_nanos - self.first_nanos).max(1) as f64
    }

    /// Every trace started at the same instant: their dots go in the middle.
    fn one_instant(&self) -> bool {
        self.last_nanos == self.first_nanos
    }

    /// A dot's x for a trace started at `start_nanos`.
    pub fn x(&self, start_nanos: u64) -> f64 {
        if self.one_instant() {
            WIDTH / 2.0
        } else {
            PAD + (start_nanos - self.first_nanos) as f64 / self.range_nanos() * (WIDTH - 2.0 * PAD)
        }
    }

    /// A dot's y for a trace that took `duration_nanos`, on a linear or logarithmic scale.
    pub fn y(&self, duration_nanos: u64, log: bool) -> f64 {
        HEIGHT - PAD - self.height_fraction(duration_nanos, log) * (HEIGHT - 2.0 * PAD)
    }

    /// Where a duration sits, from 0 (bottom) to 1 (top): linear from zero, or logarithmic from
    /// the fastest trace, so that one outlier does not squash every other dot.
    fn height_fraction(&self, duration_nanos: u64, log: bool) -> f64 {
        if log {
            let low = (self.fastest_nanos as f64).ln();
            let high = (self.slowest_nanos as f64).ln();
            if high <= low {
                0.5
            } else {
                ((duration_nanos.max(1) as f64).ln() - low) / (high - low)
            }
        } else {
            duration_nanos as f64 / self.slowest_nanos as f64
        }
    }

    /// The duration at the bottom of the plot: 0, or the fastest trace's on the log scale.
    pub fn bottom_nanos(&self, log: bool) -> u64 {
        if log { self.fastest_nanos } else { 0 }
    }

    /// The time axis's ticks (at most `max_ticks`) and their step: see [`time_axis::time_ticks`].
    pub fn ticks(&self, max_ticks: usize) -> (u64, Vec<u64>) {
        time_axis::time_ticks(self.first_nanos, self.last_nanos, max_ticks)
    }

    /// Whether the axis covers a day or more (its labels then carry the date).
    pub fn spans_days(&self) -> bool {
        self.last_nanos - self.first_nanos >= NANOS_PER_DAY
    }

    /// Where the label of the tick at `tick_nanos` sits, in percent of the plot's width.
    pub fn label_left_percent(&self, tick_nanos: u64) -> f64 {
        if self.one_instant() {
            50.0
        } else {
            (PAD + (tick_nanos - self.first_nanos) as f64 / self.range_nanos()
                * (WIDTH - 2.0 * PAD))
                / WIDTH
                * 100.0
        }
    }

    /// The start time under `x`, clamped to the axis.
    pub fn time_at(&self, x: f64) -> u64 {
        let fraction = ((x - PAD) / (WIDTH - 2.0 * PAD)).clamp(0.0, 1.0);
        self.first_nanos + (fraction * self.range_nanos()) as u64
    }

    /// The start-time range a drag from `anchor_x` to `x` selects (earliest first), or `None`
    /// for a drag too short to be one (a click) or a plot of one instant.
    pub fn brushed_range(&self, anchor_x: f64, x: f64) -> Option<(u64, u64)> {
        if (x - anchor_x).abs() < MIN_BRUSH || self.one_instant() {
            return None;
        }
        Some((self.time_at(anchor_x.min(x)), self.time_at(anchor_x.max(x))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECOND: u64 = 1_000_000_000;

    /// Three traces: at 0 s taking 10 ms, at 5 s taking 1 s, at 10 s taking 100 ms.
    fn three_traces() -> ScatterScale {
        ScatterScale::new([
            (1_000 * SECOND, 10_000_000),
            (1_005 * SECOND, SECOND),
            (1_010 * SECOND, 100_000_000),
        ])
    }

    #[test]
    fn the_extent_is_the_earliest_and_latest_start_and_the_shortest_and_longest_duration() {
        let scale = three_traces();
        assert_eq!(
            scale,
            ScatterScale {
                first_nanos: 1_000 * SECOND,
                last_nanos: 1_010 * SECOND,
                fastest_nanos: 10_000_000,
                slowest_nanos: SECOND,
            }
        );
    }

    #[test]
    fn dots_span_the_width_between_the_pads() {
        let scale = three_traces();
        assert_eq!(scale.x(1_000 * SECOND), PAD);
        assert_eq!(scale.x(1_005 * SECOND), WIDTH / 2.0);
        assert_eq!(scale.x(1_010 * SECOND), WIDTH - PAD);
    }

    #[test]
    fn linear_durations_go_up_from_zero_to_the_slowest() {
        let scale = three_traces();
        assert_eq!(scale.y(SECOND, false), PAD);
        assert_eq!(scale.y(0, false), HEIGHT - PAD);
        assert!((scale.y(100_000_000, false) - (HEIGHT - PAD - 16.0)).abs() < 1e-9);
        assert_eq!(scale.bottom_nanos(false), 0);
    }

    #[test]
    fn log_durations_go_up_from_the_fastest_to_the_slowest() {
        let scale = three_traces();
        assert!((scale.y(10_000_000, true) - (HEIGHT - PAD)).abs() < 1e-9);
        assert!((scale.y(SECOND, true) - PAD).abs() < 1e-9);
        // 100 ms is half way (in orders of magnitude) between 10 ms and 1 s.
        assert!((scale.y(100_000_000, true) - HEIGHT / 2.0).abs() < 1e-9);
        assert_eq!(scale.bottom_nanos(true), 10_000_000);
    }

    #[test]
    fn one_instant_and_one_duration_sit_in_the_middle() {
        let scale = ScatterScale::new([(7 * SECOND, 5), (7 * SECOND, 5)]);
        assert_eq!(scale.x(7 * SECOND), WIDTH / 2.0);
        assert_eq!(scale.label_left_percent(7 * SECOND), 50.0);
        assert_eq!(scale.y(5, true), HEIGHT / 2.0);
        assert_eq!(scale.brushed_range(0.0, WIDTH), None);
    }

    #[test]
    fn zero_durations_count_as_one_nanosecond() {
        let scale = ScatterScale::new([(0, 0), (SECOND, 0)]);
        assert_eq!((scale.fastest_nanos, scale.slowest_nanos), (1, 1));
        assert_eq!(scale.y(0, false), HEIGHT - PAD);
        assert_eq!(ScatterScale::new([]).slowest_nanos, 1);
    }

    #[test]
    fn labels_sit_where_the_dots_of_their_time_would() {
        let scale = three_traces();
        let tick = 1_005 * SECOND;
        assert_eq!(
            scale.label_left_percent(tick),
            scale.x(tick) / WIDTH * 100.0
        );
        let (step, ticks) = scale.ticks(6);
        assert_eq!(step, 2 * SECOND);
        assert_eq!(ticks.first(), Some(&(1_000 * SECOND)));
        assert!(!scale.spans_days());
        assert!(ScatterScale::new([(0, 1), (86_400 * SECOND, 1)]).spans_days());
    }

    #[test]
    fn a_drag_selects_the_times_under_it_and_a_short_one_is_a_click() {
        let scale = three_traces();
        // Right to left, from the middle to past the left edge.
        assert_eq!(
            scale.brushed_range(WIDTH / 2.0, -50.0),
            Some((1_000 * SECOND, 1_005 * SECOND))
        );
        assert_eq!(scale.brushed_range(500.0, 500.0 + MIN_BRUSH - 0.5), None);
        assert_eq!(scale.time_at(WIDTH + 100.0), 1_010 * SECOND);
    }
}
