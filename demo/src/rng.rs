//! A small seeded random source for background traffic (SplitMix64): the same `--seed` gives the
//! same mix of requests and latencies, up to the order in which concurrent requests draw.

use std::sync::{Arc, Mutex};

#[derive(Debug, Clone)]
pub struct Rng {
    state: Arc<Mutex<u64>>,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self {
            state: Arc::new(Mutex::new(seed)),
        }
    }

    fn next_u64(&self) -> u64 {
        let mut state = self
            .state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    pub fn chance(&self, probability: f64) -> bool {
        self.unit() < probability
    }

    /// Uniform in `low..=high`.
    pub fn between(&self, low: u64, high: u64) -> u64 {
        low + self.next_u64() % (high - low + 1)
    }

    /// `typical_ms` times a log-normal factor (median 1): most values near it, a long tail above,
    /// as real latencies are.
    pub fn latency(&self, typical_ms: f64, spread: f64) -> f64 {
        // Box-Muller: one standard normal draw from two uniforms.
        let u1 = self.unit().max(f64::MIN_POSITIVE);
        let u2 = self.unit();
        let normal = (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos();
        typical_ms * (normal * spread).exp()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_draws_the_same_values() {
        let first = Rng::new(7);
        let second = Rng::new(7);
        for _ in 0..10 {
            assert_eq!(first.next_u64(), second.next_u64());
        }
    }

    #[test]
    fn latencies_center_on_the_typical_value() {
        let rng = Rng::new(1);
        let mut draws: Vec<f64> = (0..1001).map(|_| rng.latency(100.0, 0.3)).collect();
        draws.sort_by(f64::total_cmp);
        let median = draws[500];
        assert!((80.0..125.0).contains(&median), "median {median}");
        assert!(draws.iter().all(|value| *value > 0.0));
    }
}
