//! Simulated time: every wait of the demo is given in scenario milliseconds and multiplied by the
//! time scale, so `--time-scale 0.01` runs 100 times faster with the same proportions.

use std::time::{Duration, Instant};

/// The time scale of one demo run.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    time_scale: f64,
}

impl Pace {
    pub fn new(time_scale: f64) -> Self {
        Self { time_scale }
    }

    /// Scenario milliseconds as real time.
    pub fn scaled(self, scenario_ms: f64) -> Duration {
        Duration::from_secs_f64((scenario_ms * self.time_scale / 1000.0).max(0.0))
    }

    /// Real time as scenario milliseconds.
    fn scenario_ms(self, real: Duration) -> f64 {
        real.as_secs_f64() * 1000.0 / self.time_scale
    }

    /// Waits `scenario_ms` (scaled): the simulated work of a query, a cache read, rendering.
    pub async fn work(self, scenario_ms: f64) {
        sleep_until(Instant::now() + self.scaled(scenario_ms)).await;
    }

    /// A handler's timeline, starting now.
    pub fn timeline(self) -> Timeline {
        Timeline {
            pace: self,
            start: Instant::now(),
            cursor_ms: 0.0,
        }
    }
}

/// The planned steps of one request, in scenario milliseconds from its start: wait a gap, do a
/// step (a query, a call), note how long it was planned to take, wait the next gap. A local step
/// that ends within a millisecond of its plan keeps the plan, and a call moves it only by the
/// callee's own lateness (its `Server-Timing`), so the cost of real HTTP on loopback is absorbed
/// by the gaps instead of adding up and the scenario's proportions hold at small time scales; a
/// step that runs late (a slow query, a slow downstream service) pushes the later steps back.
#[derive(Debug, Clone, Copy)]
pub struct Timeline {
    pace: Pace,
    start: Instant,
    cursor_ms: f64,
}

impl Timeline {
    /// Real overhead that a step may add without moving the plan.
    const TOLERANCE: Duration = Duration::from_millis(1);

    /// Waits until `gap_ms` after the planned end of the previous step (at once if that passed).
    pub async fn after(&mut self, gap_ms: f64) {
        self.cursor_ms += gap_ms;
        sleep_until(self.start + self.pace.scaled(self.cursor_ms)).await;
    }

    /// The call just made was planned to take `nominal_ms` in the service it called, which
    /// reported `server_time` (`Server-Timing`). Only the callee's own lateness moves the plan:
    /// the network's share is absorbed by the gaps that follow.
    pub fn took_remote(&mut self, nominal_ms: f64, server_time: Option<Duration>) {
        let Some(server_time) = server_time else {
            self.took(nominal_ms);
            return;
        };
        let late_by = server_time.saturating_sub(self.pace.scaled(nominal_ms));
        self.cursor_ms += nominal_ms + self.pace.scenario_ms(late_by);
    }

    /// The step just done was planned to take `nominal_ms`.
    pub fn took(&mut self, nominal_ms: f64) {
        self.cursor_ms = self.planned_end(nominal_ms, self.start.elapsed());
    }

    /// Where the plan stands after a step of `nominal_ms` that ended `elapsed` after the start.
    fn planned_end(&self, nominal_ms: f64, elapsed: Duration) -> f64 {
        let late_by = elapsed
            .saturating_sub(self.pace.scaled(self.cursor_ms + nominal_ms))
            .saturating_sub(Self::TOLERANCE);
        self.cursor_ms + nominal_ms + self.pace.scenario_ms(late_by)
    }
}

/// Sleeps until `deadline` with sub-millisecond precision: tokio's timer rounds up to whole
/// milliseconds, which at `--time-scale 0.01` would be as long as the scenario's 5 ms steps.
async fn sleep_until(deadline: Instant) {
    let now = Instant::now();
    if deadline <= now {
        return;
    }
    let remaining = deadline - now;
    if remaining > Duration::from_millis(3) {
        // The bulk on tokio's timer, the last milliseconds precisely on a blocking thread.
        tokio::time::sleep(remaining - Duration::from_millis(2)).await;
    }
    let finish = tokio::task::spawn_blocking(move || {
        let now = Instant::now();
        if deadline > now {
            std::thread::sleep(deadline - now);
        }
    });
    // The closure cannot panic; a cancelled runtime only ends the wait early.
    let _ = finish.await;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scaling_keeps_proportions() {
        let pace = Pace::new(0.01);
        assert_eq!(pace.scaled(2800.0), Duration::from_millis(28));
        assert_eq!(pace.scaled(3200.0), Duration::from_millis(32));
        assert_eq!(Pace::new(1.0).scaled(50.0), Duration::from_millis(50));
    }

    #[test]
    fn a_timeline_absorbs_small_delays_and_follows_large_ones() {
        let mut timeline = Pace::new(0.01).timeline();
        timeline.cursor_ms = 100.0;
        // Planned to end at 300 ms (3 ms real); 0.5 ms late is within the tolerance.
        assert_eq!(
            timeline.planned_end(200.0, Duration::from_micros(3_500)),
            300.0
        );
        // 10 ms real late: the plan follows, less the tolerance (1 ms real = 100 ms).
        let end = timeline.planned_end(200.0, Duration::from_millis(13));
        assert!((end - 1200.0).abs() < 1e-6, "{end}");
        // A callee that took its planned time does not move the plan, whatever the network cost.
        timeline.took_remote(200.0, Some(Duration::from_millis(2)));
        assert_eq!(timeline.cursor_ms, 300.0);
        timeline.took_remote(100.0, Some(Duration::from_millis(6)));
        assert!((timeline.cursor_ms - 900.0).abs() < 1e-6);
    }

    #[tokio::test]
    async fn waits_end_at_their_deadline() {
        let mut timeline = Pace::new(0.01).timeline();
        timeline.after(500.0).await;
        assert!(timeline.start.elapsed() >= Duration::from_millis(5));
    }
}
