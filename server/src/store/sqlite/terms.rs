//! Search terms and posting lists.
//!
//! A term is a 64-bit hash of what a search can ask for: a service, a service's operation, an
//! operation name in any service, an attribute key=value (span and resource attributes, scalar
//! values compared as text). Two different terms share a hash with a chance of about 1 in 2^64
//! per pair, which a search would show as an extra trace; not a risk worth a table of strings.

use spanview_core::{AnyValue, KeyValue};
use xxhash_rust::xxh3::Xxh3;

/// Attribute values longer than this are stored but not searchable.
pub const MAX_INDEXED_VALUE_BYTES: usize = 256;

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

/// The term of an attribute as a search names it, when its value is searchable: strings,
/// booleans and numbers as text (`http.status_code:500`); long texts and composites are not.
pub fn of_attribute(attribute: &KeyValue) -> Option<u64> {
    match &attribute.value {
        AnyValue::String(text) if text.len() <= MAX_INDEXED_VALUE_BYTES => {
            Some(self::attribute(&attribute.key, text))
        }
        AnyValue::Bool(_) | AnyValue::Int(_) | AnyValue::Double(_) => Some(self::attribute(
            &attribute.key,
            &attribute.value.to_display_string(),
        )),
        _ => None,
    }
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
        assert_eq!(
            of_attribute(&KeyValue::new("http.status_code", 500i64)),
            Some(attribute("http.status_code", "500"))
        );
        assert_eq!(of_attribute(&KeyValue::new("sql", "x".repeat(300))), None);
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
