//! The `attribute_index` rows of an insert (schema 6 on), derived from its `spans` rows: one
//! row per distinct attribute of a trace in the insert, at the minute of the earliest start of
//! its spans there, naming the trace by ClickHouse's `cityHash64(TraceId)`.
//!
//! Derived at insert time, not when a write is prepared, so that direct inserts and spool
//! replays (whose files hold no index rows, whatever spanview wrote them) take one path. Until
//! schema 6 a materialized view made these rows inside ClickHouse; making them here spares the
//! server an `ARRAY JOIN` and a `GROUP BY` over every attribute of every insert.

use rustc_hash::FxHashMap as HashMap;

use super::rowbinary::{RowError, RowReader, RowWriter};
use super::schema::MINUTE_NANOS;

pub const ATTRIBUTE_INDEX_COLUMNS: &str = "Key, Value, Minute, TraceHash";

/// ClickHouse's `cityHash64` of a trace id (a `FixedString(16)`): how the index, and the
/// `Distributed` tables' sharding key, name a trace.
pub fn trace_hash(trace_id: &[u8; 16]) -> u64 {
    ch_cityhash102::cityhash64(trace_id)
}

/// An attribute of a trace: its id, key and value (slices of the rows it was read from).
type TraceAttribute<'a> = ([u8; 16], &'a [u8], &'a [u8]);

/// The index rows (`Key, Value, Minute, TraceHash`) of `spans` rows in today's columns
/// (`write::SPAN_INSERT_COLUMNS`).
pub fn rows_of_spans(span_rows: &[u8]) -> Result<Vec<u8>, RowError> {
    let mut first_start: HashMap<TraceAttribute, u64> = HashMap::default();
    let mut reader = RowReader::new(span_rows);
    let mut keys: Vec<&[u8]> = Vec::new();
    while !reader.is_empty() {
        reader.bytes()?; // Service
        reader.bytes()?; // Name
        let start = reader.u64()?;
        reader.u64()?; // DurationNs
        let trace_id = reader.fixed::<16>()?;
        reader.u8()?; // IsError
        keys.clear();
        for _ in 0..reader.length()? {
            keys.push(reader.bytes()?);
        }
        let n_values = reader.length()?;
        if n_values != keys.len() {
            return Err(RowError {
                offset: reader.offset(),
                problem: "a span row has attribute keys and values of different counts",
            });
        }
        for &key in &keys {
            let value = reader.bytes()?;
            first_start
                .entry((trace_id, key, value))
                .and_modify(|first| *first = (*first).min(start))
                .or_insert(start);
        }
        reader.u8()?; // Kind
        reader.u8()?; // StatusCode
    }
    let mut writer = RowWriter::default();
    for ((trace_id, key, value), start) in first_start {
        writer.bytes(key);
        writer.bytes(value);
        writer.u32((start / MINUTE_NANOS) as u32);
        writer.u64(trace_hash(&trace_id));
    }
    Ok(writer.out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span_row(writer: &mut RowWriter, trace: u8, start: u64, attributes: &[(&str, &str)]) {
        writer.string("svc");
        writer.string("op");
        writer.u64(start);
        writer.u64(1);
        writer.fixed(&[trace; 16]);
        writer.u8(0);
        writer.strings(attributes.iter().map(|(key, _)| *key));
        writer.strings(attributes.iter().map(|(_, value)| *value));
        writer.u8(2);
        writer.u8(0);
    }

    fn read_rows(bytes: &[u8]) -> Vec<(String, String, u32, u64)> {
        let mut reader = RowReader::new(bytes);
        let mut rows = Vec::new();
        while !reader.is_empty() {
            let key = reader.string().unwrap();
            let value = reader.string().unwrap();
            let minute = u32::from_le_bytes(reader.fixed::<4>().unwrap());
            rows.push((key, value, minute, reader.u64().unwrap()));
        }
        rows.sort();
        rows
    }

    #[test]
    fn one_row_per_attribute_of_a_trace_at_its_first_minute() {
        let mut writer = RowWriter::default();
        span_row(
            &mut writer,
            1,
            3 * MINUTE_NANOS + 5,
            &[("user.id", "7"), ("region", "eu")],
        );
        span_row(&mut writer, 1, MINUTE_NANOS, &[("user.id", "7")]);
        span_row(&mut writer, 2, 2 * MINUTE_NANOS, &[("user.id", "7")]);
        span_row(&mut writer, 2, 2 * MINUTE_NANOS, &[]);
        let (one, two) = (trace_hash(&[1; 16]), trace_hash(&[2; 16]));
        let mut expected = vec![
            ("region".to_owned(), "eu".to_owned(), 3, one),
            ("user.id".to_owned(), "7".to_owned(), 1, one),
            ("user.id".to_owned(), "7".to_owned(), 2, two),
        ];
        expected.sort();
        assert_eq!(read_rows(&rows_of_spans(&writer.out).unwrap()), expected);
    }

    #[test]
    fn a_cut_short_span_row_is_an_error() {
        let mut writer = RowWriter::default();
        span_row(&mut writer, 1, 0, &[("user.id", "7")]);
        let cut = &writer.out[..writer.out.len() - 3];
        assert!(rows_of_spans(cut).is_err());
        assert!(rows_of_spans(&[]).unwrap().is_empty());
    }
}
