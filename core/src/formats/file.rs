//! Trace files of any supported format, recognised by their content (not their name) and decoded
//! into one [`Batch`]: the single entry point of the browser's upload, `POST /api/import` and
//! `spanview import`, so that all three accept and refuse exactly the same files.

use std::io::Read;

use serde::Deserialize;
use serde::de::IgnoredAny;

use crate::model::Batch;

use super::jaeger::{self, JaegerTrace};
use super::otlp::{self, OtlpError, RejectedSpans};
use super::progress;
use super::strip_position;
use super::zipkin::{self, ZipkinSpan};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    OtlpJson,
    OtlpJsonLines,
    OtlpProtobuf,
    /// OTLP JSON wrapped as Jaeger's API v3 `GetTrace` response (`{"result": …}`).
    JaegerApiV3,
    /// Grafana Tempo's trace by id, also Grafana's trace download: OTLP JSON resource spans
    /// under `batches`, often pre-1.0 with base64 ids.
    TempoJson,
    JaegerJson,
    ZipkinJson,
}

impl Format {
    /// A stable short name, for APIs and logs.
    pub fn id(self) -> &'static str {
        match self {
            Self::OtlpJson => "otlp-json",
            Self::OtlpJsonLines => "otlp-jsonl",
            Self::OtlpProtobuf => "otlp-protobuf",
            Self::JaegerApiV3 => "jaeger-api-v3",
            Self::TempoJson => "tempo-json",
            Self::JaegerJson => "jaeger-json",
            Self::ZipkinJson => "zipkin-json",
        }
    }

    /// The name people know the format by.
    pub fn label(self) -> &'static str {
        match self {
            Self::OtlpJson => "OTLP JSON",
            Self::OtlpJsonLines => "OTLP JSON Lines",
            Self::OtlpProtobuf => "OTLP protobuf",
            Self::JaegerApiV3 => "Jaeger API v3 (OTLP JSON)",
            Self::TempoJson => "Grafana Tempo JSON",
            Self::JaegerJson => "Jaeger JSON",
            Self::ZipkinJson => "Zipkin v2 JSON",
        }
    }
}

const ACCEPTED: &str = "OTLP JSON, OTLP JSON Lines, OTLP protobuf, Jaeger JSON, Zipkin v2 JSON or \
                        a Grafana Tempo trace (optionally gzip-compressed)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// A gzip-compressed file may not inflate beyond this (a gzip bomb stops here).
    pub max_decompressed_bytes: u64,
}

impl Default for DecodeLimits {
    fn default() -> Self {
        Self {
            max_decompressed_bytes: 1 << 30,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct DecodedFile {
    pub format: Format,
    pub gzipped: bool,
    pub batch: Batch,
    /// Spans left out (bad ids), with the first reason.
    pub rejected: RejectedSpans,
    /// JSON Lines holding metrics or logs rather than traces, skipped.
    pub skipped_lines: usize,
    /// Some ids were base64 rather than hex (OTLP JSON, Tempo), see [`otlp::Decoded`].
    pub base64_ids: bool,
}

impl DecodedFile {
    /// E.g. `Zipkin v2 JSON`, `OTLP JSON (gzip)`.
    pub fn format_label(&self) -> String {
        if self.gzipped {
            format!("{} (gzip)", self.format.label())
        } else {
            self.format.label().to_owned()
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FileError {
    #[error("the file is empty")]
    Empty,
    #[error("gzip: the compressed data is corrupt or truncated ({0})")]
    Gzip(String),
    #[error("gzip: the file inflates beyond the limit of {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("{format}: line {line} column {column}: {message}")]
    Syntax {
        format: &'static str,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{format}: {message}")]
    Invalid {
        format: &'static str,
        message: String,
    },
    #[error("no trace spans: the file holds {0}")]
    NoTraces(String),
    #[error("unknown format ({found}); expected {ACCEPTED}")]
    Unknown { found: String },
}

/// Recognises the format of `bytes` and decodes it.
pub fn decode_file(bytes: &[u8], limits: &DecodeLimits) -> Result<DecodedFile, FileError> {
    if bytes.starts_with(&[0x1f, 0x8b]) {
        let inflated = gunzip(bytes, limits.max_decompressed_bytes)?;
        let mut decoded = decode_plain(&inflated)?;
        decoded.gzipped = true;
        return Ok(decoded);
    }
    decode_plain(bytes)
}

fn gunzip(bytes: &[u8], limit: u64) -> Result<Vec<u8>, FileError> {
    let mut inflated = Vec::new();
    flate2::read::MultiGzDecoder::new(bytes)
        .take(limit.saturating_add(1))
        .read_to_end(&mut inflated)
        .map_err(|error| FileError::Gzip(error.to_string()))?;
    if inflated.len() as u64 > limit {
        return Err(FileError::TooLarge { limit });
    }
    Ok(inflated)
}

fn decode_plain(bytes: &[u8]) -> Result<DecodedFile, FileError> {
    let without_bom = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let Some(offset) = without_bom
        .iter()
        .position(|byte| !byte.is_ascii_whitespace())
    else {
        return Err(FileError::Empty);
    };
    let body = &without_bom[offset..];
    let as_json = match body[0] {
        b'{' if is_json_lines(body) => decode_json_lines(body),
        b'{' => decode_json_object(body),
        b'[' => decode_json_array(body),
        _ => return decode_protobuf(bytes),
    };
    // A protobuf export starts with 0x0a (field 1), which is also a newline, and its length byte
    // may happen to be `{` or `[`: when such a file is not JSON, it may still be protobuf.
    match as_json {
        Err(json_error) if bytes[0] == b'\n' => decode_protobuf(bytes).or(Err(json_error)),
        decoded => decoded,
    }
}

/// The first line is a whole JSON value and more lines follow: the Collector's file exporter.
/// Newlines are found with `memchr` (SIMD where there is any): a whole export is often one
/// 50 MB line, and looking for its end a byte at a time cost the browser's worker 45 ms.
fn is_json_lines(body: &[u8]) -> bool {
    let mut lines = memchr::memchr_iter(b'\n', body)
        .chain(std::iter::once(body.len()))
        .scan(0, |start, end| {
            let line = &body[*start..end];
            *start = end + 1;
            Some(line)
        })
        .filter(|line| !line.trim_ascii().is_empty());
    let first = lines.next().unwrap_or_default();
    lines.next().is_some() && serde_json::from_slice::<IgnoredAny>(first).is_ok()
}

/// Which top-level keys a JSON object has, read only until one of them decides the format:
/// parsing a 50 MB file in full just to learn its first key would double the cost of opening it.
#[derive(Debug, Default, Clone, Copy)]
struct ObjectProbe {
    resource_spans: bool,
    batches: bool,
    /// Tempo's API v2 wrapper.
    trace: bool,
    resource_metrics: bool,
    resource_logs: bool,
    result: bool,
    data: bool,
    trace_id: bool,
    spans: bool,
    /// The probe stopped at a deciding key; the rest of the document was not read.
    decided: bool,
}

/// The message of the error that stops a probe once it has decided (never shown).
const PROBE_DECIDED: &str = "spanview: probe decided";

impl ObjectProbe {
    fn of(body: &[u8]) -> Result<Self, serde_json::Error> {
        use serde::de::DeserializeSeed;
        let mut probe = ObjectProbe::default();
        let mut deserializer = serde_json::Deserializer::from_slice(body);
        match (&mut probe).deserialize(&mut deserializer) {
            Ok(()) => deserializer.end().map(|()| probe),
            Err(_) if probe.decided => Ok(probe),
            Err(error) => Err(error),
        }
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for &mut ObjectProbe {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_map(self)
    }
}

impl<'de> serde::de::Visitor<'de> for &mut ObjectProbe {
    type Value = ();

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        formatter.write_str("a JSON object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        while let Some(key) = map.next_key::<TopLevelKey>()? {
            match key {
                TopLevelKey::ResourceSpans => self.resource_spans = true,
                TopLevelKey::Batches => self.batches = true,
                TopLevelKey::Trace => self.trace = true,
                TopLevelKey::ResourceMetrics => self.resource_metrics = true,
                TopLevelKey::ResourceLogs => self.resource_logs = true,
                TopLevelKey::Result => self.result = true,
                TopLevelKey::Data => self.data = true,
                TopLevelKey::TraceId => self.trace_id = true,
                TopLevelKey::Spans => self.spans = true,
                TopLevelKey::Other => {}
            }
            if self.resource_spans
                || self.batches
                || self.trace
                || self.result
                || self.data
                || (self.trace_id && self.spans)
            {
                self.decided = true;
                return Err(serde::de::Error::custom(PROBE_DECIDED));
            }
            map.next_value::<IgnoredAny>()?;
        }
        Ok(())
    }
}

/// A top-level key, recognised without allocating it.
enum TopLevelKey {
    ResourceSpans,
    Batches,
    Trace,
    ResourceMetrics,
    ResourceLogs,
    Result,
    Data,
    TraceId,
    Spans,
    Other,
}

impl<'de> Deserialize<'de> for TopLevelKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct KeyVisitor;
        impl serde::de::Visitor<'_> for KeyVisitor {
            type Value = TopLevelKey;

            fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
                formatter.write_str("a key")
            }

            fn visit_str<E: serde::de::Error>(self, key: &str) -> Result<TopLevelKey, E> {
                Ok(match key {
                    "resourceSpans" => TopLevelKey::ResourceSpans,
                    "batches" => TopLevelKey::Batches,
                    "trace" => TopLevelKey::Trace,
                    "resourceMetrics" => TopLevelKey::ResourceMetrics,
                    "resourceLogs" => TopLevelKey::ResourceLogs,
                    "result" => TopLevelKey::Result,
                    "data" => TopLevelKey::Data,
                    "traceID" => TopLevelKey::TraceId,
                    "spans" => TopLevelKey::Spans,
                    _ => TopLevelKey::Other,
                })
            }
        }
        deserializer.deserialize_identifier(KeyVisitor)
    }
}

/// The format a broken JSON file was probably meant to be, from the keys near its start, so
/// that its syntax error names it ("OTLP JSON: line 1 column 20: …").
fn guessed_format(body: &[u8]) -> &'static str {
    let head = &body[..body.len().min(4096)];
    let has = |key: &str| {
        head.windows(key.len())
            .any(|window| window == key.as_bytes())
    };
    if has("\"resourceSpans\"") {
        if has("\"result\"") {
            Format::JaegerApiV3.label()
        } else {
            Format::OtlpJson.label()
        }
    } else if has("\"batches\"") || body.starts_with(b"{\"trace\"") {
        Format::TempoJson.label()
    } else if has("\"traceID\"") || has("\"operationName\"") {
        Format::JaegerJson.label()
    } else if body.first() == Some(&b'[') && has("\"traceId\"") {
        Format::ZipkinJson.label()
    } else {
        "JSON"
    }
}

fn syntax_error(format: &'static str, error: &serde_json::Error) -> FileError {
    FileError::Syntax {
        format,
        line: error.line(),
        column: error.column(),
        message: strip_position(&error.to_string()),
    }
}

fn decode_json_object(body: &[u8]) -> Result<DecodedFile, FileError> {
    let probe =
        ObjectProbe::of(body).map_err(|error| syntax_error(guessed_format(body), &error))?;
    if probe.resource_spans {
        expect_spans(body, OTLP_SPAN_KEY, otlp::CONVERSION_UNITS);
        let decoded =
            otlp::decode_json(body).map_err(|error| otlp_error(Format::OtlpJson, error))?;
        return Ok(finish_otlp(Format::OtlpJson, decoded));
    }
    if probe.batches {
        let format = Format::TempoJson;
        expect_spans(body, OTLP_SPAN_KEY, otlp::CONVERSION_UNITS);
        let decoded =
            otlp::decode_tempo_json(body).map_err(|error| syntax_error(format.label(), &error))?;
        return Ok(finish_otlp(format, decoded));
    }
    if probe.trace {
        let format = Format::TempoJson;
        expect_spans(body, OTLP_SPAN_KEY, otlp::CONVERSION_UNITS);
        let decoded = otlp::decode_tempo_v2_json(body)
            .map_err(|error| syntax_error(format.label(), &error))?;
        return Ok(finish_otlp(format, decoded));
    }
    if probe.result {
        let format = Format::JaegerApiV3;
        expect_spans(body, OTLP_SPAN_KEY, otlp::CONVERSION_UNITS);
        let decoded = otlp::decode_jaeger_v3_json(body)
            .map_err(|error| syntax_error(format.label(), &error))?;
        return Ok(finish_otlp(format, decoded));
    }
    if probe.data {
        #[derive(Deserialize)]
        struct Envelope {
            #[serde(default)]
            data: Option<Vec<JaegerTrace>>,
        }
        expect_spans(body, JAEGER_SPAN_KEY, jaeger::CONVERSION_UNITS);
        let envelope: Envelope = serde_json::from_slice(body)
            .map_err(|error| syntax_error(Format::JaegerJson.label(), &error))?;
        return jaeger_file(envelope.data.unwrap_or_default());
    }
    if probe.trace_id && probe.spans {
        expect_spans(body, JAEGER_SPAN_KEY, jaeger::CONVERSION_UNITS);
        let trace: JaegerTrace = serde_json::from_slice(body)
            .map_err(|error| syntax_error(Format::JaegerJson.label(), &error))?;
        return jaeger_file(vec![trace]);
    }
    if probe.resource_metrics || probe.resource_logs {
        return Err(FileError::NoTraces(String::from(
            "OTLP metrics or logs, not traces",
        )));
    }
    Err(FileError::Unknown {
        found: String::from(
            "a JSON object without resourceSpans, batches, trace, data or traceID and spans",
        ),
    })
}

fn decode_json_array(body: &[u8]) -> Result<DecodedFile, FileError> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ElementProbe {
        trace_id: Option<IgnoredAny>,
        id: Option<IgnoredAny>,
        #[serde(rename = "traceID")]
        jaeger_trace_id: Option<IgnoredAny>,
        spans: Option<IgnoredAny>,
    }
    let first = first_element::<ElementProbe>(body)
        .map_err(|error| syntax_error(guessed_format(body), &error))?;
    let Some(first) = first else {
        return Err(FileError::NoTraces(String::from("an empty JSON array")));
    };
    if first.jaeger_trace_id.is_some() && first.spans.is_some() {
        expect_spans(body, JAEGER_SPAN_KEY, jaeger::CONVERSION_UNITS);
        let traces: Vec<JaegerTrace> = serde_json::from_slice(body)
            .map_err(|error| syntax_error(Format::JaegerJson.label(), &error))?;
        return jaeger_file(traces);
    }
    if first.trace_id.is_some() && first.id.is_some() {
        #[derive(Deserialize)]
        struct ZipkinSpans(#[serde(deserialize_with = "progress::counted")] Vec<ZipkinSpan>);
        let format = Format::ZipkinJson;
        expect_spans(body, ZIPKIN_SPAN_KEY, zipkin::CONVERSION_UNITS);
        let ZipkinSpans(spans) =
            serde_json::from_slice(body).map_err(|error| syntax_error(format.label(), &error))?;
        let (batch, rejected) = zipkin::from_spans(spans);
        return Ok(finish(format, batch, rejected, 0));
    }
    Err(FileError::Unknown {
        found: String::from("a JSON array of neither Zipkin spans nor Jaeger traces"),
    })
}

/// The first element of a JSON array, without reading the others (see [`ObjectProbe`]).
fn first_element<T: serde::de::DeserializeOwned>(
    body: &[u8],
) -> Result<Option<T>, serde_json::Error> {
    struct First<T>(Option<T>);
    impl<'de, T: serde::de::DeserializeOwned> serde::de::Visitor<'de> for &mut First<T> {
        type Value = ();

        fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
            formatter.write_str("a JSON array")
        }

        fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
            self.0 = seq.next_element::<T>()?;
            match self.0 {
                Some(_) => Err(serde::de::Error::custom(PROBE_DECIDED)),
                None => Ok(()),
            }
        }
    }
    let mut first = First(None);
    let mut deserializer = serde_json::Deserializer::from_slice(body);
    match serde::Deserializer::deserialize_seq(&mut deserializer, &mut first) {
        Ok(()) => deserializer.end().map(|()| first.0),
        Err(_) if first.0.is_some() => Ok(first.0),
        Err(error) => Err(error),
    }
}

/// A key that each span of the format has exactly once (links and references have ids too,
/// events and annotations timestamps): its count is the progress bar's 100 %.
const OTLP_SPAN_KEY: &str = "\"startTimeUnixNano\"";
const JAEGER_SPAN_KEY: &str = "\"operationName\"";
const ZIPKIN_SPAN_KEY: &str = "\"traceId\"";

/// Tells [`progress`] how much work decoding `body` is (reading then converting each span), if
/// anyone is listening.
fn expect_spans(body: &[u8], span_key: &str, conversion_units: u64) {
    progress::expect(|| {
        progress::occurrences(body, span_key) * (progress::READ_UNITS + conversion_units)
    });
}

fn jaeger_file(traces: Vec<JaegerTrace>) -> Result<DecodedFile, FileError> {
    let (batch, rejected) = jaeger::from_traces(traces);
    Ok(finish(Format::JaegerJson, batch, rejected, 0))
}

fn decode_json_lines(body: &[u8]) -> Result<DecodedFile, FileError> {
    let format = Format::OtlpJsonLines;
    let mut batch = Batch::default();
    let mut rejected = RejectedSpans::default();
    let mut skipped_lines = 0;
    let mut base64_ids = false;
    expect_spans(body, OTLP_SPAN_KEY, otlp::CONVERSION_UNITS);
    for (line_idx, line) in body.split(|byte| *byte == b'\n').enumerate() {
        if line.trim_ascii().is_empty() {
            continue;
        }
        let line_number = line_idx + 1;
        let at_line = |error: &serde_json::Error| FileError::Syntax {
            format: format.label(),
            line: line_number,
            column: error.column(),
            message: strip_position(&error.to_string()),
        };
        let probe = ObjectProbe::of(line).map_err(|error| at_line(&error))?;
        if !probe.resource_spans {
            if probe.resource_metrics || probe.resource_logs {
                skipped_lines += 1;
                continue;
            }
            return Err(FileError::Invalid {
                format: format.label(),
                message: format!("line {line_number} holds neither traces, metrics nor logs"),
            });
        }
        let decoded = otlp::decode_json(line).map_err(|error| match error {
            OtlpError::Json {
                column, message, ..
            } => FileError::Syntax {
                format: format.label(),
                line: line_number,
                column,
                message,
            },
            other => otlp_error(format, other),
        })?;
        if decoded.rejected.count > 0 && rejected.first_reason.is_none() {
            rejected.first_reason = decoded
                .rejected
                .first_reason
                .map(|reason| format!("line {line_number}: {reason}"));
        }
        rejected.count += decoded.rejected.count;
        base64_ids |= decoded.base64_ids;
        batch.append(decoded.batch);
    }
    let mut file = finish(format, batch, rejected, skipped_lines);
    file.base64_ids = base64_ids;
    Ok(file)
}

fn decode_protobuf(bytes: &[u8]) -> Result<DecodedFile, FileError> {
    let format = Format::OtlpProtobuf;
    // The protobuf decoder reports the offset it has reached.
    progress::expect(|| bytes.len() as u64);
    match otlp::decode_protobuf(bytes) {
        // Arbitrary bytes can parse as an empty message: without spans it is not a trace file.
        Ok(decoded) if decoded.batch.spans.is_empty() && decoded.rejected.count == 0 => {
            Err(unknown_binary(bytes))
        }
        Ok(decoded) => Ok(finish_otlp(format, decoded)),
        // Text that is not JSON: name what it looks like rather than a protobuf wire error.
        Err(_) if looks_like_text(bytes) => Err(unknown_binary(bytes)),
        Err(error) => Err(otlp_error(format, error)),
    }
}

fn unknown_binary(bytes: &[u8]) -> FileError {
    FileError::Unknown {
        found: if looks_like_text(bytes) {
            format!("text starting with {:?}", snippet(bytes))
        } else {
            String::from("binary data that is not an OTLP protobuf trace export")
        },
    }
}

fn looks_like_text(bytes: &[u8]) -> bool {
    let sample = &bytes[..bytes.len().min(512)];
    std::str::from_utf8(sample).is_ok_and(|text| {
        text.chars()
            .all(|c| !c.is_control() || c.is_ascii_whitespace())
    })
}

fn snippet(bytes: &[u8]) -> String {
    String::from_utf8_lossy(&bytes[..bytes.len().min(40)])
        .trim()
        .to_owned()
}

fn otlp_error(format: Format, error: OtlpError) -> FileError {
    match error {
        OtlpError::Json {
            line,
            column,
            message,
        } => FileError::Syntax {
            format: format.label(),
            line,
            column,
            message,
        },
        OtlpError::Protobuf { offset, message } => FileError::Invalid {
            format: format.label(),
            message: format!("at byte {offset}: {message}"),
        },
    }
}

fn finish(
    format: Format,
    batch: Batch,
    rejected: RejectedSpans,
    skipped_lines: usize,
) -> DecodedFile {
    DecodedFile {
        format,
        gzipped: false,
        batch,
        rejected,
        skipped_lines,
        base64_ids: false,
    }
}

fn finish_otlp(format: Format, decoded: otlp::Decoded) -> DecodedFile {
    let mut file = finish(format, decoded.batch, decoded.rejected, 0);
    file.base64_ids = decoded.base64_ids;
    file
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::ids::{SpanId, TraceId};
    use crate::model::{AnyValue, Event, KeyValue, Resource, Scope, Span, SpanKind, Status};

    fn attribute() -> impl Strategy<Value = KeyValue> {
        let value = prop_oneof![
            "[a-z <>&\"]{0,12}".prop_map(AnyValue::String),
            any::<bool>().prop_map(AnyValue::Bool),
            any::<i64>().prop_map(AnyValue::Int),
            (-1e9f64..1e9).prop_map(AnyValue::Double),
        ];
        ("[a-z.]{1,10}", value).prop_map(|(key, value)| KeyValue { key, value })
    }

    /// Batches as any exporter could send them; times in whole microseconds so that Jaeger JSON
    /// (microseconds) can carry them too.
    fn batch() -> impl Strategy<Value = Batch> {
        let span = (
            1u8..4,
            1u64..u64::MAX,
            proptest::option::of(1u64..u64::MAX),
            "[a-zA-Z /{}]{0,16}",
            0u64..1_000_000_000_000,
            0u64..10_000_000,
            proptest::collection::vec(attribute(), 0..4),
            proptest::option::of(("[a-z]{1,8}", 0u64..1_000_000)),
            0usize..2,
            any::<bool>(),
        )
            .prop_map(
                |(
                    trace,
                    id,
                    parent,
                    name,
                    start_us,
                    duration_us,
                    attributes,
                    event,
                    resource,
                    error,
                )| Span {
                    trace_id: TraceId([trace; 16]),
                    span_id: SpanId(id.to_be_bytes()),
                    parent_span_id: parent.map(|parent| SpanId(parent.to_be_bytes())),
                    name,
                    kind: SpanKind::Server,
                    start_nanos: start_us * 1_000,
                    end_nanos: (start_us + duration_us) * 1_000,
                    attributes,
                    events: event
                        .map(|(name, at)| Event {
                            name,
                            time_nanos: (start_us + at) * 1_000,
                            attributes: Vec::new(),
                        })
                        .into_iter()
                        .collect(),
                    links: Vec::new(),
                    status: Status {
                        code: if error {
                            StatusCode::Error
                        } else {
                            StatusCode::Unset
                        },
                        message: String::new(),
                    },
                    trace_state: String::new(),
                    flags: 0,
                    dropped: Default::default(),
                    resource_idx: resource as u32,
                    scope_idx: 0,
                },
            );
        proptest::collection::vec(span, 1..12).prop_map(|spans| Batch {
            resources: ["api", "db"]
                .map(|service| Resource {
                    attributes: vec![KeyValue::new("service.name", service)],
                    schema_url: String::new(),
                })
                .to_vec(),
            scopes: vec![Scope::default()],
            spans,
        })
    }

    use crate::model::StatusCode;

    fn spans_by_id(batch: &Batch) -> Vec<(String, String)> {
        let mut spans: Vec<(String, String)> = batch
            .spans
            .iter()
            .map(|span| {
                // Resource and scope tables are laid out per export; compare their content.
                let mut plain = span.clone();
                plain.resource_idx = 0;
                plain.scope_idx = 0;
                let scope = batch.scopes.get(span.scope_idx as usize).cloned();
                (
                    format!("{plain:?} {scope:?}"),
                    batch.service_of(span).to_owned(),
                )
            })
            .collect();
        spans.sort();
        spans
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
            let _ = decode_file(&bytes, &DecodeLimits::default());
        }

        #[test]
        fn arbitrary_json_like_text_never_panics(text in "[\\[\\]{}\":,a-zA-Z0-9 \n]{0,200}") {
            let _ = decode_file(text.as_bytes(), &DecodeLimits::default());
        }

        #[test]
        fn otlp_exports_round_trip(batch in batch()) {
            let limits = DecodeLimits::default();
            let json = decode_file(otlp::encode_json(&batch).as_bytes(), &limits).unwrap();
            prop_assert_eq!(json.format, Format::OtlpJson);
            prop_assert_eq!(spans_by_id(&json.batch), spans_by_id(&batch));
            let protobuf = decode_file(&otlp::encode_protobuf(&batch), &limits).unwrap();
            prop_assert_eq!(protobuf.format, Format::OtlpProtobuf);
            prop_assert_eq!(spans_by_id(&protobuf.batch), spans_by_id(&batch));
        }

        #[test]
        fn json_lines_round_trip(batch in batch()) {
            // The Collector's file exporter: one request per line.
            let lines: Vec<String> = batch
                .spans
                .iter()
                .map(|span| {
                    otlp::encode_json(&Batch {
                        resources: batch.resources.clone(),
                        scopes: batch.scopes.clone(),
                        spans: vec![span.clone()],
                    })
                })
                .collect();
            let text = lines.join("\n") + "\n";
            let decoded = decode_file(text.as_bytes(), &DecodeLimits::default()).unwrap();
            let expected = if batch.spans.len() > 1 { Format::OtlpJsonLines } else { Format::OtlpJson };
            prop_assert_eq!(decoded.format, expected);
            prop_assert_eq!(spans_by_id(&decoded.batch), spans_by_id(&batch));
        }

        #[test]
        fn jaeger_exports_round_trip(batch in batch()) {
            let decoded = decode_file(jaeger::encode_json(&batch).as_bytes(), &DecodeLimits::default()).unwrap();
            prop_assert_eq!(decoded.format, Format::JaegerJson);
            // Jaeger has no "server" without a span.kind tag and no unset status: compare what it keeps.
            let keep = |batch: &Batch| -> Vec<String> {
                let mut spans: Vec<String> = batch.spans.iter().map(|span| format!(
                    "{} {:?} {:?} {} {} {} {} {}",
                    span.span_id,
                    span.parent_span_id,
                    span.name,
                    span.start_nanos,
                    span.end_nanos,
                    span.attributes.len() + span.events.len(),
                    span.is_error(),
                    batch.service_of(span),
                )).collect();
                spans.sort();
                spans
            };
            prop_assert_eq!(keep(&decoded.batch), keep(&batch));
        }
    }

    /// Tempo 1.x as Grafana downloads it: pre-1.0 names, base64 ids (a 64-bit trace id,
    /// zero-padded), enum names, an empty status.
    const TEMPO_1: &str = r#"{"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"frontend"}}]},
      "instrumentationLibrarySpans":[{"instrumentationLibrary":{"name":"otelhttp","version":"0.20.0"},"spans":[
        {"traceId":"AAAAAAAAAABjCr2q+hYLYQ==","spanId":"Ywq9qvoWC2E=","name":"HTTP GET","kind":"SPAN_KIND_SERVER",
         "startTimeUnixNano":"1629908285385012000","endTimeUnixNano":"1629908285385894000",
         "attributes":[{"key":"http.status_code","value":{"intValue":"200"}}],"status":{}},
        {"traceId":"AAAAAAAAAABjCr2q+hYLYQ==","spanId":"AQIDBAUGBwg=","parentSpanId":"Ywq9qvoWC2E=","name":"SELECT",
         "kind":"SPAN_KIND_CLIENT","startTimeUnixNano":"1629908285385100000","endTimeUnixNano":"1629908285385800000",
         "status":{"code":"STATUS_CODE_ERROR","message":"timeout"}}]}]}]}"#;

    /// Tempo 2.x: `scopeSpans`, still base64 ids and enum names.
    const TEMPO_2: &str = r#"{"batches":[{"resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}}]},
      "scopeSpans":[{"scope":{"name":"checkout"},"spans":[
        {"traceId":"W47/95gDgQPSabYzgT/GDA==","spanId":"7uGbfsPBsXQ=","name":"PlaceOrder","kind":"SPAN_KIND_SERVER",
         "startTimeUnixNano":"1700000000000000000","endTimeUnixNano":"1700000000500000000","status":{"code":"STATUS_CODE_OK"}}]}]}]}"#;

    #[test]
    fn grafana_tempo_traces_are_recognised_and_decoded() {
        for (text, n_spans, service) in [(TEMPO_1, 2, "frontend"), (TEMPO_2, 1, "checkout")] {
            let decoded = decode_file(text.as_bytes(), &DecodeLimits::default()).unwrap();
            assert_eq!(decoded.format, Format::TempoJson);
            assert_eq!(decoded.format_label(), "Grafana Tempo JSON");
            assert!(decoded.base64_ids);
            assert_eq!(decoded.rejected, RejectedSpans::default());
            assert_eq!(decoded.batch.spans.len(), n_spans);
            assert_eq!(decoded.batch.service_of(&decoded.batch.spans[0]), service);
            assert_eq!(decoded.batch.spans[0].kind, SpanKind::Server);
            // The reference conversion reads `batches` as `resourceSpans`.
            let decoded = otlp::decode_tempo_json(text.as_bytes()).unwrap();
            otlp::reference::same_outcome(
                otlp::reference::reference_json(text),
                Ok::<_, ()>(decoded),
            )
            .unwrap();
        }
        let decoded = decode_file(TEMPO_1.as_bytes(), &DecodeLimits::default()).unwrap();
        let [root, child] = &decoded.batch.spans[..] else {
            panic!()
        };
        assert_eq!(root.trace_id.to_hex(), "0000000000000000630abdaafa160b61");
        assert_eq!(root.span_id.to_hex(), "630abdaafa160b61");
        assert_eq!(child.parent_span_id, Some(root.span_id));
        assert_eq!(child.status.code, StatusCode::Error);
        assert_eq!(root.start_nanos, 1_629_908_285_385_012_000);
        assert_eq!(
            decoded.batch.scopes[root.scope_idx as usize].name,
            "otelhttp"
        );
    }

    #[test]
    fn grafana_tempo_v2_traces_are_recognised_and_decoded() {
        let v2 = format!(
            r#"{{"trace":{},"status":"complete"}}"#,
            TEMPO_2.replace("batches", "resourceSpans")
        );
        let decoded = decode_file(v2.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.format, Format::TempoJson);
        assert!(decoded.base64_ids);
        let from_v1 = decode_file(TEMPO_2.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.batch, from_v1.batch);
    }

    /// Every way a file is refused, with what the user is told: the format tried and where.
    #[test]
    fn unreadable_files_say_what_and_where() {
        let export = otlp::encode_protobuf(
            &crate::scenario::n_plus_one_products("4bf92f3577b34da6a3ce929d0e0e4736", 0).batch,
        );
        let mut not_utf8 = br#"{"resourceSpans":[{"scopeSpans":[{"spans":[{"name":""#.to_vec();
        not_utf8.extend_from_slice(&[0xff, b'"']);
        let cases: [(&str, &[u8]); 21] = [
            ("nothing", b""),
            ("white space", b"  \n"),
            ("broken gzip", &[0x1f, 0x8b, 8, 0, 1, 2, 3]),
            ("text", b"hello, world"),
            ("binary", &[0xff, 0xfe, 0x00, 0x13, 0x37]),
            ("a cut protobuf export", &export[..export.len() / 2]),
            ("an object of nothing known", br#"{"name": "x"}"#),
            ("OTLP metrics", br#"{"resourceMetrics":[]}"#),
            ("an empty array", b"[]"),
            ("an array of nothing known", br#"[{"a": 1}]"#),
            ("broken OTLP JSON", br#"{"resourceSpans":[}"#),
            ("OTLP JSON not UTF-8", &not_utf8),
            (
                "a bad JSON Lines line",
                b"{\"resourceSpans\":[]}\n{\"resourceSpans\":[}\n",
            ),
            (
                "cut Jaeger JSON",
                br#"{"data":[{"traceID":"1","spans":[{"traceID":"1","#,
            ),
            (
                "Jaeger JSON without span ids",
                br#"{"data":[{"traceID":"1","spans":[{"traceID":"1"}]}]}"#,
            ),
            ("Zipkin JSON of bad types", br#"[{"traceId":"a","id":7}]"#),
            ("Tempo batches of a number", br#"{"batches": 3}"#),
            ("broken Tempo batches", br#"{"batches": [}"#),
            ("a Tempo v2 trace of a number", br#"{"trace": 3}"#),
            ("a Jaeger API v3 result of a number", br#"{"result": 3}"#),
            ("JSON that is not an object", b"42"),
        ];
        let mut messages = String::new();
        for (what, bytes) in cases {
            let error = decode_file(bytes, &DecodeLimits::default()).unwrap_err();
            messages.push_str(&format!("{what}:\n    {error}\n"));
        }
        let limits = DecodeLimits {
            max_decompressed_bytes: 10,
        };
        let bomb = {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder.write_all(&[b' '; 100]).unwrap();
            encoder.finish().unwrap()
        };
        let error = decode_file(&bomb, &limits).unwrap_err();
        messages.push_str(&format!("gzip beyond the limit:\n    {error}\n"));
        expect_test::expect![[r#"
            nothing:
                the file is empty
            white space:
                the file is empty
            broken gzip:
                gzip: the compressed data is corrupt or truncated (unexpected end of file)
            text:
                unknown format (text starting with "hello, world"); expected OTLP JSON, OTLP JSON Lines, OTLP protobuf, Jaeger JSON, Zipkin v2 JSON or a Grafana Tempo trace (optionally gzip-compressed)
            binary:
                OTLP protobuf: at byte 0: wire type 7 is invalid
            a cut protobuf export:
                OTLP protobuf: at byte 263: truncated: 3872 bytes expected, 2847 left
            an object of nothing known:
                unknown format (a JSON object without resourceSpans, batches, trace, data or traceID and spans); expected OTLP JSON, OTLP JSON Lines, OTLP protobuf, Jaeger JSON, Zipkin v2 JSON or a Grafana Tempo trace (optionally gzip-compressed)
            OTLP metrics:
                no trace spans: the file holds OTLP metrics or logs, not traces
            an empty array:
                no trace spans: the file holds an empty JSON array
            an array of nothing known:
                unknown format (a JSON array of neither Zipkin spans nor Jaeger traces); expected OTLP JSON, OTLP JSON Lines, OTLP protobuf, Jaeger JSON, Zipkin v2 JSON or a Grafana Tempo trace (optionally gzip-compressed)
            broken OTLP JSON:
                OTLP JSON: line 1 column 19: expected value
            OTLP JSON not UTF-8:
                OTLP JSON: line 1 column 53: invalid unicode code point
            a bad JSON Lines line:
                OTLP JSON Lines: line 2 column 19: expected value
            cut Jaeger JSON:
                Jaeger JSON: line 1 column 48: EOF while parsing a value
            Jaeger JSON without span ids:
                Jaeger JSON: line 1 column 48: missing field `spanID`
            Zipkin JSON of bad types:
                Zipkin v2 JSON: line 1 column 22: invalid type: integer `7`, expected a string
            Tempo batches of a number:
                Grafana Tempo JSON: line 1 column 13: invalid type: integer `3`, expected a sequence
            broken Tempo batches:
                Grafana Tempo JSON: line 1 column 14: expected value
            a Tempo v2 trace of a number:
                Grafana Tempo JSON: line 1 column 11: invalid type: integer `3`, expected a Grafana Tempo trace: an object of "batches" or "resourceSpans"
            a Jaeger API v3 result of a number:
                Jaeger API v3 (OTLP JSON): line 1 column 12: invalid type: integer `3`, expected an OTLP request: an object of "resourceSpans"
            JSON that is not an object:
                unknown format (text starting with "42"); expected OTLP JSON, OTLP JSON Lines, OTLP protobuf, Jaeger JSON, Zipkin v2 JSON or a Grafana Tempo trace (optionally gzip-compressed)
            gzip beyond the limit:
                gzip: the file inflates beyond the limit of 10 bytes
        "#]].assert_eq(&messages);
    }

    #[test]
    fn base64_ids_are_noted_in_every_otlp_json_shape() {
        let hex = otlp::encode_json(
            &crate::scenario::n_plus_one_products("4bf92f3577b34da6a3ce929d0e0e4736", 0).batch,
        );
        let decoded = decode_file(hex.as_bytes(), &DecodeLimits::default()).unwrap();
        assert!(!decoded.base64_ids);
        let line = TEMPO_2
            .replace("batches", "resourceSpans")
            .replace('\n', "");
        let lines = format!("{line}\n{}\n", hex);
        let decoded = decode_file(lines.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.format, Format::OtlpJsonLines);
        assert!(decoded.base64_ids);
        let jaeger_v3 = format!(r#"{{"result":{line}}}"#);
        let decoded = decode_file(jaeger_v3.as_bytes(), &DecodeLimits::default()).unwrap();
        assert_eq!(decoded.format, Format::JaegerApiV3);
        assert!(decoded.base64_ids);
    }

    /// Each fraction `decode_file` reports for `file`, in order.
    fn progress_of(file: &[u8]) -> Vec<f64> {
        let seen = std::rc::Rc::new(std::cell::RefCell::new(Vec::new()));
        let sink = seen.clone();
        progress::reporting(
            move |fraction| sink.borrow_mut().push(fraction),
            || decode_file(file, &DecodeLimits::default()).unwrap(),
        );
        seen.take()
    }

    #[test]
    fn every_format_reports_its_progress_from_start_to_end() {
        let batch =
            crate::scenario::n_plus_one_products("4bf92f3577b34da6a3ce929d0e0e4736", 0).batch;
        assert!(batch.spans.len() >= 40);
        let zipkin = serde_json::to_string(
            &batch
                .spans
                .iter()
                .map(|span| {
                    serde_json::json!({
                        "traceId": span.trace_id.to_hex(),
                        "id": span.span_id.to_hex(),
                        "name": span.name,
                        "timestamp": span.start_nanos / 1000,
                        "duration": span.duration_nanos() / 1000,
                    })
                })
                .collect::<Vec<_>>(),
        )
        .unwrap();
        let lines = batch
            .spans
            .chunks(7)
            .map(|spans| {
                otlp::encode_json(&Batch {
                    spans: spans.to_vec(),
                    ..batch.clone()
                })
            })
            .collect::<Vec<_>>()
            .join("\n");
        let gzipped = {
            use std::io::Write;
            let mut encoder =
                flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            encoder
                .write_all(otlp::encode_json(&batch).as_bytes())
                .unwrap();
            encoder.finish().unwrap()
        };
        for (format, file) in [
            ("OTLP JSON", otlp::encode_json(&batch).into_bytes()),
            ("OTLP JSON Lines", lines.into_bytes()),
            ("OTLP protobuf", otlp::encode_protobuf(&batch)),
            ("Jaeger JSON", jaeger::encode_json(&batch).into_bytes()),
            ("Zipkin v2 JSON", zipkin.into_bytes()),
            ("OTLP JSON (gzip)", gzipped),
        ] {
            let seen = progress_of(&file);
            assert!(seen.len() >= 30, "{format}: {seen:?}");
            assert!(seen[0] <= 0.05, "{format} starts near 0: {seen:?}");
            assert!(
                *seen.last().unwrap() >= 0.95,
                "{format} ends near 1: {seen:?}"
            );
            assert!(
                seen.windows(2).all(|pair| pair[0] <= pair[1]),
                "{format} never goes back: {seen:?}"
            );
        }
    }
}
