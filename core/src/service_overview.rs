//! The services overview: per service, how many traces and spans it took part in, how often its
//! spans failed, and how long its requests took (p50/p95/p99 over its entry spans: the spans
//! where a request entered the service, i.e. whose parent is missing or in another service).
//!
//! The store streams spans in; percentiles are computed here so every backend agrees.

use std::collections::{BTreeMap, HashSet};

use serde::{Deserialize, Serialize};

use crate::ids::TraceId;

/// What the overview needs to know about one stored span.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServiceSpan {
    pub service: String,
    pub trace_id: TraceId,
    pub duration_nanos: u64,
    pub is_error: bool,
    /// The parent is absent or belongs to another service.
    pub is_entry: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOverview {
    pub service: String,
    pub n_traces: usize,
    pub n_spans: u64,
    pub n_errors: u64,
    /// Failed spans over all spans, 0 to 1.
    pub error_rate: f64,
    /// Entry-span durations (nearest rank); `None` without entry spans.
    #[serde(with = "optional_nanos")]
    pub p50_nanos: Option<u64>,
    #[serde(with = "optional_nanos")]
    pub p95_nanos: Option<u64>,
    #[serde(with = "optional_nanos")]
    pub p99_nanos: Option<u64>,
}

#[derive(Default)]
struct Accumulator {
    traces: HashSet<TraceId>,
    n_spans: u64,
    n_errors: u64,
    entry_durations: Vec<u64>,
}

/// Collects spans one at a time, so a store can stream them without holding them all.
#[derive(Default)]
pub struct OverviewBuilder {
    by_service: BTreeMap<String, Accumulator>,
}

impl OverviewBuilder {
    pub fn add(&mut self, span: ServiceSpan) {
        let accumulator = self.by_service.entry(span.service).or_default();
        accumulator.traces.insert(span.trace_id);
        accumulator.n_spans += 1;
        accumulator.n_errors += u64::from(span.is_error);
        if span.is_entry {
            accumulator.entry_durations.push(span.duration_nanos);
        }
    }

    /// One row per service, by name.
    pub fn finish(self) -> Vec<ServiceOverview> {
        self.by_service
            .into_iter()
            .map(|(service, mut accumulator)| {
                accumulator.entry_durations.sort_unstable();
                let durations = &accumulator.entry_durations;
                ServiceOverview {
                    service,
                    n_traces: accumulator.traces.len(),
                    n_spans: accumulator.n_spans,
                    n_errors: accumulator.n_errors,
                    error_rate: accumulator.n_errors as f64 / accumulator.n_spans.max(1) as f64,
                    p50_nanos: percentile(durations, 50.0),
                    p95_nanos: percentile(durations, 95.0),
                    p99_nanos: percentile(durations, 99.0),
                }
            })
            .collect()
    }
}

/// The nearest-rank percentile of sorted values: the smallest value with at least `p` % of the
/// values at or below it.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    Some(sorted[rank.clamp(1, sorted.len()) - 1])
}

/// Nanoseconds as decimal strings, like every other 64-bit time in the API.
mod optional_nanos {
    use serde::de::Error;
    use serde::{Deserialize, Deserializer, Serializer};

    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Repr {
        Text(String),
        Number(u64),
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<u64>, D::Error> {
        match Option::<Repr>::deserialize(deserializer)? {
            None => Ok(None),
            Some(Repr::Number(nanos)) => Ok(Some(nanos)),
            Some(Repr::Text(text)) => text.parse().map(Some).map_err(D::Error::custom),
        }
    }

    pub fn serialize<S: Serializer>(value: &Option<u64>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(nanos) => serializer.serialize_str(&nanos.to_string()),
            None => serializer.serialize_none(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn span(
        service: &str,
        trace: u8,
        duration_nanos: u64,
        is_error: bool,
        is_entry: bool,
    ) -> ServiceSpan {
        ServiceSpan {
            service: service.to_owned(),
            trace_id: TraceId([trace; 16]),
            duration_nanos,
            is_error,
            is_entry,
        }
    }

    #[test]
    fn counts_traces_spans_errors_and_entry_percentiles() {
        let mut builder = OverviewBuilder::default();
        for n in 1..=100u64 {
            builder.add(span("api", n as u8, n * 1_000_000, n % 10 == 0, true));
            builder.add(span("api", n as u8, 1, false, false)); // internal: no percentile
        }
        builder.add(span("db", 1, 5, false, true));
        let overview = builder.finish();
        let api = &overview[0];
        assert_eq!(
            (api.service.as_str(), api.n_traces, api.n_spans),
            ("api", 100, 200)
        );
        assert_eq!((api.n_errors, api.error_rate), (10, 0.05));
        assert_eq!(api.p50_nanos, Some(50_000_000));
        assert_eq!(api.p95_nanos, Some(95_000_000));
        assert_eq!(api.p99_nanos, Some(99_000_000));
        assert_eq!(overview[1].p99_nanos, Some(5));
        let json = serde_json::to_value(api).unwrap();
        assert_eq!(json["p50Nanos"], "50000000");
        assert_eq!(json["errorRate"], 0.05);
        let read_back: ServiceOverview = serde_json::from_value(json).unwrap();
        assert_eq!(&read_back, api);
    }

    #[test]
    fn percentile_of_nothing_is_none_and_of_one_is_that_one() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[7], 99.0), Some(7));
        assert_eq!(percentile(&[1, 2, 3, 4], 50.0), Some(2));
    }

    proptest! {
        #[test]
        fn percentiles_are_ordered_values_of_the_input(mut values in proptest::collection::vec(0u64..1_000_000, 1..200)) {
            values.sort_unstable();
            let p50 = percentile(&values, 50.0).unwrap();
            let p95 = percentile(&values, 95.0).unwrap();
            let p99 = percentile(&values, 99.0).unwrap();
            prop_assert!(p50 <= p95 && p95 <= p99);
            prop_assert!(values.contains(&p50) && values.contains(&p99));
            let at_or_below = values.iter().filter(|v| **v <= p95).count();
            prop_assert!(at_or_below as f64 >= 0.95 * values.len() as f64);
        }
    }
}
