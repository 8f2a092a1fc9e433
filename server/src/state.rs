//! What every handler shares: the store, the limits, the admission permits, the live feed and
//! the origin policy. Defined apart from the handlers (and from the router in `lib.rs`) so that
//! `api/` depends on the state and the state on nothing of `api/`.

use std::sync::Arc;
use std::time::Duration;

use spanview_core::redact::Redactor;
use tokio::sync::Semaphore;

use crate::demo::DemoFeed;
use crate::live_feed::LiveFeed;
use crate::metrics::Metrics;
use crate::origin_policy::OriginPolicy;
use crate::store::TraceStore;

/// Limits that protect the server from oversized input and overload.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest accepted request body, after decompression.
    pub max_body_bytes: usize,
    /// Export requests decoding or waiting for the store at once; more get `503 Retry-After`.
    pub max_pending_exports: usize,
    /// Largest `POST /api/import` body, before and after decompression.
    pub max_import_bytes: usize,
    /// Imports reading, decoding or storing at once; more get `503 Retry-After`.
    pub max_pending_imports: usize,
    /// Longest time a client may take to send a request body; a slower one gets `408`.
    pub body_read_timeout: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_body_bytes: 20 * 1024 * 1024,
            max_pending_exports: 64,
            max_import_bytes: 256 * 1024 * 1024,
            max_pending_imports: 1,
            body_read_timeout: Duration::from_secs(30),
        }
    }
}

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn TraceStore>,
    pub limits: Limits,
    /// When set, ingest, the API and metrics require `Authorization: Bearer <token>`.
    pub auth_token: Option<Arc<str>>,
    pub metrics: Arc<Metrics>,
    /// Admission control for the write path (see [`Limits::max_pending_exports`]).
    pub export_permits: Arc<Semaphore>,
    /// Admission control for imports (see [`Limits::max_pending_imports`]).
    pub import_permits: Arc<Semaphore>,
    /// Allowed hosts and cross-origin exporters.
    pub origin: Arc<OriginPolicy>,
    /// Applied to every batch before it is stored.
    pub redactor: Arc<Redactor>,
    /// Stored changes, pushed to open dashboards.
    pub live: LiveFeed,
    /// Runs the demo services against this server (`POST /api/demo`); absent in tests that
    /// build the router without a listening address.
    pub demo_feed: Option<Arc<DemoFeed>>,
}

impl AppState {
    pub fn new(store: Arc<dyn TraceStore>, limits: Limits, auth_token: Option<String>) -> Self {
        Self {
            store,
            limits,
            auth_token: auth_token.filter(|token| !token.is_empty()).map(Arc::from),
            metrics: Arc::new(Metrics::default()),
            export_permits: Arc::new(Semaphore::new(limits.max_pending_exports)),
            import_permits: Arc::new(Semaphore::new(limits.max_pending_imports)),
            origin: Arc::default(),
            redactor: Arc::new(Redactor::default()),
            live: LiveFeed::default(),
            demo_feed: None,
        }
    }

    pub fn with_demo_feed(mut self, demo_feed: Arc<DemoFeed>) -> Self {
        self.demo_feed = Some(demo_feed);
        self
    }

    pub fn with_origin_policy(mut self, policy: OriginPolicy) -> Self {
        self.origin = Arc::new(policy);
        self
    }

    pub fn with_redactor(mut self, redactor: Redactor) -> Self {
        self.redactor = Arc::new(redactor);
        self
    }
}
