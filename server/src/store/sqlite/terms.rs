//! Search terms and posting lists.
//!
//! A term is a 64-bit hash of what a search can ask for: a service, a service's operation, an
//! operation name in any service, an attribute key=value and an attribute key alone (the
//! searchable attributes of `core::attribute_filter`: span, resource and event attributes,
//! scalar values compared as text), and a span's shape: its kind and/or status code, alone or
//! with its service and/or name, so that `kind=server&service=a` asks for one span. Two
//! different terms share a hash with a chance of about 1 in 2^64 per pair, which a search would
//! show as an extra trace; not a risk worth a table of strings.
//!
//! Attribute keys, event attributes and shapes came with schema version 4 (issue 24); an older
//! store's postings are rebuilt from its chunks when it is opened (`postings::rebuild_written`).

use spanview_core::{SpanKind, StatusCode};
use xxhash_rust::xxh3::Xxh3;

/// A separator that never occurs in UTF-8, so `("a", "bc")` and `("ab", "c")` hash apart.
const SEPARATOR: &[u8] = &[0xff];

fn term(kind: u8, parts: &[&[u8]]) -> u64 {
    let mut hasher = Xxh3::new();
    hasher.update(&[kind]);
    for part in parts {
        hasher.update(SEPARATOR);
        hasher.update(part);
    }
    // Stored as SQLite INTEGER (i64): the cast keeps all 64 bits.
    hasher.digest()
}

pub fn service(service: &str) -> u64 {
    term(b's', &[service.as_bytes()])
}

pub fn operation(service: &str, name: &str) -> u64 {
    term(b'o', &[service.as_bytes(), name.as_bytes()])
}

/// A span name in any service (`operation=` without `service=`).
pub fn name(name: &str) -> u64 {
    term(b'n', &[name.as_bytes()])
}

pub fn attribute(key: &str, value_text: &str) -> u64 {
    term(b'a', &[key.as_bytes(), value_text.as_bytes()])
}

/// Some span has the attribute key with a searchable value (`key exists`, and the candidates
/// of `key!=value`).
pub fn attribute_key(key: &str) -> u64 {
    term(b'k', &[key.as_bytes()])
}

/// What a search may ask of one span besides its attributes: each part is optional, and an
/// absent part is not the same as an empty one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Shape<'a> {
    pub service: Option<&'a str>,
    pub name: Option<&'a str>,
    pub kind: Option<SpanKind>,
    pub status: Option<StatusCode>,
}

/// The term of a shape with a kind or a status (without either it would be the service,
/// operation or name term).
pub fn shape(shape: Shape<'_>) -> u64 {
    let present = u8::from(shape.service.is_some())
        | u8::from(shape.name.is_some()) << 1
        | u8::from(shape.kind.is_some()) << 2
        | u8::from(shape.status.is_some()) << 3;
    term(
        b'p',
        &[
            &[present],
            shape.service.unwrap_or("").as_bytes(),
            shape.name.unwrap_or("").as_bytes(),
            &[shape.kind.map_or(0, |kind| kind.to_otlp() as u8)],
            &[shape.status.map_or(0, |status| status.to_otlp() as u8)],
        ],
    )
}

/// Every shape term of one span: each subset of (service, name) with its kind, its status or
/// both (twelve terms).
pub fn shapes_of(service: &str, name: &str, kind: SpanKind, status: StatusCode) -> [u64; 12] {
    let mut out = [0u64; 12];
    let mut idx = 0;
    for (with_service, with_name) in [(false, false), (true, false), (false, true), (true, true)] {
        for (with_kind, with_status) in [(true, false), (false, true), (true, true)] {
            out[idx] = shape(Shape {
                service: with_service.then_some(service),
                name: with_name.then_some(name),
                kind: with_kind.then_some(kind),
                status: with_status.then_some(status),
            });
            idx += 1;
        }
    }
    out
}

pub fn push_varint(out: &mut Vec<u8>, mut value: u64) {
    while value >= 0x80 {
        out.push((value as u8) | 0x80);
        value >>= 7;
    }
    out.push(value as u8);
}

/// Reads varints until the end; a damaged tail ends the list rather than failing the read.
pub fn read_varints(bytes: &[u8]) -> Vec<u64> {
    let mut values = Vec::new();
    let mut value = 0u64;
    let mut shift = 0u32;
    for &byte in bytes {
        if shift >= 64 {
            break;
        }
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            values.push(value);
            value = 0;
            shift = 0;
        } else {
            shift += 7;
        }
    }
    values
}

pub fn encode_list(values: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(values.len() * 2);
    for value in values {
        push_varint(&mut out, *value);
    }
    out
}

/// Sorted, distinct values as deltas (posting lists).
pub fn encode_ascending(sorted: &[u64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(sorted.len() * 2);
    let mut previous = 0u64;
    for value in sorted {
        push_varint(&mut out, value - previous);
        previous = *value;
    }
    out
}

pub fn decode_ascending(bytes: &[u8]) -> Vec<u64> {
    let mut values = read_varints(bytes);
    let mut total = 0u64;
    for value in &mut values {
        total = total.wrapping_add(*value);
        *value = total;
    }
    values
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn terms_of_different_kinds_and_splits_differ() {
        assert_ne!(service("a"), name("a"));
        assert_ne!(operation("a", "bc"), operation("ab", "c"));
        assert_ne!(attribute_key("a"), name("a"));
        let shapes = shapes_of("a", "b", SpanKind::Server, StatusCode::Error);
        let distinct: std::collections::HashSet<u64> = shapes.iter().copied().collect();
        assert_eq!(distinct.len(), shapes.len());
        // An absent service is not an empty one.
        assert_ne!(
            shapes_of("", "b", SpanKind::Server, StatusCode::Error)[3],
            shapes[0]
        );
        assert!(shapes.contains(&shape(Shape {
            service: Some("a"),
            name: None,
            kind: Some(SpanKind::Server),
            status: Some(StatusCode::Error),
        })));
    }

    proptest! {
        #[test]
        fn ascending_lists_round_trip(mut values in proptest::collection::vec(any::<u64>(), 0..50)) {
            values.sort_unstable();
            values.dedup();
            prop_assert_eq!(decode_ascending(&encode_ascending(&values)), values);
        }

        #[test]
        fn lists_round_trip(values in proptest::collection::vec(any::<u64>(), 0..50)) {
            prop_assert_eq!(read_varints(&encode_list(&values)), values);
        }
    }
}
