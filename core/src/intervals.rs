//! Wall-clock time of several spans: the union of their intervals. A share of the trace is the
//! union over the trace's duration, so twenty overlapping calls never add up to more than the
//! trace (their summed time, "busy", is shown beside it as such).
//!
//! Invariant: for intervals inside a window, `wall_nanos` is at most the window's length, at
//! most `busy_nanos`, and at least the longest interval.

/// How a set of intervals occupies the timeline.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Occupancy {
    /// The intervals' lengths summed (time spent, counting overlaps twice).
    pub busy_nanos: u64,
    /// The length of their union (time during which at least one ran).
    pub wall_nanos: u64,
    /// Whether any two intervals overlap (a fan-out) rather than run one after another.
    pub overlapping: bool,
}

/// The occupancy of `(start, end)` intervals, in any order; an interval ending before it starts
/// counts as empty.
pub fn occupancy(intervals: impl IntoIterator<Item = (u64, u64)>) -> Occupancy {
    let mut sorted: Vec<(u64, u64)> = intervals
        .into_iter()
        .map(|(start, end)| (start, end.max(start)))
        .collect();
    crate::sort::by_u64_key(&mut sorted, |(start, _)| *start);
    let mut result = Occupancy::default();
    // The stretch being merged: from its start to the latest end seen so far.
    let mut current: Option<(u64, u64)> = None;
    for (start, end) in sorted {
        if end == start {
            continue; // an instant occupies no time and overlaps nothing
        }
        result.busy_nanos += end - start;
        current = match current {
            Some((current_start, current_end)) if start < current_end => {
                result.overlapping = true;
                Some((current_start, current_end.max(end)))
            }
            Some((current_start, current_end)) => {
                result.wall_nanos += current_end - current_start;
                Some((start, end))
            }
            None => Some((start, end)),
        };
    }
    if let Some((start, end)) = current {
        result.wall_nanos += end - start;
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn overlapping_calls_count_once_in_wall_time() {
        let fan_out = occupancy([(0, 100), (10, 60), (50, 150), (200, 210)]);
        assert_eq!(
            fan_out,
            Occupancy {
                busy_nanos: 100 + 50 + 100 + 10,
                wall_nanos: 150 + 10,
                overlapping: true,
            }
        );
        // Touching intervals run one after another: a loop.
        let serial = occupancy([(20, 30), (0, 10), (10, 20)]);
        assert_eq!((serial.wall_nanos, serial.overlapping), (30, false));
        assert_eq!(occupancy([]), Occupancy::default());
        assert_eq!(
            occupancy([(5, 1)]).busy_nanos,
            0,
            "a reversed span is empty"
        );
    }

    proptest! {
        /// A share of the trace is never above 100 %: the union of intervals inside a trace
        /// never exceeds the trace, nor the summed time, and covers the longest interval.
        #[test]
        fn a_union_never_exceeds_the_trace(
            trace_start in 0u64..1_000_000,
            trace_nanos in 1u64..1_000_000,
            spans in proptest::collection::vec((0u64..1_000_000, 0u64..1_000_000), 0..60),
        ) {
            let inside: Vec<(u64, u64)> = spans
                .iter()
                .map(|(a, b)| {
                    let start = trace_start + a % trace_nanos;
                    let end = (start + b % trace_nanos).min(trace_start + trace_nanos);
                    (start, end)
                })
                .collect();
            let found = occupancy(inside.iter().copied());
            prop_assert!(found.wall_nanos <= trace_nanos);
            prop_assert!(crate::layout::percent_of(found.wall_nanos, trace_nanos) <= 100.0);
            prop_assert!(found.wall_nanos <= found.busy_nanos);
            let longest = inside.iter().map(|(start, end)| end - start).max().unwrap_or(0);
            prop_assert!(found.wall_nanos >= longest);
        }

        /// The union, the overlap flag and the sum against a count of every nanosecond.
        #[test]
        fn matches_a_count_of_every_nanosecond(
            spans in proptest::collection::vec((0u64..200, 0u64..40), 0..12),
        ) {
            let intervals: Vec<(u64, u64)> = spans.iter().map(|(start, len)| (*start, start + len)).collect();
            let found = occupancy(intervals.iter().copied());
            let running = |at: u64| intervals.iter().filter(|(start, end)| *start <= at && at < *end).count();
            prop_assert_eq!(found.wall_nanos, (0..240).filter(|at| running(*at) > 0).count() as u64);
            prop_assert_eq!(found.busy_nanos, (0..240).map(|at| running(at) as u64).sum::<u64>());
            prop_assert_eq!(found.overlapping, (0..240).any(|at| running(at) > 1));
        }
    }
}
