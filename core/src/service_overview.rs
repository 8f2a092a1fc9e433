//! The services overview on the dashboard: per service over a time range, the requests it
//! received, how many failed, and their p50/p95/p99 latency.
//!
//! It is read from the per-minute aggregates ([`crate::service_metrics`]), like the service map
//! and the performance charts, so its cost does not grow with the spans stored: a request is
//! what the aggregates count as one (a server or consumer span, a root, or a span entered from
//! another service), and its percentiles come from the latency histograms (within 12.5 % of
//! the exact ones). Peers without spans of their own (databases named by `db.system`) are on
//! the map, not here.

use serde::{Deserialize, Serialize};

use crate::service_metrics::{Counters, EdgeKey, OperationKey, ServiceMap, Stats};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceOverview {
    pub service: String,
    #[serde(flatten)]
    pub stats: Stats,
}

impl ServiceOverview {
    /// One row per service with spans, by name, from aggregate rows of any minutes (summed).
    pub fn from_rows(
        operations: impl IntoIterator<Item = (OperationKey, Counters)>,
        edges: impl IntoIterator<Item = (EdgeKey, Counters)>,
    ) -> Vec<ServiceOverview> {
        // The map's service nodes are exactly the overview's rows: one computation for both.
        ServiceMap::from_rows(operations, edges)
            .nodes
            .into_iter()
            .filter(|node| !node.is_peer)
            .map(|node| ServiceOverview {
                service: node.name,
                stats: node.stats,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::service_metrics::bucket_of;

    fn request(service: &str, minute: u64, nanos: u64, errors: u64) -> (OperationKey, Counters) {
        (
            OperationKey {
                minute,
                service: service.into(),
                operation: "GET /".into(),
                bucket: bucket_of(nanos),
            },
            Counters {
                n: 1,
                n_errors: errors,
            },
        )
    }

    #[test]
    fn counts_requests_errors_and_percentiles_per_service_over_every_minute() {
        let mut operations = Vec::new();
        for n in 1..=100u64 {
            operations.push(request("api", n % 7, n * 1_000_000, u64::from(n % 10 == 0)));
        }
        operations.push(request("db", 3, 5, 0));
        let call = |caller: &str, callee: &str| {
            (
                EdgeKey {
                    minute: 0,
                    caller: caller.into(),
                    callee: callee.into(),
                    bucket: 0,
                },
                Counters { n: 1, n_errors: 0 },
            )
        };
        // A caller without requests of its own is a service; a callee without spans is a peer.
        let edges = vec![call("cron", "api"), call("api", "postgresql")];
        let overview = ServiceOverview::from_rows(operations, edges);
        let names: Vec<&str> = overview.iter().map(|row| row.service.as_str()).collect();
        assert_eq!(names, ["api", "cron", "db"]);
        let api = &overview[0].stats;
        assert_eq!((api.requests, api.errors, api.error_rate), (100, 10, 0.1));
        // Bucket middles: within an eighth of the exact 50, 95 and 99 ms.
        for (read, exact) in [
            (api.p50_nanos, 50),
            (api.p95_nanos, 95),
            (api.p99_nanos, 99),
        ] {
            let read = read.unwrap() as f64;
            let exact = exact as f64 * 1e6;
            assert!((read - exact).abs() <= exact * 0.125, "{read} for {exact}");
        }
        assert_eq!(overview[1].stats.requests, 0);
        assert_eq!(overview[1].stats.p50_nanos, None);
        assert_eq!(overview[2].stats.p99_nanos, Some(5));
        let json = serde_json::to_value(&overview[0]).unwrap();
        assert_eq!(json["service"], "api");
        assert_eq!(json["requests"], 100);
        assert_eq!(json["errorRate"], 0.1);
        let read_back: ServiceOverview = serde_json::from_value(json).unwrap();
        assert_eq!(read_back, overview[0]);
    }
}
