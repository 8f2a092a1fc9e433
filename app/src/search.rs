//! The dashboard's search, kept in the page URL so that a search can be shared and reloaded.
//! URL parameters are the API's, except `range` (`15m`, `1h`, …), which is relative to now and
//! becomes the API's `start` when the search runs, and `start`/`end` (Unix ns), which are used only
//! with `range=custom` (typed in the form, or brushed on the scatter plot).

use leptos_router::params::ParamsMap;

/// The time ranges offered, as (URL value, label).
pub const RANGES: [(&str, &str); 7] = [
    ("15m", "Last 15 minutes"),
    ("1h", "Last hour"),
    ("6h", "Last 6 hours"),
    ("24h", "Last 24 hours"),
    ("7d", "Last 7 days"),
    (CUSTOM_RANGE, "Custom range"),
    ("", "All time"),
];

/// The `range` value that uses the absolute `start` and `end`.
pub const CUSTOM_RANGE: &str = "custom";

pub const LIMITS: [&str; 4] = ["20", "50", "100", "500"];

/// The span kinds offered, as (URL value, label); the API's `kind` words.
pub const KINDS: [(&str, &str); 6] = [
    ("", "Any kind"),
    ("server", "Server"),
    ("client", "Client"),
    ("producer", "Producer"),
    ("consumer", "Consumer"),
    ("internal", "Internal"),
];

/// The span statuses offered, as (URL value, label); the API's `status` words.
pub const STATUSES: [(&str, &str); 4] = [
    ("", "Any status"),
    ("error", "Error"),
    ("ok", "OK"),
    ("unset", "Unset"),
];

#[derive(Debug, Clone, Default, PartialEq)]
pub struct SearchForm {
    pub service: String,
    pub operation: String,
    /// Attribute terms in the syntax of `core::attribute_filter` (`key=value`, `key="a b"`,
    /// `key!=value`, `key exists`), sent whole as one `attr` parameter.
    pub attributes: String,
    /// A span kind (`server`, …) or empty for any.
    pub kind: String,
    /// A status code (`error`, `ok`, `unset`) or empty for any.
    pub status: String,
    pub min_duration: String,
    pub max_duration: String,
    pub range: String,
    /// Unix ns, used with `range=custom`; empty means open-ended.
    pub start: String,
    pub end: String,
    pub errors_only: bool,
    pub limit: String,
    /// A trace to compare with the one picked from this search (from the trace page's
    /// "Compare with…"); not part of the API's query.
    pub compare_with: String,
}

impl SearchForm {
    pub fn from_query(query: &ParamsMap) -> Self {
        let get = |key: &str| query.get(key).unwrap_or_default();
        Self {
            service: get("service"),
            operation: get("operation"),
            attributes: query.get_all("attr").unwrap_or_default().join(" "),
            kind: get("kind"),
            status: get("status"),
            min_duration: get("minDuration"),
            max_duration: get("maxDuration"),
            range: get("range"),
            start: get("start"),
            end: get("end"),
            errors_only: get("errors") == "true",
            limit: query.get("limit").unwrap_or_else(|| String::from("50")),
            compare_with: get("compareWith"),
        }
    }

    /// `(name, value)` pairs of the non-empty fields, as they appear in the page URL.
    fn url_pairs(&self) -> Vec<(&'static str, String)> {
        let mut pairs = Vec::new();
        let mut push = |name: &'static str, value: &str| {
            if !value.trim().is_empty() {
                pairs.push((name, value.trim().to_owned()));
            }
        };
        push("service", &self.service);
        push("operation", &self.operation);
        // Whole: splitting at spaces would cut quoted values (the server reads the terms).
        push("attr", &self.attributes);
        push("kind", &self.kind);
        push("status", &self.status);
        push("minDuration", &self.min_duration);
        push("maxDuration", &self.max_duration);
        push("range", &self.range);
        if self.range == CUSTOM_RANGE {
            push("start", &self.start);
            push("end", &self.end);
        }
        if self.errors_only {
            push("errors", "true");
        }
        push("limit", &self.limit);
        push("compareWith", &self.compare_with);
        pairs
    }

    /// The page URL's query string (without `?`).
    pub fn to_url_query(&self) -> String {
        encode_pairs(&self.url_pairs())
    }

    /// The start of the chosen range in Unix nanoseconds (`None`: all time).
    pub fn range_start(&self, now_unix_nanos: u64) -> Option<u64> {
        if self.range == CUSTOM_RANGE {
            return self.start.trim().parse().ok();
        }
        spanview_core::query::parse_duration(&self.range)
            .ok()
            .map(|range| now_unix_nanos.saturating_sub(range))
    }

    /// The end of a custom range in Unix nanoseconds (`None`: up to now).
    pub fn range_end(&self) -> Option<u64> {
        (self.range == CUSTOM_RANGE)
            .then(|| self.end.trim().parse().ok())
            .flatten()
    }

    /// This search narrowed to traces started between `start` and `end` (Unix ns).
    pub fn with_custom_range(self, start: u64, end: u64) -> Self {
        Self {
            range: String::from(CUSTOM_RANGE),
            start: start.to_string(),
            end: end.to_string(),
            ..self
        }
    }

    /// The number of traces to list (the URL's `limit`, 50 when absent or unreadable).
    pub fn limit(&self) -> usize {
        self.limit.trim().parse().unwrap_or(50)
    }

    /// The API's query string: `range` becomes an absolute `start` in Unix nanoseconds. It asks
    /// for one trace more than the limit, so the list knows whether more match (and shows only
    /// `limit()` of them).
    pub fn to_api_query(&self, now_unix_nanos: u64) -> String {
        let mut pairs: Vec<(&'static str, String)> = self
            .url_pairs()
            .into_iter()
            .filter(|(name, _)| {
                !matches!(*name, "range" | "start" | "end" | "limit" | "compareWith")
            })
            .collect();
        let limit = self.limit() + 1;
        pairs.push((
            "limit",
            limit.min(spanview_core::query::MAX_LIMIT).to_string(),
        ));
        if let Some(start) = self.range_start(now_unix_nanos) {
            pairs.push(("start", start.to_string()));
        }
        if let Some(end) = self.range_end() {
            pairs.push(("end", end.to_string()));
        }
        encode_pairs(&pairs)
    }
}

fn encode_pairs(pairs: &[(&'static str, String)]) -> String {
    pairs
        .iter()
        .map(|(name, value)| format!("{name}={}", crate::api::encode_component(value)))
        .collect::<Vec<_>>()
        .join("&")
}
