//! The search's attribute filter: what people type in the search form's attribute field (and
//! send as `attr=` to `GET /api/traces`), parsed into terms the stores evaluate.
//!
//! Syntax: terms separated by spaces, all of which must hold (AND):
//!
//! - `key=value`: some span of the trace has the attribute with that value (compared as text:
//!   `http.status_code=500` matches the integer 500). `key:value` means the same (the older
//!   form).
//! - `key!=value`: some span has the attribute with another value (a span without the key does
//!   not match, as in TraceQL).
//! - `key exists`, or `key` alone: some span has the attribute, whatever its value.
//!
//! Values holding spaces (or quotes, or nothing) are written in double quotes, with `\"` for a
//! quote and `\\` for a backslash inside them: `db.statement="SELECT * FROM orders"`. Keys are
//! any run of characters other than spaces, `=`, `!`, `:` and `"`, dots included
//! (`exception.message`). Spaces around the operator are allowed (`key = value`).
//!
//! "An attribute of a span" means one of the span's own attributes, its resource's (such as
//! `service.version`) or one of its events' (such as `exception.message`). Each term is checked
//! on its own: two terms may hold on different spans of the trace (trace-level, like the
//! search's other span filters). Only scalar values up to [`MAX_SEARCHABLE_VALUE_BYTES`] are
//! searchable: longer texts, arrays and maps are stored and shown but never match.

use std::borrow::Cow;
use std::fmt;

use crate::model::{AnyValue, Batch, KeyValue, Span};

/// Attribute values longer than this are stored but not searchable (both stores index values
/// up to this length).
pub const MAX_SEARCHABLE_VALUE_BYTES: usize = 256;

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AttributeFilter {
    pub key: String,
    pub condition: Condition,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Condition {
    Equals(String),
    NotEquals(String),
    Exists,
}

impl AttributeFilter {
    pub fn equals(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            condition: Condition::Equals(value.into()),
        }
    }

    pub fn not_equals(key: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            condition: Condition::NotEquals(value.into()),
        }
    }

    pub fn exists(key: impl Into<String>) -> Self {
        Self {
            key: key.into(),
            condition: Condition::Exists,
        }
    }

    /// Whether this searchable attribute (key and value text) satisfies the term.
    pub fn matches_attribute(&self, key: &str, value_text: &str) -> bool {
        key == self.key
            && match &self.condition {
                Condition::Equals(value) => value_text == value,
                Condition::NotEquals(value) => value_text != value,
                Condition::Exists => true,
            }
    }

    /// Whether the span satisfies the term through its own, its resource's or its events'
    /// attributes.
    pub fn matches_span(&self, batch: &Batch, span: &Span) -> bool {
        let mut found = false;
        for_each_searchable(batch, span, |key, value_text| {
            found = found || self.matches_attribute(key, value_text);
        });
        found
    }
}

/// Calls `visit(key, value_text)` for every searchable attribute of the span: its own, its
/// resource's, its events'. The one definition of what a search sees, shared by both stores.
pub fn for_each_searchable(batch: &Batch, span: &Span, mut visit: impl FnMut(&str, &str)) {
    let resource_attributes = batch
        .resources
        .get(span.resource_idx as usize)
        .map_or(&[][..], |resource| &resource.attributes[..]);
    let event_attributes = span.events.iter().flat_map(|event| &event.attributes);
    for attribute in span
        .attributes
        .iter()
        .chain(resource_attributes)
        .chain(event_attributes)
    {
        if let Some(text) = searchable_text(attribute) {
            visit(&attribute.key, &text);
        }
    }
}

/// An attribute's value as a search names it, when searchable: strings, booleans and numbers as
/// text (`http.status_code=500`); long texts and composites are not.
pub fn searchable_text(attribute: &KeyValue) -> Option<Cow<'_, str>> {
    match &attribute.value {
        AnyValue::String(text) if text.len() <= MAX_SEARCHABLE_VALUE_BYTES => {
            Some(Cow::Borrowed(text))
        }
        AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => {
            Some(Cow::Owned(attribute.value.to_display_string()))
        }
        _ => None,
    }
}

/// Why a filter text could not be read; positions count characters from 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AttributeSyntaxError {
    #[error("expected an attribute key at character {position}, found {found:?}")]
    MissingKey { position: usize, found: char },
    #[error(
        "expected a value after {operator:?} at character {position} (write \"\" for an empty value)"
    )]
    MissingValue {
        position: usize,
        operator: &'static str,
    },
    #[error("expected \"!=\" at character {position}, found a lone \"!\"")]
    LoneBang { position: usize },
    #[error("the quote opened at character {position} is not closed")]
    UnterminatedQuote { position: usize },
    #[error(
        "unknown escape \"\\{escape}\" at character {position}: inside quotes only \\\" and \\\\ are escapes"
    )]
    UnknownEscape { position: usize, escape: char },
    #[error("unexpected quote at character {position}: quote the whole value, as in key=\"a b\"")]
    QuoteInValue { position: usize },
    #[error("expected a space after the closing quote at character {position}, found {found:?}")]
    MissingSpace { position: usize, found: char },
}

/// Parses a filter text into its terms (none for a blank text).
pub fn parse_attribute_filters(text: &str) -> Result<Vec<AttributeFilter>, AttributeSyntaxError> {
    let mut parser = Parser {
        chars: text.chars().collect(),
        at: 0,
    };
    let mut filters = Vec::new();
    loop {
        parser.skip_spaces();
        if parser.at_end() {
            return Ok(filters);
        }
        filters.push(parser.term()?);
    }
}

struct Parser {
    chars: Vec<char>,
    /// Index of the next character (positions in errors are this plus one).
    at: usize,
}

fn is_key_char(c: char) -> bool {
    !(c.is_whitespace() || matches!(c, '=' | '!' | ':' | '"'))
}

impl Parser {
    fn at_end(&self) -> bool {
        self.at >= self.chars.len()
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.at).copied()
    }

    fn skip_spaces(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.at += 1;
        }
    }

    fn term(&mut self) -> Result<AttributeFilter, AttributeSyntaxError> {
        let key_start = self.at;
        while self.peek().is_some_and(is_key_char) {
            self.at += 1;
        }
        if self.at == key_start {
            return Err(AttributeSyntaxError::MissingKey {
                position: self.at + 1,
                found: self.peek().expect("a term starts at a character"),
            });
        }
        let key: String = self.chars[key_start..self.at].iter().collect();
        let after_key = self.at;
        self.skip_spaces();
        let operator = match self.peek() {
            Some('=') => {
                self.at += 1;
                "="
            }
            Some(':') => {
                self.at += 1;
                ":"
            }
            Some('!') => {
                if self.chars.get(self.at + 1) == Some(&'=') {
                    self.at += 2;
                    "!="
                } else {
                    return Err(AttributeSyntaxError::LoneBang {
                        position: self.at + 1,
                    });
                }
            }
            _ => {
                // `key exists`, or a bare `key` followed by the next term (or nothing).
                let word_end = self.at + "exists".len();
                let is_exists = self.chars.get(self.at..word_end).is_some_and(|word| {
                    word.iter().copied().eq("exists".chars())
                        && self.chars.get(word_end).is_none_or(|c| c.is_whitespace())
                });
                if is_exists {
                    self.at = word_end;
                } else {
                    self.at = after_key;
                }
                return Ok(AttributeFilter::exists(key));
            }
        };
        self.skip_spaces();
        let value = self.value(operator)?;
        Ok(AttributeFilter {
            key,
            condition: if operator == "!=" {
                Condition::NotEquals(value)
            } else {
                Condition::Equals(value)
            },
        })
    }

    fn value(&mut self, operator: &'static str) -> Result<String, AttributeSyntaxError> {
        match self.peek() {
            None => Err(AttributeSyntaxError::MissingValue {
                position: self.at + 1,
                operator,
            }),
            Some('"') => self.quoted(),
            Some(_) => {
                let start = self.at;
                while let Some(c) = self.peek() {
                    if c.is_whitespace() {
                        break;
                    }
                    if c == '"' {
                        return Err(AttributeSyntaxError::QuoteInValue {
                            position: self.at + 1,
                        });
                    }
                    self.at += 1;
                }
                Ok(self.chars[start..self.at].iter().collect())
            }
        }
    }

    fn quoted(&mut self) -> Result<String, AttributeSyntaxError> {
        let open = self.at;
        self.at += 1;
        let mut value = String::new();
        loop {
            match self.peek() {
                None => {
                    return Err(AttributeSyntaxError::UnterminatedQuote { position: open + 1 });
                }
                Some('"') => {
                    self.at += 1;
                    break;
                }
                Some('\\') => {
                    match self.chars.get(self.at + 1) {
                        Some(&escaped @ ('"' | '\\')) => value.push(escaped),
                        Some(&escape) => {
                            return Err(AttributeSyntaxError::UnknownEscape {
                                position: self.at + 1,
                                escape,
                            });
                        }
                        None => {
                            return Err(AttributeSyntaxError::UnterminatedQuote {
                                position: open + 1,
                            });
                        }
                    }
                    self.at += 2;
                }
                Some(c) => {
                    value.push(c);
                    self.at += 1;
                }
            }
        }
        match self.peek() {
            Some(c) if !c.is_whitespace() => Err(AttributeSyntaxError::MissingSpace {
                position: self.at + 1,
                found: c,
            }),
            _ => Ok(value),
        }
    }
}

/// The canonical text of a term, which [`parse_attribute_filters`] reads back as the same term:
/// values are quoted when they hold a space or a quote, start with one, or are empty.
impl fmt::Display for AttributeFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (operator, value) = match &self.condition {
            Condition::Equals(value) => ("=", value),
            Condition::NotEquals(value) => ("!=", value),
            Condition::Exists => return write!(f, "{} exists", self.key),
        };
        let needs_quotes = value.is_empty() || value.chars().any(|c| c.is_whitespace() || c == '"');
        if needs_quotes {
            let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
            write!(f, "{}{operator}\"{escaped}\"", self.key)
        } else {
            write!(f, "{}{operator}{value}", self.key)
        }
    }
}

/// Several terms as one text, the form the search form and URLs carry.
pub fn format_attribute_filters(filters: &[AttributeFilter]) -> String {
    let terms: Vec<String> = filters.iter().map(ToString::to_string).collect();
    terms.join(" ")
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn parse(text: &str) -> Vec<AttributeFilter> {
        parse_attribute_filters(text).unwrap_or_else(|error| panic!("{text}: {error}"))
    }

    #[test]
    fn reads_every_form() {
        assert_eq!(parse(""), []);
        assert_eq!(parse("   "), []);
        assert_eq!(
            parse("http.status_code=500"),
            [AttributeFilter::equals("http.status_code", "500")]
        );
        assert_eq!(
            parse("http.status_code:500"),
            [AttributeFilter::equals("http.status_code", "500")]
        );
        assert_eq!(
            parse(r#"db.statement="SELECT * FROM orders WHERE id = ?" region!=eu user.id exists"#),
            [
                AttributeFilter::equals("db.statement", "SELECT * FROM orders WHERE id = ?"),
                AttributeFilter::not_equals("region", "eu"),
                AttributeFilter::exists("user.id"),
            ]
        );
        assert_eq!(
            parse("user.id  error.type=timeout"),
            [
                AttributeFilter::exists("user.id"),
                AttributeFilter::equals("error.type", "timeout"),
            ]
        );
        assert_eq!(
            parse(r#"exception.message = "say \"hi\" to C:\\temp" a != "" "#),
            [
                AttributeFilter::equals("exception.message", r#"say "hi" to C:\temp"#),
                AttributeFilter::not_equals("a", ""),
            ]
        );
        // An unquoted value runs to the next space and may hold = and : (URLs).
        assert_eq!(
            parse("url.full=http://shop/a?b=c"),
            [AttributeFilter::equals("url.full", "http://shop/a?b=c")]
        );
        // A key named "exists" still works: the keyword only follows a key.
        assert_eq!(
            parse("exists exists existsnot"),
            [
                AttributeFilter::exists("exists"),
                AttributeFilter::exists("existsnot"),
            ]
        );
    }

    #[test]
    fn refuses_bad_input_saying_where() {
        let cases = [
            "=5",
            "a=1 !=5",
            "a=",
            "a!=  ",
            "a!b",
            r#"db.statement="SELECT *"#,
            r#"a="x\"#,
            r#"a="C:\temp""#,
            r#"a=b"c""#,
            r#"a="b"c"#,
            "\"a\"=b",
        ];
        let mut messages = String::new();
        for text in cases {
            let error = parse_attribute_filters(text).expect_err(text);
            messages.push_str(&format!("{:<28} {error}\n", format!("{text:?}")));
        }
        expect_test::expect![[r#"
            "=5"                         expected an attribute key at character 1, found '='
            "a=1 !=5"                    expected an attribute key at character 5, found '!'
            "a="                         expected a value after "=" at character 3 (write "" for an empty value)
            "a!=  "                      expected a value after "!=" at character 6 (write "" for an empty value)
            "a!b"                        expected "!=" at character 2, found a lone "!"
            "db.statement=\"SELECT *"    the quote opened at character 14 is not closed
            "a=\"x\\"                    the quote opened at character 3 is not closed
            "a=\"C:\\temp\""             unknown escape "\t" at character 6: inside quotes only \" and \\ are escapes
            "a=b\"c\""                   unexpected quote at character 4: quote the whole value, as in key="a b"
            "a=\"b\"c"                   expected a space after the closing quote at character 6, found 'c'
            "\"a\"=b"                    expected an attribute key at character 1, found '"'
        "#]].assert_eq(&messages);
    }

    #[test]
    fn matches_span_resource_and_event_attributes() {
        use crate::model::{Event, Resource, Scope, SpanKind, Status};
        use crate::{SpanId, TraceId};
        let span = Span {
            trace_id: TraceId([1; 16]),
            span_id: SpanId([1; 8]),
            parent_span_id: None,
            name: "GET /orders".into(),
            kind: SpanKind::Server,
            start_nanos: 1,
            end_nanos: 2,
            attributes: vec![
                KeyValue::new("http.status_code", 500i64),
                KeyValue::new("long", "x".repeat(MAX_SEARCHABLE_VALUE_BYTES + 1)),
            ],
            events: vec![Event {
                name: "exception".into(),
                time_nanos: 1,
                attributes: vec![KeyValue::new("exception.message", "connection refused")],
            }],
            links: vec![],
            status: Status::default(),
            trace_state: String::new(),
            flags: 0,
            dropped: Default::default(),
            resource_idx: 0,
            scope_idx: 0,
        };
        let batch = Batch {
            resources: vec![Resource {
                attributes: vec![KeyValue::new("service.version", "1.5.0")],
                ..Default::default()
            }],
            scopes: vec![Scope::default()],
            spans: vec![span.clone()],
        };
        let matches = |text: &str| parse(text)[0].matches_span(&batch, &span);
        assert!(matches("http.status_code=500"));
        assert!(matches("http.status_code!=200"));
        assert!(!matches("http.status_code!=500"));
        assert!(matches(r#"exception.message="connection refused""#));
        assert!(matches("service.version=1.5.0"));
        assert!(matches("service.version exists"));
        assert!(!matches("missing exists"));
        assert!(!matches("missing!=1"));
        assert!(!matches("long exists"), "long values are not searchable");
    }

    fn filter_strategy() -> impl Strategy<Value = AttributeFilter> {
        let key = "[a-z_][a-z0-9_.]{0,12}";
        prop_oneof![
            (key, any::<String>()).prop_map(|(k, v)| AttributeFilter::equals(k, v)),
            (key, any::<String>()).prop_map(|(k, v)| AttributeFilter::not_equals(k, v)),
            key.prop_map(AttributeFilter::exists),
        ]
    }

    proptest! {
        #[test]
        fn the_canonical_text_reads_back(filters in proptest::collection::vec(filter_strategy(), 0..5)) {
            let text = format_attribute_filters(&filters);
            prop_assert_eq!(parse_attribute_filters(&text), Ok(filters), "{}", text);
        }

        #[test]
        fn any_text_parses_or_names_a_position_inside_it(text in any::<String>()) {
            if let Err(error) = parse_attribute_filters(&text) {
                let position = match error {
                    AttributeSyntaxError::MissingKey { position, .. }
                    | AttributeSyntaxError::MissingValue { position, .. }
                    | AttributeSyntaxError::LoneBang { position }
                    | AttributeSyntaxError::UnterminatedQuote { position }
                    | AttributeSyntaxError::UnknownEscape { position, .. }
                    | AttributeSyntaxError::QuoteInValue { position }
                    | AttributeSyntaxError::MissingSpace { position, .. } => position,
                };
                prop_assert!(position >= 1 && position <= text.chars().count() + 1);
            }
        }
    }
}
