//! Waterfall geometry and labels: pure functions from times to percentages and text, so that
//! the UI only places what core computed.

use crate::model::Span;

/// The time range a waterfall spans: from the earliest start to the latest end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeWindow {
    pub start_nanos: u64,
    pub end_nanos: u64,
}

impl TimeWindow {
    pub fn of_spans(spans: &[Span]) -> Option<Self> {
        let start_nanos = spans.iter().map(|span| span.start_nanos).min()?;
        let end_nanos = spans
            .iter()
            .map(|span| span.end_nanos.max(span.start_nanos))
            .max()?;
        Some(Self {
            start_nanos,
            end_nanos,
        })
    }

    pub fn duration_nanos(&self) -> u64 {
        self.end_nanos.saturating_sub(self.start_nanos)
    }

    /// Where an instant falls, in percent of the window, clamped to 0..=100.
    pub fn percent_at(&self, nanos: u64) -> f64 {
        let duration = self.duration_nanos();
        if duration == 0 {
            return 0.0;
        }
        let offset = nanos.saturating_sub(self.start_nanos).min(duration);
        offset as f64 * 100.0 / duration as f64
    }

    /// The part of this window from `from_percent` to `to_percent` of it (a zoomed view).
    pub fn slice(&self, from_percent: f64, to_percent: f64) -> Self {
        let duration = self.duration_nanos() as f64;
        let at = |percent: f64| {
            self.start_nanos + (duration * percent.clamp(0.0, 100.0) / 100.0).round() as u64
        };
        Self {
            start_nanos: at(from_percent.min(to_percent)),
            end_nanos: at(from_percent.max(to_percent)),
        }
    }
}

/// A span's bar, in percent of the window's width.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Bar {
    pub left_percent: f64,
    pub width_percent: f64,
}

impl Bar {
    /// This bar (in percent of the full window) as placed in a view that shows `from_percent`
    /// to `to_percent` of the full window; parts outside the view fall outside 0..100.
    pub fn zoomed(&self, from_percent: f64, to_percent: f64) -> Bar {
        let scale = 100.0 / (to_percent - from_percent).max(1e-9);
        Bar {
            left_percent: (self.left_percent - from_percent) * scale,
            width_percent: self.width_percent * scale,
        }
    }
}

/// `part` as a percentage of `total` (the root row is 100 %).
pub fn percent_of(part_nanos: u64, total_nanos: u64) -> f64 {
    if total_nanos == 0 {
        return 0.0;
    }
    part_nanos as f64 * 100.0 / total_nanos as f64
}

/// A tick on the time axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Tick {
    pub left_percent: f64,
    pub label: String,
}

/// About `target_count` ticks at a round step (1, 2 or 5 times a power of ten nanoseconds).
pub fn ticks(window: TimeWindow, target_count: u32) -> Vec<Tick> {
    ticks_in(window, window, target_count)
}

/// Ticks for a zoomed `view` of the `full` window: labels stay offsets from the full window's
/// start (the trace's start), at round steps for the view's length.
pub fn ticks_in(full: TimeWindow, view: TimeWindow, target_count: u32) -> Vec<Tick> {
    let duration = view.duration_nanos();
    if duration == 0 || target_count == 0 {
        return vec![Tick {
            left_percent: 0.0,
            label: "0".to_owned(),
        }];
    }
    let raw_step = (duration / u64::from(target_count)).max(1);
    let mut magnitude = 1u64;
    while magnitude.saturating_mul(10) <= raw_step {
        magnitude *= 10;
    }
    let step = [1u64, 2, 5, 10]
        .into_iter()
        .map(|factor| factor.saturating_mul(magnitude))
        .find(|candidate| *candidate >= raw_step)
        .unwrap_or(magnitude * 10);
    let mut out = Vec::new();
    let view_offset = view.start_nanos.saturating_sub(full.start_nanos);
    let mut offset = view_offset.div_ceil(step).saturating_mul(step);
    while offset <= view_offset + duration {
        out.push(Tick {
            left_percent: (offset - view_offset) as f64 * 100.0 / duration as f64,
            label: if offset == 0 {
                "0".to_owned()
            } else {
                format_duration(offset)
            },
        });
        offset = match offset.checked_add(step) {
            Some(next) => next,
            None => break,
        };
    }
    out
}

/// A duration as people read it: `850 ns`, `12.5 µs`, `8.25 ms`, `2800 ms`, `12.5 s`.
pub fn format_duration(nanos: u64) -> String {
    const MICRO: u64 = 1_000;
    const MILLI: u64 = 1_000_000;
    const SECOND: u64 = 1_000_000_000;
    match nanos {
        0..MICRO => format!("{nanos} ns"),
        MICRO..MILLI => format!("{} µs", trim_decimals(nanos as f64 / MICRO as f64, 1)),
        MILLI..10_000_000 => format!("{} ms", trim_decimals(nanos as f64 / MILLI as f64, 2)),
        10_000_000..100_000_000 => format!("{} ms", trim_decimals(nanos as f64 / MILLI as f64, 1)),
        // Whole milliseconds up to 10 s: "3200 ms" compares at a glance with "350 ms".
        100_000_000..10_000_000_000 => format!("{} ms", (nanos as f64 / MILLI as f64).round()),
        _ => format!("{} s", trim_decimals(nanos as f64 / SECOND as f64, 2)),
    }
}

/// A percentage with one decimal, as in "87.5 %".
pub fn format_percent(percent: f64) -> String {
    format!("{percent:.1} %")
}

fn trim_decimals(value: f64, decimals: usize) -> String {
    let text = format!("{value:.decimals$}");
    if text.contains('.') {
        text.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        text
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_durations_for_reading() {
        let cases = [
            (0, "0 ns"),
            (850, "850 ns"),
            (12_500, "12.5 µs"),
            (8_250_000, "8.25 ms"),
            (50_000_000, "50 ms"),
            (2_800_000_000, "2800 ms"),
            (3_200_000_000, "3200 ms"),
            (12_500_000_000, "12.5 s"),
        ];
        for (nanos, expected) in cases {
            assert_eq!(format_duration(nanos), expected, "{nanos} ns");
        }
    }

    #[test]
    fn a_zoomed_view_places_bars_and_ticks_in_the_slice() {
        let full = TimeWindow {
            start_nanos: 1_000,
            end_nanos: 1_000 + 3_200_000_000,
        };
        // Zoom on 270 ms .. 3070 ms: GET /stock of the slow order fills the view.
        let (from, to) = (270.0 / 32.0, 3070.0 / 32.0);
        let view = full.slice(from, to);
        assert_eq!(view.start_nanos - full.start_nanos, 270_000_000);
        assert_eq!(view.duration_nanos(), 2_800_000_000);
        let stock = Bar {
            left_percent: from,
            width_percent: to - from,
        }
        .zoomed(from, to);
        assert!(stock.left_percent.abs() < 1e-9 && (stock.width_percent - 100.0).abs() < 1e-9);
        let labels: Vec<String> = ticks_in(full, view, 6)
            .into_iter()
            .map(|tick| tick.label)
            .collect();
        assert_eq!(
            labels,
            [
                "500 ms", "1000 ms", "1500 ms", "2000 ms", "2500 ms", "3000 ms"
            ]
        );
        let first = &ticks_in(full, view, 6)[0];
        assert!((first.left_percent - 230.0 / 28.0).abs() < 1e-9);
    }

    #[test]
    fn ticks_are_round_and_cover_the_window() {
        let window = TimeWindow {
            start_nanos: 1_000,
            end_nanos: 1_000 + 3_200_000_000,
        };
        let labels: Vec<String> = ticks(window, 6)
            .into_iter()
            .map(|tick| tick.label)
            .collect();
        assert_eq!(labels, ["0", "1000 ms", "2000 ms", "3000 ms"]);
    }

    #[test]
    fn percent_of_total_matches_the_scenario() {
        assert_eq!(
            format_percent(percent_of(2_800_000_000, 3_200_000_000)),
            "87.5 %"
        );
        assert_eq!(percent_of(5, 0), 0.0);
    }
}
