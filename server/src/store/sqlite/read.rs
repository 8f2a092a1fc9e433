//! Reading traces back: a trace's chunks decompressed, decoded and merged into one batch.

use std::hash::{Hash, Hasher};

use rusqlite::{Connection, OptionalExtension};
use rustc_hash::{FxHashMap, FxHasher};
use spanview_core::formats::compact;
use spanview_core::model::{AnyValue, KeyValue, Resource, Scope};
use spanview_core::{Batch, Trace};

use super::chunks::ChunkCodec;
use super::rows::TraceRow;
use crate::store::StoreError;

/// The trace of `row`, spans in start order.
pub fn assemble(
    connection: &Connection,
    codec: &ChunkCodec,
    row: &TraceRow,
) -> Result<Trace, StoreError> {
    let mut select = connection
        .prepare_cached("SELECT dictionary_id, raw_len, body FROM chunks WHERE chunk_id = ?1")?;
    let mut batch = Batch::default();
    let mut tables = SharedTables::default();
    for chunk_id in &row.chunk_ids {
        let chunk: Option<(i64, i64, Vec<u8>)> = select
            .query_row([chunk_id], |row| {
                Ok((row.get(0)?, row.get(1)?, row.get(2)?))
            })
            .optional()?;
        let Some((dictionary_id, raw_len, body)) = chunk else {
            continue;
        };
        let raw = codec.decompress(dictionary_id, usize::try_from(raw_len).unwrap_or(0), &body)?;
        append(
            &mut batch,
            compact::decode(&raw).map_err(StoreError::Chunk)?,
            &mut tables,
        );
    }
    batch.spans.sort_by_key(|span| span.start_nanos);
    Ok(Trace {
        trace_id: row.trace_id,
        batch,
    })
}

/// Appends `part` to `batch`, sharing resources and scopes that are equal. Linear in the
/// resources and scopes: each is looked up by its hash, not compared with every one before
/// (a trace of 70,000 resources took 18 s to read that way).
fn append(batch: &mut Batch, part: Batch, tables: &mut SharedTables) {
    let resource_at: Vec<u32> = part
        .resources
        .into_iter()
        .map(|resource| {
            let hash = hash_with(|hasher| hash_resource(&resource, hasher));
            tables
                .resources
                .position_or_push(&mut batch.resources, resource, hash)
        })
        .collect();
    let scope_at: Vec<u32> = part
        .scopes
        .into_iter()
        .map(|scope| {
            let hash = hash_with(|hasher| hash_scope(&scope, hasher));
            tables
                .scopes
                .position_or_push(&mut batch.scopes, scope, hash)
        })
        .collect();
    batch.spans.extend(part.spans.into_iter().map(|mut span| {
        span.resource_idx = resource_at[span.resource_idx as usize];
        span.scope_idx = scope_at[span.scope_idx as usize];
        span
    }));
}

/// Where the resources and scopes of the batch being assembled are, by hash.
#[derive(Default)]
struct SharedTables {
    resources: HashIndex,
    scopes: HashIndex,
}

/// Positions in a table by the hash of the item there (equal items hash equally; items with
/// equal hashes are compared).
#[derive(Default)]
struct HashIndex {
    positions: FxHashMap<u64, Vec<u32>>,
}

impl HashIndex {
    fn position_or_push<T: PartialEq>(&mut self, table: &mut Vec<T>, item: T, hash: u64) -> u32 {
        let candidates = self.positions.entry(hash).or_default();
        if let Some(&position) = candidates
            .iter()
            .find(|&&position| table[position as usize] == item)
        {
            return position;
        }
        table.push(item);
        let position = (table.len() - 1) as u32;
        candidates.push(position);
        position
    }
}

fn hash_with(write: impl FnOnce(&mut FxHasher)) -> u64 {
    let mut hasher = FxHasher::default();
    write(&mut hasher);
    hasher.finish()
}

fn hash_resource(resource: &Resource, hasher: &mut impl Hasher) {
    hash_attributes(&resource.attributes, hasher);
    resource.schema_url.hash(hasher);
}

fn hash_scope(scope: &Scope, hasher: &mut impl Hasher) {
    scope.name.hash(hasher);
    scope.version.hash(hasher);
    hash_attributes(&scope.attributes, hasher);
    scope.schema_url.hash(hasher);
}

fn hash_attributes(attributes: &[KeyValue], hasher: &mut impl Hasher) {
    attributes.len().hash(hasher);
    for attribute in attributes {
        attribute.key.hash(hasher);
        hash_value(&attribute.value, hasher);
    }
}

/// Consistent with `AnyValue`'s `PartialEq`: `0.0` and `-0.0` hash alike.
fn hash_value(value: &AnyValue, hasher: &mut impl Hasher) {
    match value {
        AnyValue::String(text) => (0u8, text).hash(hasher),
        AnyValue::Bool(flag) => (1u8, flag).hash(hasher),
        AnyValue::Int(number) => (2u8, number).hash(hasher),
        AnyValue::Double(number) => {
            let bits = if *number == 0.0 { 0 } else { number.to_bits() };
            (3u8, bits).hash(hasher);
        }
        AnyValue::Bytes(bytes) => (4u8, bytes).hash(hasher),
        AnyValue::Array(items) => {
            (5u8, items.len()).hash(hasher);
            for item in items {
                hash_value(item, hasher);
            }
        }
        AnyValue::KvList(attributes) => {
            6u8.hash(hasher);
            hash_attributes(attributes, hasher);
        }
        AnyValue::Empty => 7u8.hash(hasher),
    }
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;

    use super::*;

    thread_local! {
        static COMPARISONS: Cell<u64> = const { Cell::new(0) };
    }

    /// Counts how often two items are compared.
    #[derive(Debug)]
    struct Counted(u32);

    impl PartialEq for Counted {
        fn eq(&self, other: &Self) -> bool {
            COMPARISONS.with(|count| count.set(count.get() + 1));
            self.0 == other.0
        }
    }

    #[test]
    fn distinct_items_are_placed_without_comparing_them_with_each_other() {
        let mut index = HashIndex::default();
        let mut table = Vec::new();
        for n in 0..50_000u32 {
            let position = index.position_or_push(&mut table, Counted(n), u64::from(n));
            assert_eq!(position, n);
        }
        // The linear search this replaced made about n²/2 = 1.25e9 comparisons.
        assert_eq!(COMPARISONS.with(Cell::get), 0);
        // An equal item is found with one comparison; a colliding hash is told apart.
        assert_eq!(index.position_or_push(&mut table, Counted(7), 7), 7);
        assert_eq!(COMPARISONS.with(Cell::get), 1);
        assert_eq!(
            index.position_or_push(&mut table, Counted(50_000), 7),
            50_000
        );
        assert_eq!(table.len(), 50_001);
    }

    #[test]
    fn equal_resources_hash_alike_and_are_shared() {
        let resource = |service: &str, weight: f64| Resource {
            attributes: vec![
                KeyValue::new("service.name", service),
                KeyValue::new("weight", AnyValue::Double(weight)),
                KeyValue::new(
                    "tags",
                    AnyValue::Array(vec![AnyValue::Int(1), AnyValue::Bool(true)]),
                ),
            ],
            schema_url: String::new(),
        };
        let hash = |resource: &Resource| hash_with(|hasher| hash_resource(resource, hasher));
        assert_eq!(hash(&resource("a", 0.0)), hash(&resource("a", -0.0)));
        assert_ne!(hash(&resource("a", 1.0)), hash(&resource("b", 1.0)));
        let part = |service: &str| Batch {
            resources: vec![resource(service, 1.0)],
            scopes: vec![Scope::default()],
            spans: Vec::new(),
        };
        let mut batch = Batch::default();
        let mut tables = SharedTables::default();
        append(&mut batch, part("a"), &mut tables);
        append(&mut batch, part("b"), &mut tables);
        append(&mut batch, part("a"), &mut tables);
        assert_eq!(batch.resources.len(), 2);
        assert_eq!(batch.scopes.len(), 1);
    }
}
