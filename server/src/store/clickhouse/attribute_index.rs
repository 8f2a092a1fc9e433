//! An insert's span rows split in two (schema 6 on): the `spans` rows without their attributes,
//! and the `attribute_index` rows, one per distinct attribute of a trace in the insert, at the
//! minute of the earliest start of its spans there, naming the trace by ClickHouse's
//! `cityHash64(TraceId)`. Every attribute search (`=`, `!=`, `exists`) reads the index, so the
//! `spans` table no longer stores attributes (rows from before keep theirs, unread).
//!
//! Split at insert time, not when a write is prepared, so that direct inserts and spool
//! replays (whose files hold whole span rows, whatever spanview wrote them) take one path.
//! Until schema 6 a materialized view made the index rows inside ClickHouse; making them here
//! spares the server an `ARRAY JOIN` and a `GROUP BY` over every attribute of every insert,
//! and the `spans` insert its largest columns.

use rustc_hash::FxHashMap as HashMap;

use super::rowbinary::{RowError, RowReader, RowWriter};
use super::schema::MINUTE_NANOS;

pub const ATTRIBUTE_INDEX_COLUMNS: &str = "Key, Value, Minute, TraceHash";
/// The columns of the `spans` rows [`split`] leaves.
pub const SPAN_COLUMNS_WITHOUT_ATTRIBUTES: &str =
    "Service, Name, StartNs, DurationNs, TraceId, IsError, Kind, StatusCode";

/// An insert's span rows, split.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Split {
    /// In [`SPAN_COLUMNS_WITHOUT_ATTRIBUTES`].
    pub spans: Vec<u8>,
    /// In [`ATTRIBUTE_INDEX_COLUMNS`].
    pub index: Vec<u8>,
}

/// ClickHouse's `cityHash64` of a trace id (a `FixedString(16)`): how the index, and the
/// `Distributed` tables' sharding key, name a trace.
pub fn trace_hash(trace_id: &[u8; 16]) -> u64 {
    ch_cityhash102::cityhash64(trace_id)
}

/// Splits span rows as a write prepares them (`write::Rows::spans`).
///
/// A write's span rows come trace by trace, so attributes are told apart within each run of
/// rows of one trace: a small map, reused, instead of one over the whole insert. A trace whose
/// rows come in two runs gets its rows twice, which a search's `IN` does not mind.
pub fn split(span_rows: &[u8]) -> Result<Split, RowError> {
    let mut writer = RowWriter {
        out: Vec::with_capacity(span_rows.len() / 2),
    };
    let mut spans = Vec::with_capacity(span_rows.len() / 3);
    // The current run's trace, and the first start of each of its attributes.
    let mut run_trace: Option<[u8; 16]> = None;
    let mut first_start: HashMap<(&[u8], &[u8]), u64> = HashMap::default();
    let mut keys: Vec<&[u8]> = Vec::new();
    let mut reader = RowReader::new(span_rows);
    while !reader.is_empty() {
        let row_start = reader.offset();
        reader.bytes()?; // Service
        reader.bytes()?; // Name
        let start = reader.u64()?;
        reader.u64()?; // DurationNs
        let trace_id = reader.fixed::<16>()?;
        reader.u8()?; // IsError
        spans.extend_from_slice(&span_rows[row_start..reader.offset()]);
        if run_trace != Some(trace_id) {
            if let Some(trace) = run_trace {
                write_run(&mut writer, &trace, &first_start);
            }
            first_start.clear();
            run_trace = Some(trace_id);
        }
        keys.clear();
        for _ in 0..reader.length()? {
            keys.push(reader.bytes()?);
        }
        if reader.length()? != keys.len() {
            return Err(RowError {
                offset: reader.offset(),
                problem: "a span row has attribute keys and values of different counts",
            });
        }
        for &key in &keys {
            let value = reader.bytes()?;
            first_start
                .entry((key, value))
                .and_modify(|first| *first = (*first).min(start))
                .or_insert(start);
        }
        spans.push(reader.u8()?); // Kind
        spans.push(reader.u8()?); // StatusCode
    }
    if let Some(trace) = run_trace {
        write_run(&mut writer, &trace, &first_start);
    }
    Ok(Split {
        spans,
        index: writer.out,
    })
}

fn write_run(
    writer: &mut RowWriter,
    trace_id: &[u8; 16],
    first_start: &HashMap<(&[u8], &[u8]), u64>,
) {
    let trace_hash = trace_hash(trace_id);
    for (&(key, value), &start) in first_start {
        writer.bytes(key);
        writer.bytes(value);
        writer.u32((start / MINUTE_NANOS) as u32);
        writer.u64(trace_hash);
    }
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
        let split = split(&writer.out).unwrap();
        assert_eq!(read_rows(&split.index), expected);
        // The span rows keep every column but the attributes.
        let mut reader = RowReader::new(&split.spans);
        for start in [
            3 * MINUTE_NANOS + 5,
            MINUTE_NANOS,
            2 * MINUTE_NANOS,
            2 * MINUTE_NANOS,
        ] {
            assert_eq!(reader.string().unwrap(), "svc");
            assert_eq!(reader.string().unwrap(), "op");
            assert_eq!(reader.u64().unwrap(), start);
            assert_eq!(reader.u64().unwrap(), 1);
            reader.fixed::<16>().unwrap();
            assert_eq!(
                [
                    reader.u8().unwrap(),
                    reader.u8().unwrap(),
                    reader.u8().unwrap()
                ],
                [0, 2, 0]
            );
        }
        assert!(reader.is_empty());
    }

    #[test]
    fn a_cut_short_span_row_is_an_error() {
        let mut writer = RowWriter::default();
        span_row(&mut writer, 1, 0, &[("user.id", "7")]);
        let cut = &writer.out[..writer.out.len() - 3];
        assert!(split(cut).is_err());
        assert_eq!(split(&[]).unwrap(), Split::default());
    }
}
