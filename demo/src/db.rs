//! Simulated database calls: no real MySQL or Redis, but client spans exactly as a database
//! driver's instrumentation reports them (database semantic conventions), lasting as long as the
//! scenario says.

use opentelemetry::trace::{SpanKind, TraceContextExt};
use opentelemetry::{Context, KeyValue};

use crate::instrumentation::{RequestContext, ServiceContext};

/// One database call: which system, the span name (`SELECT inventory`), the statement.
#[derive(Debug, Clone)]
pub struct Query {
    system: &'static str,
    name: String,
    statement: String,
    operation: &'static str,
    database: &'static str,
    table: Option<&'static str>,
    attributes: Vec<KeyValue>,
}

impl Query {
    /// A MySQL query on `database`.`table`; the span is named `OPERATION table`, as the semantic
    /// conventions suggest.
    pub fn mysql(
        database: &'static str,
        operation: &'static str,
        table: &'static str,
        statement: impl Into<String>,
    ) -> Self {
        Self {
            system: "mysql",
            name: format!("{operation} {table}"),
            statement: statement.into(),
            operation,
            database,
            table: Some(table),
            attributes: Vec::new(),
        }
    }

    /// A Redis command.
    pub fn redis(
        name: impl Into<String>,
        operation: &'static str,
        statement: impl Into<String>,
    ) -> Self {
        Self {
            system: "redis",
            name: name.into(),
            statement: statement.into(),
            operation,
            database: "0",
            table: None,
            attributes: Vec::new(),
        }
    }

    /// Another span name than the conventional one.
    pub fn named(mut self, name: impl Into<String>) -> Self {
        self.name = name.into();
        self
    }

    pub fn with(mut self, attributes: impl IntoIterator<Item = KeyValue>) -> Self {
        self.attributes.extend(attributes);
        self
    }

    /// Starts the client span under `parent`; the caller ends it (`cx.span().end()`), after
    /// child spans or an error if there are any.
    pub fn start(self, service: &ServiceContext, parent: &Context) -> Context {
        let (address, port) = match self.system {
            "redis" => ("redis.shop.internal", 6379),
            _ => ("mysql.shop.internal", 3306),
        };
        let mut attributes = vec![
            KeyValue::new("db.system", self.system),
            KeyValue::new("db.name", self.database),
            KeyValue::new("db.statement", self.statement),
            KeyValue::new("db.operation", self.operation),
            KeyValue::new("server.address", address),
            KeyValue::new("server.port", port),
            KeyValue::new("peer.service", self.system),
        ];
        if let Some(table) = self.table {
            attributes.push(KeyValue::new("db.sql.table", table));
        }
        attributes.extend(self.attributes);
        service.child_span(parent, self.name, SpanKind::Client, attributes)
    }

    /// Runs the query: a client span under `parent` lasting `duration_ms` scenario milliseconds.
    pub async fn run(self, service: &ServiceContext, parent: &Context, duration_ms: f64) {
        let cx = self.start(service, parent);
        service.pace.work(duration_ms).await;
        cx.span().end();
    }

    /// Runs the query under the request's server span.
    pub async fn run_for(
        self,
        service: &ServiceContext,
        request: &RequestContext,
        duration_ms: f64,
    ) {
        self.run(service, &request.cx, duration_ms).await;
    }
}
