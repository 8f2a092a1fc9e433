//! The time axis of the dashboard's scatter plot: round instants (every 10 s, 5 min, 6 h, …)
//! across a span of wall-clock time.

const SECOND: u64 = 1_000_000_000;

/// The steps an axis may take, shortest first.
const STEPS: [u64; 20] = [
    SECOND,
    2 * SECOND,
    5 * SECOND,
    10 * SECOND,
    15 * SECOND,
    30 * SECOND,
    60 * SECOND,
    2 * 60 * SECOND,
    5 * 60 * SECOND,
    10 * 60 * SECOND,
    15 * 60 * SECOND,
    30 * 60 * SECOND,
    3600 * SECOND,
    2 * 3600 * SECOND,
    3 * 3600 * SECOND,
    6 * 3600 * SECOND,
    12 * 3600 * SECOND,
    86_400 * SECOND,
    2 * 86_400 * SECOND,
    7 * 86_400 * SECOND,
];

/// The ticks of an axis from `first_nanos` to `last_nanos` (Unix ns): the multiples of the
/// shortest step that puts at most `max_ticks` of them in the range, and that step (past
/// `max_ticks` weeks, a whole number of weeks).
pub fn time_ticks(first_nanos: u64, last_nanos: u64, max_ticks: usize) -> (u64, Vec<u64>) {
    let max_ticks = max_ticks.max(1) as u64;
    let range = last_nanos.saturating_sub(first_nanos);
    let step = STEPS
        .iter()
        .copied()
        .find(|step| range / step < max_ticks)
        .unwrap_or_else(|| {
            let week = STEPS[STEPS.len() - 1];
            range.div_ceil(max_ticks).div_ceil(week) * week
        });
    let mut ticks = Vec::new();
    let mut tick = first_nanos.div_ceil(step).saturating_mul(step);
    while tick <= last_nanos {
        ticks.push(tick);
        tick = tick.saturating_add(step);
        if tick == u64::MAX {
            break;
        }
    }
    (step, ticks)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_are_round_and_inside_the_range() {
        // 12:00:07 to 12:04:50 (as seconds since midnight): every minute.
        let (step, ticks) = time_ticks(43_207 * SECOND, 43_490 * SECOND, 6);
        assert_eq!(step, 60 * SECOND);
        assert_eq!(
            ticks,
            [43_260, 43_320, 43_380, 43_440]
                .map(|s| s * SECOND)
                .to_vec()
        );
    }

    #[test]
    fn a_short_range_gets_seconds_and_a_long_one_days() {
        assert_eq!(time_ticks(0, 3 * SECOND, 6).0, SECOND);
        assert_eq!(time_ticks(0, 5 * 86_400 * SECOND, 6).0, 86_400 * SECOND);
        let (step, ticks) = time_ticks(0, 3650 * 86_400 * SECOND, 6);
        assert_eq!(step % (7 * 86_400 * SECOND), 0);
        assert!(ticks.len() <= 6, "{ticks:?}");
    }

    #[test]
    fn a_single_instant_has_at_most_one_tick() {
        assert_eq!(time_ticks(5 * SECOND, 5 * SECOND, 6).1, vec![5 * SECOND]);
        assert!(time_ticks(5 * SECOND + 1, 5 * SECOND + 1, 6).1.is_empty());
        assert!(time_ticks(u64::MAX - 1, u64::MAX, 6).1.len() <= 1);
    }
}
