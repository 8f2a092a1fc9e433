//! The load generator: an uninstrumented HTTP client, like a browser, so each request's trace
//! starts at the service it calls. It learns each trace id from the `traceresponse` header.

use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use http::{HeaderMap, HeaderValue};

use crate::DemoError;
use crate::clock::Pace;
use crate::rng::Rng;
use crate::scenario::Scenario;
use crate::services::{Deployment, Shop};

/// The credential the load generator sends, as a browser sends its session: the services must
/// record it only as `[REDACTED]`.
pub const DEMO_CREDENTIAL: &str = "Bearer demo-session-7f3a9c";

const USER_AGENT: &str = concat!("spanview-demo-load/", env!("CARGO_PKG_VERSION"));

/// Background requests in flight at once.
const BACKGROUND_CONCURRENCY: u32 = 4;

/// One request the load generator made.
#[derive(Debug, Clone)]
pub struct Sent {
    pub trace_id: String,
    pub status: u16,
    pub duration: Duration,
}

pub struct LoadGenerator {
    client: reqwest::Client,
    n_sent: AtomicU32,
}

impl LoadGenerator {
    pub fn new() -> Result<Self, DemoError> {
        let client = reqwest::Client::builder()
            .no_proxy()
            .build()
            .map_err(|error| DemoError::Client(error.to_string()))?;
        Ok(Self {
            client,
            n_sent: AtomicU32::new(0),
        })
    }

    /// Sends one scenario request to the deployment the scenario is about.
    pub async fn scenario(&self, shop: &Shop, scenario: Scenario) -> Result<Sent, DemoError> {
        let url = match scenario {
            Scenario::SlowOrder => format!("{}/orders/12345", shop.order_url(Deployment::Before)),
            Scenario::FixedOrder | Scenario::PromotionOutage => {
                format!("{}/orders/12345", shop.order_url(Deployment::After))
            }
            Scenario::NPlusOne => format!("{}/products", shop.product_list_url(Deployment::Before)),
            Scenario::BatchedProducts => {
                format!("{}/products", shop.product_list_url(Deployment::After))
            }
        };
        self.send(&url, Some(scenario)).await
    }

    /// `n_requests` background requests, a few at a time with random pauses: mostly the fixed
    /// deployment, some to the old one still in the rollout; latencies and failures vary.
    pub async fn background(
        self: &Arc<Self>,
        shop: &Arc<Shop>,
        n_requests: u32,
        pace: Pace,
        rng: &Rng,
    ) -> Result<Vec<Sent>, DemoError> {
        let next_request = Arc::new(AtomicU32::new(0));
        let mut workers = Vec::new();
        for _ in 0..BACKGROUND_CONCURRENCY.min(n_requests) {
            let load = self.clone();
            let shop = shop.clone();
            let rng = rng.clone();
            let next_request = next_request.clone();
            workers.push(tokio::spawn(async move {
                let mut sent = Vec::new();
                while next_request.fetch_add(1, Ordering::Relaxed) < n_requests {
                    pace.work(rng.latency(150.0, 0.6)).await;
                    let url = background_url(&shop, &rng);
                    sent.push(load.send(&url, None).await?);
                }
                Ok::<_, DemoError>(sent)
            }));
        }
        let mut all = Vec::new();
        for worker in workers {
            let sent = worker
                .await
                .map_err(|error| DemoError::Task(error.to_string()))??;
            all.extend(sent);
        }
        Ok(all)
    }

    async fn send(&self, url: &str, scenario: Option<Scenario>) -> Result<Sent, DemoError> {
        let request_number = self.n_sent.fetch_add(1, Ordering::Relaxed) + 1;
        let mut headers = HeaderMap::new();
        headers.insert(
            http::header::USER_AGENT,
            HeaderValue::from_static(USER_AGENT),
        );
        headers.insert(
            http::header::AUTHORIZATION,
            HeaderValue::from_static(DEMO_CREDENTIAL),
        );
        if let Ok(value) = HeaderValue::from_str(&format!("demo-{request_number:05}")) {
            headers.insert("x-request-id", value);
        }
        if let Some(scenario) = scenario
            && let Ok(value) = HeaderValue::from_str(&format!("demo.scenario={}", scenario.name()))
        {
            headers.insert("baggage", value);
        }
        let started = Instant::now();
        let response = self
            .client
            .get(url)
            .headers(headers)
            .send()
            .await
            .map_err(|error| DemoError::Request {
                url: url.to_owned(),
                message: error.to_string(),
            })?;
        let status = response.status().as_u16();
        let trace_id = response
            .headers()
            .get("traceresponse")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.split('-').nth(1))
            .map(str::to_owned)
            .ok_or_else(|| DemoError::Request {
                url: url.to_owned(),
                message: "the response has no traceresponse header".to_owned(),
            })?;
        // Read the body so the connection can be reused.
        let _ = response.bytes().await;
        Ok(Sent {
            trace_id,
            status,
            duration: started.elapsed(),
        })
    }
}

/// A background request: 85 % order pages (one in six still on the old deployment), 15 %
/// product lists (one in four on the old one), for a few customers' orders.
fn background_url(shop: &Shop, rng: &Rng) -> String {
    const ORDER_IDS: [u64; 8] = [12345, 12346, 12350, 12377, 12401, 12433, 12502, 12518];
    if rng.chance(0.85) {
        let deployment = if rng.chance(1.0 / 6.0) {
            Deployment::Before
        } else {
            Deployment::After
        };
        let order_id = ORDER_IDS[rng.between(0, ORDER_IDS.len() as u64 - 1) as usize];
        format!("{}/orders/{order_id}", shop.order_url(deployment))
    } else {
        let deployment = if rng.chance(0.25) {
            Deployment::Before
        } else {
            Deployment::After
        };
        format!("{}/products", shop.product_list_url(deployment))
    }
}
