//! Prometheus metrics at `/metrics` (OpenMetrics text): what was received, rejected and stored,
//! how long exports took, and how large the store is.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

type Labels = Vec<(&'static str, String)>;

pub struct Metrics {
    registry: Registry,
    pub spans_received: Counter,
    pub spans_rejected: Counter,
    pub spans_stored: Counter,
    /// Export requests by encoding and HTTP status.
    pub export_requests: Family<Labels, Counter>,
    pub export_duration_seconds: Histogram,
    store_bytes: Gauge,
    /// Writes the store could not take (disk full, read-only), by reason.
    store_write_failures: Family<Labels, Counter>,
    /// 1 while the store takes writes, 0 while it cannot (disk full, opened read-only).
    pub store_writable: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("spanview");
        let spans_received = Counter::default();
        registry.register(
            "spans_received",
            "Spans decoded from OTLP export requests",
            spans_received.clone(),
        );
        let spans_rejected = Counter::default();
        registry.register(
            "spans_rejected",
            "Spans dropped for invalid ids (reported as partialSuccess)",
            spans_rejected.clone(),
        );
        let spans_stored = Counter::default();
        registry.register(
            "spans_stored",
            "Spans newly stored (exact duplicates are not counted)",
            spans_stored.clone(),
        );
        let export_requests = Family::<Labels, Counter>::default();
        registry.register(
            "export_requests",
            "OTLP export requests by encoding and status",
            export_requests.clone(),
        );
        // 1 ms to about 16 s.
        let export_duration_seconds = Histogram::new(exponential_buckets(0.001, 2.0, 15));
        registry.register(
            "export_duration_seconds",
            "Time to decode and durably store one OTLP export request",
            export_duration_seconds.clone(),
        );
        let store_bytes = Gauge::default();
        registry.register(
            "store_bytes",
            "Size of the embedded store on disk",
            store_bytes.clone(),
        );
        let store_write_failures = Family::<Labels, Counter>::default();
        registry.register(
            "store_write_failures",
            "Writes the store could not take (reason: disk_full, read_only, io)",
            store_write_failures.clone(),
        );
        let store_writable = Gauge::default();
        store_writable.set(1);
        registry.register(
            "store_writable",
            "1 while the store takes writes, 0 while it cannot (disk full, read-only)",
            store_writable.clone(),
        );
        Self {
            registry,
            spans_received,
            spans_rejected,
            spans_stored,
            export_requests,
            export_duration_seconds,
            store_bytes,
            store_write_failures,
            store_writable,
        }
    }
}

impl Metrics {
    pub fn record_export(&self, encoding: &'static str, status: u16) {
        self.export_requests
            .get_or_create(&vec![
                ("encoding", encoding.to_owned()),
                ("status", status.to_string()),
            ])
            .inc();
    }

    /// Counts a write the store refused for `reason` (`disk_full`, `read_only`, `io`).
    pub fn record_store_write_failure(&self, reason: &'static str) {
        self.store_write_failures
            .get_or_create(&vec![("reason", reason.to_owned())])
            .inc();
    }

    /// The OpenMetrics text exposition, with the store size read now.
    pub fn render(&self, store_bytes: u64) -> String {
        self.store_bytes
            .set(i64::try_from(store_bytes).unwrap_or(i64::MAX));
        let mut text = String::new();
        // Writing to a String cannot fail.
        let _ = encode(&mut text, &self.registry);
        text
    }
}
