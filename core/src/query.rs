//! Trace search: the query model shared by the API and the UI, and the duration syntax people
//! type (`2s`, `150ms`, `1.5m`).

use serde::{Deserialize, Serialize};

use crate::attribute_filter::AttributeFilter;
use crate::model::{SpanKind, StatusCode};

/// What `GET /api/traces` searches for. Every filter is trace-level: a trace matches when its
/// whole duration is in range and some span of it matches each span filter.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TraceQuery {
    /// Some span's service.
    pub service: Option<String>,
    /// Some span's name (of `service`, when given).
    pub operation: Option<String>,
    /// Some span of this kind; that span must also match `service` and `operation` when they
    /// are given (as Jaeger reads service + operation).
    pub kind: Option<SpanKind>,
    /// Some span with this status code; like `kind`, on a span that matches `service`,
    /// `operation` and `kind` when given.
    pub status: Option<StatusCode>,
    /// Each term must hold on some span (span, resource or event attributes, compared as
    /// text); different terms may hold on different spans (`core::attribute_filter`).
    pub attributes: Vec<AttributeFilter>,
    pub min_duration_nanos: Option<u64>,
    pub max_duration_nanos: Option<u64>,
    /// Traces that started at or after this instant (Unix ns).
    pub start_after_nanos: Option<u64>,
    /// Traces that started at or before this instant (Unix ns).
    pub start_before_nanos: Option<u64>,
    /// Only traces with at least one error span.
    pub errors_only: bool,
    pub limit: usize,
}

pub const DEFAULT_LIMIT: usize = 20;
pub const MAX_LIMIT: usize = 1000;

/// The words `kind=` takes (lowercase, as the API writes span kinds).
pub fn parse_span_kind(text: &str) -> Option<SpanKind> {
    match text {
        "server" => Some(SpanKind::Server),
        "client" => Some(SpanKind::Client),
        "producer" => Some(SpanKind::Producer),
        "consumer" => Some(SpanKind::Consumer),
        "internal" => Some(SpanKind::Internal),
        "unspecified" => Some(SpanKind::Unspecified),
        _ => None,
    }
}

/// The words `status=` takes.
pub fn parse_status_code(text: &str) -> Option<StatusCode> {
    match text {
        "error" => Some(StatusCode::Error),
        "ok" => Some(StatusCode::Ok),
        "unset" => Some(StatusCode::Unset),
        _ => None,
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("empty duration")]
    Empty,
    #[error(
        "invalid duration {text:?}: expected a number and a unit (ns, us, µs, ms, s, m, h, d), e.g. 150ms or 1.5s"
    )]
    Invalid { text: String },
    #[error("duration {text:?} is too large")]
    TooLarge { text: String },
}

/// Parses `2s`, `150ms`, `1.5m`, `250us`, `1h`, `7d`, `100ns` (spaces allowed before the unit).
/// A bare number is milliseconds, the unit people mean when they type "duration > 500".
pub fn parse_duration(text: &str) -> Result<u64, DurationError> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Err(DurationError::Empty);
    }
    let invalid = || DurationError::Invalid {
        text: text.to_owned(),
    };
    let unit_start = trimmed
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(trimmed.len());
    let (number, unit) = trimmed.split_at(unit_start);
    let nanos_per_unit: u64 = match unit.trim() {
        "ns" => 1,
        "us" | "µs" => 1_000,
        "" | "ms" => 1_000_000,
        "s" => 1_000_000_000,
        "m" | "min" => 60_000_000_000,
        "h" => 3_600_000_000_000,
        "d" => 86_400_000_000_000,
        _ => return Err(invalid()),
    };
    // Exact decimal arithmetic: "0.1s" must be exactly 100 ms, not a float approximation.
    let (whole, fraction) = number.split_once('.').unwrap_or((number, ""));
    if whole.is_empty() && fraction.is_empty() {
        return Err(invalid());
    }
    let too_large = || DurationError::TooLarge {
        text: text.to_owned(),
    };
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| invalid())?
    };
    let mut nanos = whole.checked_mul(nanos_per_unit).ok_or_else(too_large)?;
    let mut scale = nanos_per_unit;
    for digit in fraction.chars() {
        let digit = digit.to_digit(10).ok_or_else(invalid)? as u64;
        if scale < 10 {
            break; // finer than a nanosecond
        }
        scale /= 10;
        nanos = nanos.checked_add(digit * scale).ok_or_else(too_large)?;
    }
    Ok(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_what_people_type() {
        let cases = [
            ("2s", 2_000_000_000),
            ("150ms", 150_000_000),
            ("1.5m", 90_000_000_000),
            ("0.1s", 100_000_000),
            ("250us", 250_000),
            ("250µs", 250_000),
            ("100ns", 100),
            ("1h", 3_600_000_000_000),
            ("7d", 604_800_000_000_000),
            ("500", 500_000_000),
            (" 2 s ", 2_000_000_000),
            (".5s", 500_000_000),
        ];
        for (text, nanos) in cases {
            assert_eq!(parse_duration(text), Ok(nanos), "{text}");
        }
    }

    #[test]
    fn rejects_nonsense_with_a_reason() {
        assert_eq!(parse_duration(""), Err(DurationError::Empty));
        for text in ["fast", "2 parsecs", "1.2.3s", "-1s", "s", "."] {
            assert!(
                matches!(parse_duration(text), Err(DurationError::Invalid { .. })),
                "{text}"
            );
        }
        assert!(matches!(
            parse_duration("99999999999999h"),
            Err(DurationError::TooLarge { .. })
        ));
    }
}
