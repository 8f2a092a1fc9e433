//! Redaction of secrets before storage: attribute values whose keys match configured patterns
//! are replaced, on spans, events, links and resources alike.

use crate::model::{AnyValue, Batch, KeyValue};

/// What a redacted value becomes.
pub const REDACTED: &str = "[REDACTED]";

/// Key patterns, matched case-insensitively as substrings: `password` matches `db.password`
/// and `USER_PASSWORD`. An empty redactor changes nothing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Redactor {
    lowercase_patterns: Vec<String>,
}

impl Redactor {
    pub fn new<S: AsRef<str>>(patterns: impl IntoIterator<Item = S>) -> Self {
        let lowercase_patterns = patterns
            .into_iter()
            .map(|pattern| pattern.as_ref().trim().to_lowercase())
            .filter(|pattern| !pattern.is_empty())
            .collect();
        Self { lowercase_patterns }
    }

    pub fn is_empty(&self) -> bool {
        self.lowercase_patterns.is_empty()
    }

    pub fn matches(&self, key: &str) -> bool {
        let key = key.to_lowercase();
        self.lowercase_patterns
            .iter()
            .any(|pattern| key.contains(pattern.as_str()))
    }

    /// Redacts in place; returns how many values were replaced.
    pub fn redact_batch(&self, batch: &mut Batch) -> usize {
        if self.is_empty() {
            return 0;
        }
        let mut n_redacted = 0;
        for resource in &mut batch.resources {
            n_redacted += self.redact_attributes(&mut resource.attributes);
        }
        for scope in &mut batch.scopes {
            n_redacted += self.redact_attributes(&mut scope.attributes);
        }
        for span in &mut batch.spans {
            n_redacted += self.redact_attributes(&mut span.attributes);
            for event in &mut span.events {
                n_redacted += self.redact_attributes(&mut event.attributes);
            }
            for link in &mut span.links {
                n_redacted += self.redact_attributes(&mut link.attributes);
            }
        }
        n_redacted
    }

    fn redact_attributes(&self, attributes: &mut [KeyValue]) -> usize {
        let mut n_redacted = 0;
        for attribute in attributes {
            if self.matches(&attribute.key) {
                attribute.value = AnyValue::String(REDACTED.to_owned());
                n_redacted += 1;
            } else if let AnyValue::KvList(entries) = &mut attribute.value {
                // Nested maps can carry secrets too (`http.request.header: {authorization: …}`).
                n_redacted += self.redact_attributes(entries);
            }
        }
        n_redacted
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario;

    #[test]
    fn redacts_matching_keys_everywhere_and_nothing_else() {
        let mut trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let span = &mut trace.batch.spans[0];
        span.attributes
            .push(KeyValue::new("db.Password", "hunter2"));
        span.attributes.push(KeyValue {
            key: "http.request.header".into(),
            value: AnyValue::KvList(vec![
                KeyValue::new("Authorization", "Bearer abc"),
                KeyValue::new("accept", "*/*"),
            ]),
        });
        trace.batch.resources[0]
            .attributes
            .push(KeyValue::new("api_token", "t0k3n"));
        let before = trace.batch.clone();

        let redactor = Redactor::new(["password", "AUTHORIZATION", "token", " "]);
        assert_eq!(redactor.redact_batch(&mut trace.batch), 3);
        let text = serde_json::to_string(&trace.batch).unwrap();
        for secret in ["hunter2", "Bearer abc", "t0k3n"] {
            assert!(!text.contains(secret), "{secret} survived");
        }
        assert!(text.contains("*/*"));
        assert_eq!(trace.batch.spans.len(), before.spans.len());
        assert_eq!(
            trace.batch.spans[1], before.spans[1],
            "unmatched spans are untouched"
        );
    }

    #[test]
    fn an_empty_redactor_changes_nothing() {
        let mut trace = scenario::slow_order(scenario::SLOW_ORDER_TRACE_ID, 0);
        let before = trace.batch.clone();
        assert_eq!(
            Redactor::new(Vec::<String>::new()).redact_batch(&mut trace.batch),
            0
        );
        assert_eq!(trace.batch, before);
    }
}
