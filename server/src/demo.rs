//! Demo data for a first look: the scenario's traces with fixed ids (`serve --demo`, used by the
//! tests), and the instrumented demo services run against this server ([`DemoFeed`]).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use spanview_core::scenario;

use crate::store::{StoreError, TraceStore};

/// Stores the scenario traces unless they are already stored. Returns how many were added.
pub fn load_scenario(store: &dyn TraceStore) -> Result<usize, StoreError> {
    let now_nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    let minute = 60 * 1_000_000_000;
    let traces = [
        scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, now_nanos - 10 * minute),
        scenario::fixed_order(scenario::FIXED_ORDER_TRACE_ID, now_nanos - 5 * minute),
        scenario::n_plus_one_products(scenario::N_PLUS_ONE_TRACE_ID, now_nanos - 20 * minute),
        scenario::batched_products(scenario::BATCHED_PRODUCTS_TRACE_ID, now_nanos - 15 * minute),
    ];
    let mut added = 0;
    for trace in traces {
        if store.trace(trace.trace_id)?.is_none() {
            store.write(&trace.batch)?;
            added += 1;
        }
    }
    Ok(added)
}

/// Runs the instrumented demo services (`spanview demo`) against this server, at most one run at
/// a time: for `serve --run-demo` and the dashboard's "Load the demo" button.
#[derive(Debug)]
pub struct DemoFeed {
    endpoint: String,
    auth_token: Option<String>,
    running: AtomicBool,
}

/// What [`DemoFeed::start`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DemoStart {
    Started,
    AlreadyRunning,
}

impl DemoFeed {
    /// `address` is where this server listens; the services export to it like any SDK would.
    pub fn new(address: SocketAddr, auth_token: Option<String>) -> Arc<Self> {
        Arc::new(Self {
            endpoint: format!("http://{address}"),
            auth_token,
            running: AtomicBool::new(false),
        })
    }

    pub fn is_running(&self) -> bool {
        self.running.load(Ordering::Acquire)
    }

    /// Starts a run in the background unless one is under way; returns at once.
    pub fn start(self: &Arc<Self>) -> DemoStart {
        if self.running.swap(true, Ordering::AcqRel) {
            return DemoStart::AlreadyRunning;
        }
        let feed = Arc::clone(self);
        tokio::spawn(async move {
            feed.run_once().await;
            feed.running.store(false, Ordering::Release);
        });
        DemoStart::Started
    }

    async fn run_once(&self) {
        tracing::info!("running the demo services (about 20 s); traces appear as they finish");
        let config = spanview_demo::DemoConfig {
            endpoint: self.endpoint.clone(),
            auth_token: self.auth_token.clone(),
            ..spanview_demo::DemoConfig::default()
        };
        match spanview_demo::run(&config).await {
            Ok(report) => {
                for line in report.render().lines() {
                    tracing::info!("demo: {}", line.trim());
                }
            }
            Err(error) => tracing::error!("the demo services failed: {error}"),
        }
    }
}
