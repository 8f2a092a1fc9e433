//! Compression of chunks (the spans one write added to one trace) with zstd.
//!
//! Most chunks are small (a handful of spans of one trace from one request), and small inputs
//! compress poorly on their own: what repeats is across chunks (attribute keys, service and
//! span names, resource attributes). A zstd dictionary trained on this store's first chunks
//! captures that; every later chunk is compressed with it. Chunks remember which dictionary
//! (or none: id 0) compressed them, so a new dictionary never invalidates old chunks.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use rusqlite::Connection;

use crate::store::StoreError;

/// Level 1: with a dictionary, small chunks compress nearly as well as at the default level 3
/// (measured: within a few percent) at about half the cost.
const LEVEL: i32 = 1;
/// Dictionary size; zstd suggests about 100 times as many bytes of samples.
const DICTIONARY_BYTES: usize = 32 * 1024;
/// Training starts when the samples reach this many bytes...
const TRAINING_BYTES: usize = 1024 * 1024;
/// ...and this many chunks.
const TRAINING_CHUNKS: usize = 500;
/// Chunk id 0 means "no dictionary".
pub const NO_DICTIONARY: i64 = 0;

/// A chunk ready to be stored.
pub struct CompressedChunk {
    pub dictionary_id: i64,
    pub raw_len: usize,
    pub body: Vec<u8>,
}

/// A dictionary as loaded in this process; `instance` is unique across every store opened
/// here, so a thread's cached zstd context is never used with another store's dictionary.
#[derive(Clone)]
struct Dictionary {
    id: i64,
    instance: u64,
    bytes: Arc<[u8]>,
}

static NEXT_INSTANCE: AtomicU64 = AtomicU64::new(1);

/// Instance 0 stands for "no dictionary".
const PLAIN_INSTANCE: u64 = 0;

thread_local! {
    // zstd contexts are costly to create (most of the cost of compressing a small chunk), so
    // each thread keeps one per direction, loaded with the dictionary it last used.
    static COMPRESSOR: RefCell<Option<(u64, zstd::bulk::Compressor<'static>)>> = const { RefCell::new(None) };
    static DECOMPRESSOR: RefCell<Option<(u64, zstd::bulk::Decompressor<'static>)>> = const { RefCell::new(None) };
}

#[derive(Default)]
struct Dictionaries {
    /// The dictionary new chunks are compressed with.
    current: Option<Dictionary>,
    by_id: HashMap<i64, Dictionary>,
}

/// Shared by writers (compressing in request threads) and readers.
#[derive(Default)]
pub struct ChunkCodec {
    dictionaries: RwLock<Dictionaries>,
}

impl ChunkCodec {
    /// Loads every stored dictionary; the newest compresses from now on.
    pub fn load(connection: &Connection) -> Result<Self, StoreError> {
        let codec = Self::default();
        let mut select = connection
            .prepare("SELECT dictionary_id, body FROM dictionaries ORDER BY dictionary_id")?;
        let mut rows = select.query([])?;
        while let Some(row) = rows.next()? {
            codec.install(row.get(0)?, &row.get::<_, Vec<u8>>(1)?);
        }
        Ok(codec)
    }

    pub fn has_dictionary(&self) -> bool {
        self.read().current.is_some()
    }

    pub fn install(&self, dictionary_id: i64, body: &[u8]) {
        let dictionary = Dictionary {
            id: dictionary_id,
            instance: NEXT_INSTANCE.fetch_add(1, Ordering::Relaxed),
            bytes: Arc::from(body),
        };
        let mut dictionaries = self
            .dictionaries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        dictionaries.by_id.insert(dictionary_id, dictionary.clone());
        dictionaries.current = Some(dictionary);
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Dictionaries> {
        self.dictionaries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    pub fn compress(&self, raw: &[u8]) -> Result<CompressedChunk, StoreError> {
        let current = self.read().current.clone();
        let (dictionary_id, instance, bytes): (i64, u64, &[u8]) = match &current {
            Some(dictionary) => (dictionary.id, dictionary.instance, &dictionary.bytes),
            None => (NO_DICTIONARY, PLAIN_INSTANCE, &[]),
        };
        let body = COMPRESSOR.with_borrow_mut(|cached| {
            if cached
                .as_ref()
                .is_none_or(|(loaded, _)| *loaded != instance)
            {
                *cached = Some((
                    instance,
                    zstd::bulk::Compressor::with_dictionary(LEVEL, bytes)?,
                ));
            }
            let (_, compressor) = cached.as_mut().expect("just loaded");
            compressor.compress(raw)
        });
        Ok(CompressedChunk {
            dictionary_id,
            raw_len: raw.len(),
            body: body.map_err(StoreError::Compression)?,
        })
    }

    pub fn decompress(
        &self,
        dictionary_id: i64,
        raw_len: usize,
        body: &[u8],
    ) -> Result<Vec<u8>, StoreError> {
        let (instance, bytes): (u64, Arc<[u8]>) = if dictionary_id == NO_DICTIONARY {
            (PLAIN_INSTANCE, Arc::from(&[][..]))
        } else {
            let dictionaries = self.read();
            let dictionary = dictionaries
                .by_id
                .get(&dictionary_id)
                .ok_or(StoreError::MissingDictionary(dictionary_id))?;
            (dictionary.instance, dictionary.bytes.clone())
        };
        DECOMPRESSOR
            .with_borrow_mut(|cached| {
                if cached
                    .as_ref()
                    .is_none_or(|(loaded, _)| *loaded != instance)
                {
                    *cached = Some((instance, zstd::bulk::Decompressor::with_dictionary(&bytes)?));
                }
                let (_, decompressor) = cached.as_mut().expect("just loaded");
                decompressor.decompress(body, raw_len)
            })
            .map_err(StoreError::Compression)
    }
}

/// Collects raw chunks until there are enough to train a dictionary, then trains one in a
/// thread of its own (training takes a few hundred milliseconds, which the writer should not
/// spend), stores it and installs it.
#[derive(Default)]
pub struct DictionaryTrainer {
    samples: Vec<Vec<u8>>,
    sample_bytes: usize,
    /// Raised after a failed training, so the next attempt has more to learn from.
    needed_bytes: usize,
    training: Arc<std::sync::atomic::AtomicBool>,
}

impl DictionaryTrainer {
    pub fn add(&mut self, raw: Vec<u8>, codec: &Arc<ChunkCodec>, store_path: &std::path::Path) {
        if self.training.load(Ordering::Acquire) {
            return;
        }
        self.sample_bytes += raw.len();
        self.samples.push(raw);
        let needed = self.needed_bytes.max(TRAINING_BYTES);
        if self.sample_bytes < needed || self.samples.len() < TRAINING_CHUNKS {
            return;
        }
        self.needed_bytes = needed * 2;
        self.sample_bytes = 0;
        let samples = std::mem::take(&mut self.samples);
        let training = self.training.clone();
        training.store(true, Ordering::Release);
        let codec = codec.clone();
        let store_path = store_path.to_owned();
        let spawned = std::thread::Builder::new()
            .name("spanview-dictionary".into())
            .spawn(move || {
                match train_and_store(&samples, &store_path) {
                    Ok((id, dictionary)) => {
                        codec.install(id, &dictionary);
                        tracing::info!(bytes = dictionary.len(), samples = samples.len(), "trained a compression dictionary on the stored spans");
                    }
                    Err(error) => tracing::debug!(%error, "no compression dictionary yet; will retry with more samples"),
                }
                training.store(false, Ordering::Release);
            });
        if spawned.is_err() {
            self.training.store(false, Ordering::Release);
        }
    }
}

/// Trains a dictionary and stores it; it may be used only after this returns (the row is
/// committed before any chunk can name it).
fn train_and_store(
    samples: &[Vec<u8>],
    store_path: &std::path::Path,
) -> Result<(i64, Vec<u8>), StoreError> {
    let dictionary =
        zstd::dict::from_samples(samples, DICTIONARY_BYTES).map_err(StoreError::Compression)?;
    let connection = super::schema::open_connection(store_path)?;
    connection.execute("INSERT INTO dictionaries (body) VALUES (?1)", [&dictionary])?;
    Ok((connection.last_insert_rowid(), dictionary))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_read_back_with_and_without_a_dictionary() {
        let codec = ChunkCodec::default();
        let raw = b"order-service GET /orders/12345 http.method GET ".repeat(20);
        let plain = codec.compress(&raw).unwrap();
        assert_eq!(plain.dictionary_id, NO_DICTIONARY);

        let mut samples = Vec::new();
        for i in 0..TRAINING_CHUNKS * 2 {
            samples.push(
                format!(
                    "span {i} order-service GET /orders/{i} http.method=GET user.id={}",
                    i * 7919
                )
                .repeat(30),
            );
        }
        let dictionary = zstd::dict::from_samples(&samples, DICTIONARY_BYTES).unwrap();
        codec.install(1, &dictionary);
        let with_dictionary = codec.compress(&raw).unwrap();
        assert_eq!(with_dictionary.dictionary_id, 1);
        for chunk in [plain, with_dictionary] {
            let back = codec
                .decompress(chunk.dictionary_id, chunk.raw_len, &chunk.body)
                .unwrap();
            assert_eq!(back, raw);
        }
        assert!(matches!(
            codec.decompress(9, raw.len(), b"junk"),
            Err(StoreError::MissingDictionary(9))
        ));
    }
}
