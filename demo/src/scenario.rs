//! The scenarios of `shared/scenario.md` the demo reproduces. A scenario request carries its name
//! in the `demo.scenario` baggage entry, so every service on its path takes the scenario's exact
//! timings instead of the background traffic's random ones.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scenario {
    /// The 3.2 s order page: inventory's unindexed query, cache miss.
    SlowOrder,
    /// The same page after the fix: 350 ms, cache hit 48/50.
    FixedOrder,
    /// The order page while promotion-service's database connection fails: an error trace.
    PromotionOutage,
    /// The product list with one category query per product: 21 queries, 4200 ms.
    NPlusOne,
    /// The product list with one batched category query: 2 queries, 280 ms.
    BatchedProducts,
}

impl Scenario {
    pub const ALL: [Scenario; 5] = [
        Scenario::SlowOrder,
        Scenario::FixedOrder,
        Scenario::PromotionOutage,
        Scenario::NPlusOne,
        Scenario::BatchedProducts,
    ];

    /// The `demo.scenario` baggage value, also the label the demo prints.
    pub fn name(self) -> &'static str {
        match self {
            Scenario::SlowOrder => "slow-order",
            Scenario::FixedOrder => "fixed-order",
            Scenario::PromotionOutage => "promotion-outage",
            Scenario::NPlusOne => "n-plus-one",
            Scenario::BatchedProducts => "batched-products",
        }
    }

    pub fn from_baggage(value: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.name() == value)
    }

    /// What the scenario shows, for the demo's report.
    pub fn description(self) -> &'static str {
        match self {
            Scenario::SlowOrder => {
                "order page before the fix: inventory GET /stock 2800 of 3200 ms (87.5 %)"
            }
            Scenario::FixedOrder => "order page after the index and batched cache read: 350 ms",
            Scenario::PromotionOutage => {
                "order page failing: promotion-service lost its database (502, exceptions)"
            }
            Scenario::NPlusOne => "product list with an N+1 query: 21 queries, 4200 ms",
            Scenario::BatchedProducts => "product list after batching: 2 queries, 280 ms",
        }
    }

    /// The scenario's duration of the whole request, in scenario milliseconds.
    pub fn nominal_ms(self) -> f64 {
        match self {
            Scenario::SlowOrder => 3200.0,
            Scenario::FixedOrder => 350.0,
            Scenario::PromotionOutage => 295.0,
            Scenario::NPlusOne => 4200.0,
            Scenario::BatchedProducts => 280.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_through_baggage() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_baggage(scenario.name()), Some(scenario));
        }
        assert_eq!(Scenario::from_baggage("other"), None);
    }
}
