//! Trace and span identifiers: fixed-size byte arrays, shown and serialised as lower-case hex.
//!
//! Typed or linked trace ids (the API's paths and bodies, the UI's deep links, the CLI) may be
//! 64-bit: 16 hex digits mean the zero-padded 128-bit id, as in Jaeger and Zipkin, whose older
//! tracers made such ids. That is [`TraceId`]'s `FromStr` (and so its serde form); ids in OTLP
//! payloads are read by the format decoders, which keep OTLP's own rules.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("expected {expected} hex digits, got {actual}")]
    WrongLength { expected: usize, actual: usize },
    #[error("expected 32 hex digits (or 16 for a 64-bit id), got {actual}")]
    WrongTraceIdLength { actual: usize },
    #[error("invalid hex digit {digit:?} at position {position}")]
    InvalidDigit { digit: char, position: usize },
    #[error("an all-zero id is invalid")]
    AllZero,
    #[error("expected {expected} bytes, got {actual}")]
    WrongByteLength { expected: usize, actual: usize },
    /// An id in OTLP JSON that is neither hex nor base64 of the right length. `value` is the
    /// text as given, cut to [`MAX_QUOTED_ID_CHARS`] characters.
    #[error("{value:?}: expected {} hex digits or base64 of {byte_len} bytes", byte_len * 2)]
    Unreadable { value: String, byte_len: usize },
}

/// How much of an unreadable id a message quotes: enough to recognise it, not a megabyte.
pub const MAX_QUOTED_ID_CHARS: usize = 64;

macro_rules! define_id {
    ($name:ident, $len:expr, $doc:literal) => {
        #[doc = $doc]
        #[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
        pub struct $name(pub [u8; $len]);

        impl std::hash::Hash for $name {
            /// As whole words, which hashes several times faster than a byte slice (with its
            /// length prefix) in maps of 100,000 spans, notably in wasm. Big-endian, so that ids
            /// counted up in their last bytes (`…0001`, `…0002`, as test tools make them) vary
            /// in the low bits that a multiplicative hash like FxHash spreads best.
            fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
                for word in self.0.chunks_exact(8) {
                    let word: [u8; 8] = word.try_into().expect("ids are whole words");
                    state.write_u64(u64::from_be_bytes(word));
                }
            }
        }

        impl $name {
            pub const BYTE_LEN: usize = $len;

            /// Accepts exactly `BYTE_LEN` bytes that are not all zero (the OTLP rule for valid ids).
            pub fn from_bytes(bytes: &[u8]) -> Result<Self, IdError> {
                let array: [u8; $len] = bytes.try_into().map_err(|_| IdError::WrongByteLength {
                    expected: $len,
                    actual: bytes.len(),
                })?;
                if array == [0u8; $len] {
                    return Err(IdError::AllZero);
                }
                Ok(Self(array))
            }

            pub fn to_hex(&self) -> String {
                let mut out = String::with_capacity($len * 2);
                for byte in self.0 {
                    out.push(HEX_DIGITS[(byte >> 4) as usize] as char);
                    out.push(HEX_DIGITS[(byte & 0x0f) as usize] as char);
                }
                out
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.to_hex())
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}({})", stringify!($name), self.to_hex())
            }
        }

        impl Serialize for $name {
            fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.to_hex())
            }
        }

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let hex = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
                hex.parse().map_err(serde::de::Error::custom)
            }
        }
    };
}

define_id!(TraceId, 16, "A 16-byte W3C trace id.");
define_id!(SpanId, 8, "An 8-byte span id.");

impl FromStr for TraceId {
    type Err = IdError;

    /// Parses 32 hex digits, or 16 for a 64-bit id (zero-padded on the left), case-insensitively
    /// (the OTLP examples use upper case).
    fn from_str(hex: &str) -> Result<Self, IdError> {
        let mut bytes = [0u8; 16];
        match hex.len() {
            32 => bytes.copy_from_slice(&decode_hex(hex, 16)?),
            16 => bytes[8..].copy_from_slice(&decode_hex(hex, 8)?),
            actual => return Err(IdError::WrongTraceIdLength { actual }),
        }
        Self::from_bytes(&bytes)
    }
}

impl FromStr for SpanId {
    type Err = IdError;

    /// Parses 16 hex digits case-insensitively.
    fn from_str(hex: &str) -> Result<Self, IdError> {
        Self::from_bytes(&decode_hex(hex, 8)?)
    }
}

const HEX_DIGITS: &[u8; 16] = b"0123456789abcdef";

fn decode_hex(hex: &str, byte_len: usize) -> Result<Vec<u8>, IdError> {
    if hex.len() != byte_len * 2 {
        return Err(IdError::WrongLength {
            expected: byte_len * 2,
            actual: hex.len(),
        });
    }
    let mut bytes = Vec::with_capacity(byte_len);
    let digits: Vec<char> = hex.chars().collect();
    for (pair_idx, pair) in digits.chunks(2).enumerate() {
        let mut byte = 0u8;
        for (offset, digit) in pair.iter().enumerate() {
            let value = digit.to_digit(16).ok_or(IdError::InvalidDigit {
                digit: *digit,
                position: pair_idx * 2 + offset,
            })?;
            byte = (byte << 4) | value as u8;
        }
        bytes.push(byte);
    }
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_upper_case_and_prints_lower_case() {
        let id: TraceId = "5B8EFFF798038103D269B633813FC60C".parse().unwrap();
        assert_eq!(id.to_string(), "5b8efff798038103d269b633813fc60c");
    }

    #[test]
    fn rejects_bad_ids_with_a_reason() {
        assert_eq!(
            "abc".parse::<SpanId>(),
            Err(IdError::WrongLength {
                expected: 16,
                actual: 3
            })
        );
        assert_eq!("0000000000000000".parse::<SpanId>(), Err(IdError::AllZero));
        assert_eq!(
            "00000000000000zz".parse::<SpanId>(),
            Err(IdError::InvalidDigit {
                digit: 'z',
                position: 14
            })
        );
    }

    #[test]
    fn a_64_bit_trace_id_is_the_zero_padded_128_bit_id() {
        let short: TraceId = "63CA8F3B0ACCD9D7".parse().unwrap();
        let long: TraceId = "000000000000000063ca8f3b0accd9d7".parse().unwrap();
        assert_eq!(short, long);
        assert_eq!(short.to_string(), "000000000000000063ca8f3b0accd9d7");
        assert_eq!(
            serde_json::from_str::<TraceId>("\"63ca8f3b0accd9d7\"").unwrap(),
            long
        );
    }

    #[test]
    fn rejects_bad_trace_ids_with_a_reason() {
        let error = "abc".parse::<TraceId>().unwrap_err();
        assert_eq!(error, IdError::WrongTraceIdLength { actual: 3 });
        assert_eq!(
            error.to_string(),
            "expected 32 hex digits (or 16 for a 64-bit id), got 3"
        );
        // Other lengths Jaeger would pad are not guessed at.
        assert!("63ca8f3b0accd9d7aa".parse::<TraceId>().is_err());
        assert_eq!("0000000000000000".parse::<TraceId>(), Err(IdError::AllZero));
        assert_eq!(
            "63ca8f3b0accd9dg".parse::<TraceId>(),
            Err(IdError::InvalidDigit {
                digit: 'g',
                position: 15
            })
        );
    }

    proptest! {
        #[test]
        fn hex_round_trips(bytes in any::<[u8; 16]>().prop_filter("non-zero", |b| *b != [0; 16])) {
            let id = TraceId(bytes);
            prop_assert_eq!(id.to_hex().parse::<TraceId>(), Ok(id));
            let json = serde_json::to_string(&id).unwrap();
            prop_assert_eq!(serde_json::from_str::<TraceId>(&json).unwrap(), id);
        }
    }
}
