//! The demo shop: six small HTTP services on ephemeral loopback ports, each with its own tracer
//! provider (its own `service.name` and `service.version`), calling each other over real HTTP.
//!
//! Two deployments run side by side, as during a rollout: order-service 1.4.0 with
//! inventory-service 2.3.0 (no index on `product_id`, one cache read that misses) and product-list
//! 2.0.0 (one category query per product), and the fixed order-service 1.5.0 with
//! inventory-service 2.4.0 and product-list 2.1.0. user-, product- and promotion-service serve both.

mod inventory;
mod order;
mod product;
mod product_list;
mod promotion;
mod user;

use std::net::SocketAddr;
use std::sync::Arc;

use axum::Router;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::DemoError;
use crate::clock::Pace;
use crate::instrumentation::{Downstream, ServiceContext};
use crate::rng::Rng;
use crate::telemetry::{ServiceIdentity, Telemetry, propagator};

pub const ORDER_BEFORE: ServiceIdentity = ServiceIdentity {
    name: "order-service",
    version: "1.4.0",
};
pub const ORDER_AFTER: ServiceIdentity = ServiceIdentity {
    name: "order-service",
    version: "1.5.0",
};
pub const INVENTORY_BEFORE: ServiceIdentity = ServiceIdentity {
    name: "inventory-service",
    version: "2.3.0",
};
pub const INVENTORY_AFTER: ServiceIdentity = ServiceIdentity {
    name: "inventory-service",
    version: "2.4.0",
};
pub const PRODUCT_LIST_BEFORE: ServiceIdentity = ServiceIdentity {
    name: "product-list",
    version: "2.0.0",
};
pub const PRODUCT_LIST_AFTER: ServiceIdentity = ServiceIdentity {
    name: "product-list",
    version: "2.1.0",
};
pub const USER: ServiceIdentity = ServiceIdentity {
    name: "user-service",
    version: "3.1.0",
};
pub const PRODUCT: ServiceIdentity = ServiceIdentity {
    name: "product-service",
    version: "1.9.2",
};
pub const PROMOTION: ServiceIdentity = ServiceIdentity {
    name: "promotion-service",
    version: "0.8.1",
};

/// Which deployment a request goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Deployment {
    /// Before the fix.
    Before,
    /// After the fix.
    After,
}

/// The running services and the entry points the load generator calls.
pub struct Shop {
    pub order_before: String,
    pub order_after: String,
    pub product_list_before: String,
    pub product_list_after: String,
    stop: watch::Sender<bool>,
    servers: Vec<Server>,
}

/// One running service.
struct Server {
    identity: ServiceIdentity,
    address: SocketAddr,
    task: JoinHandle<std::io::Result<()>>,
}

/// The readiness check of every service; not traced, as health checks usually are not.
async fn healthz() -> &'static str {
    "ok"
}

impl Shop {
    pub async fn start(telemetry: &Telemetry, pace: Pace, rng: &Rng) -> Result<Self, DemoError> {
        let (stop, stopped) = watch::channel(false);
        let mut starter = Starter {
            telemetry,
            pace,
            rng: rng.clone(),
            // No proxy: the services talk on loopback only.
            client: reqwest::Client::builder()
                .no_proxy()
                .build()
                .map_err(|error| DemoError::Client(error.to_string()))?,
            stopped,
            servers: Vec::new(),
        };

        let (listener, user) = starter.prepare(USER).await?;
        let user_address = user.address;
        starter.serve(listener, user.identity, user::router(user))?;
        let (listener, product) = starter.prepare(PRODUCT).await?;
        let product_address = product.address;
        starter.serve(listener, product.identity, product::router(product))?;
        let (listener, promotion) = starter.prepare(PROMOTION).await?;
        let promotion_address = promotion.address;
        starter.serve(listener, promotion.identity, promotion::router(promotion))?;

        let mut inventory_addresses = Vec::new();
        for (identity, fixed) in [(INVENTORY_BEFORE, false), (INVENTORY_AFTER, true)] {
            let (listener, inventory) = starter.prepare(identity).await?;
            inventory_addresses.push(inventory.address);
            starter.serve(listener, identity, inventory::router(inventory, fixed))?;
        }

        let mut order_urls = Vec::new();
        for (identity, inventory_address, fixed) in [
            (ORDER_BEFORE, inventory_addresses[0], false),
            (ORDER_AFTER, inventory_addresses[1], true),
        ] {
            let (listener, order) = starter.prepare(identity).await?;
            order_urls.push(format!("http://{}", order.address));
            let downstreams = order::Downstreams {
                users: Downstream::new(USER.name, user_address, ""),
                products: Downstream::new(PRODUCT.name, product_address, ""),
                inventory: Downstream::new(
                    INVENTORY_BEFORE.name,
                    inventory_address,
                    inventory::PREFIX,
                ),
                promotions: Downstream::new(PROMOTION.name, promotion_address, ""),
            };
            starter.serve(listener, identity, order::router(order, downstreams, fixed))?;
        }

        let mut product_list_urls = Vec::new();
        for (identity, batched) in [(PRODUCT_LIST_BEFORE, false), (PRODUCT_LIST_AFTER, true)] {
            let (listener, product_list) = starter.prepare(identity).await?;
            product_list_urls.push(format!("http://{}", product_list.address));
            starter.serve(
                listener,
                identity,
                product_list::router(product_list, batched),
            )?;
        }

        starter.warm_up().await?;

        Ok(Self {
            order_before: order_urls[0].clone(),
            order_after: order_urls[1].clone(),
            product_list_before: product_list_urls[0].clone(),
            product_list_after: product_list_urls[1].clone(),
            stop,
            servers: starter.servers,
        })
    }

    pub fn order_url(&self, deployment: Deployment) -> &str {
        match deployment {
            Deployment::Before => &self.order_before,
            Deployment::After => &self.order_after,
        }
    }

    pub fn product_list_url(&self, deployment: Deployment) -> &str {
        match deployment {
            Deployment::Before => &self.product_list_before,
            Deployment::After => &self.product_list_after,
        }
    }

    /// Stops every service after its requests in flight, so that all their spans have ended.
    pub async fn stop(self) -> Result<(), DemoError> {
        let _ = self.stop.send(true);
        for Server { identity, task, .. } in self.servers {
            match task.await {
                Ok(Ok(())) => {}
                Ok(Err(error)) => {
                    return Err(DemoError::Serve {
                        service: identity.name,
                        source: error,
                    });
                }
                Err(error) => return Err(DemoError::Task(error.to_string())),
            }
        }
        Ok(())
    }
}

/// Binds each service and spawns its server.
struct Starter<'a> {
    telemetry: &'a Telemetry,
    pace: Pace,
    rng: Rng,
    client: reqwest::Client,
    stopped: watch::Receiver<bool>,
    servers: Vec<Server>,
}

impl Starter<'_> {
    /// Binds a free loopback port and sets up the service's telemetry.
    async fn prepare(
        &self,
        identity: ServiceIdentity,
    ) -> Result<(TcpListener, Arc<ServiceContext>), DemoError> {
        let bind_error = |source| DemoError::Bind {
            service: identity.name,
            source,
        };
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(bind_error)?;
        let address = listener.local_addr().map_err(bind_error)?;
        let service = ServiceContext {
            identity,
            tracer: self.telemetry.tracer(identity)?,
            propagator: propagator(),
            pace: self.pace,
            rng: self.rng.clone(),
            address,
            client: self.client.clone(),
        };
        Ok((listener, Arc::new(service)))
    }

    fn serve(
        &mut self,
        listener: TcpListener,
        identity: ServiceIdentity,
        router: Router,
    ) -> Result<(), DemoError> {
        let address = listener.local_addr().map_err(|source| DemoError::Bind {
            service: identity.name,
            source,
        })?;
        let mut stopped = self.stopped.clone();
        tracing::debug!(
            service = identity.name,
            version = identity.version,
            "demo service listening"
        );
        let task = tokio::spawn(async move {
            axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.wait_for(|stop| *stop).await;
                })
                .await
        });
        self.servers.push(Server {
            identity,
            address,
            task,
        });
        Ok(())
    }

    /// Waits until every service answers its readiness check, which also opens the shared
    /// client's connections, so the first traced calls do not pay for connecting.
    async fn warm_up(&self) -> Result<(), DemoError> {
        for server in &self.servers {
            let url = format!("http://{}/healthz", server.address);
            let failed = |error: reqwest::Error| DemoError::Request {
                url: url.clone(),
                message: error.to_string(),
            };
            let response = self.client.get(&url).send().await.map_err(failed)?;
            // Reading the body returns the connection to the pool.
            response
                .error_for_status()
                .map_err(failed)?
                .bytes()
                .await
                .map_err(failed)?;
        }
        Ok(())
    }
}
