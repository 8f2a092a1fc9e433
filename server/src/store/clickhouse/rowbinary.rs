//! ClickHouse's `RowBinary` format, the few types the schema uses: integers little-endian,
//! strings and arrays as a LEB128 length then the items, `FixedString(N)` as N raw bytes.

#[derive(Debug, thiserror::Error)]
#[error("ClickHouse sent a row this spanview cannot read at byte {offset}: {problem}")]
pub struct RowError {
    pub offset: usize,
    pub problem: &'static str,
}

// Here rather than in `client.rs`, which the store's front names in `StoreError`: a conversion
// there would make the front and the client import each other.
impl From<RowError> for crate::store::StoreError {
    fn from(error: RowError) -> Self {
        super::client::ClientError::Unexpected(error.to_string()).into()
    }
}

#[derive(Default)]
pub struct RowWriter {
    pub out: Vec<u8>,
}

impl RowWriter {
    pub fn u8(&mut self, value: u8) {
        self.out.push(value);
    }

    pub fn u32(&mut self, value: u32) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub fn u64(&mut self, value: u64) {
        self.out.extend_from_slice(&value.to_le_bytes());
    }

    pub fn length(&mut self, mut value: usize) {
        while value >= 0x80 {
            self.out.push((value as u8) | 0x80);
            value >>= 7;
        }
        self.out.push(value as u8);
    }

    pub fn bytes(&mut self, value: &[u8]) {
        self.length(value.len());
        self.out.extend_from_slice(value);
    }

    pub fn string(&mut self, value: &str) {
        self.bytes(value.as_bytes());
    }

    pub fn fixed(&mut self, value: &[u8]) {
        self.out.extend_from_slice(value);
    }

    pub fn strings<'a>(&mut self, values: impl ExactSizeIterator<Item = &'a str>) {
        self.length(values.len());
        for value in values {
            self.string(value);
        }
    }

    pub fn u64s(&mut self, values: &[u64]) {
        self.length(values.len());
        for value in values {
            self.u64(*value);
        }
    }
}

pub struct RowReader<'a> {
    bytes: &'a [u8],
    offset: usize,
}

impl<'a> RowReader<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Self { bytes, offset: 0 }
    }

    pub fn is_empty(&self) -> bool {
        self.offset >= self.bytes.len()
    }

    /// How many bytes have been read.
    pub fn offset(&self) -> usize {
        self.offset
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], RowError> {
        let end = self
            .offset
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(RowError {
                offset: self.offset,
                problem: "the row ends early",
            })?;
        let taken = &self.bytes[self.offset..end];
        self.offset = end;
        Ok(taken)
    }

    pub fn u8(&mut self) -> Result<u8, RowError> {
        Ok(self.take(1)?[0])
    }

    pub fn u64(&mut self) -> Result<u64, RowError> {
        let bytes = self.take(8)?;
        Ok(u64::from_le_bytes(bytes.try_into().expect("8 bytes")))
    }

    pub fn length(&mut self) -> Result<usize, RowError> {
        let mut value = 0u64;
        let mut shift = 0u32;
        loop {
            let byte = self.u8()?;
            if shift >= 64 {
                return Err(RowError {
                    offset: self.offset,
                    problem: "a length is too long",
                });
            }
            value |= u64::from(byte & 0x7f) << shift;
            if byte & 0x80 == 0 {
                break;
            }
            shift += 7;
        }
        // An item takes at least a byte, so no honest length exceeds what is left.
        let left = self.bytes.len() - self.offset;
        usize::try_from(value)
            .ok()
            .filter(|length| *length <= left)
            .ok_or(RowError {
                offset: self.offset,
                problem: "a length runs past the end",
            })
    }

    pub fn bytes(&mut self) -> Result<&'a [u8], RowError> {
        let length = self.length()?;
        self.take(length)
    }

    pub fn string(&mut self) -> Result<String, RowError> {
        let offset = self.offset;
        String::from_utf8(self.bytes()?.to_vec()).map_err(|_| RowError {
            offset,
            problem: "a string is not UTF-8",
        })
    }

    pub fn fixed<const N: usize>(&mut self) -> Result<[u8; N], RowError> {
        Ok(self.take(N)?.try_into().expect("N bytes"))
    }

    pub fn strings(&mut self) -> Result<Vec<String>, RowError> {
        let n = self.length()?;
        (0..n).map(|_| self.string()).collect()
    }

    pub fn u64s(&mut self) -> Result<Vec<u64>, RowError> {
        let n = self.length()?;
        (0..n).map(|_| self.u64()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_round_trip() {
        let mut writer = RowWriter::default();
        writer.string("servicé");
        writer.u64(u64::MAX - 3);
        writer.u64s(&[1, 2, 3]);
        writer.strings(["a", "", "c"].into_iter());
        writer.fixed(&[7; 16]);
        writer.string(&"x".repeat(300));
        let mut reader = RowReader::new(&writer.out);
        assert_eq!(reader.string().unwrap(), "servicé");
        assert_eq!(reader.u64().unwrap(), u64::MAX - 3);
        assert_eq!(reader.u64s().unwrap(), vec![1, 2, 3]);
        assert_eq!(reader.strings().unwrap(), vec!["a", "", "c"]);
        assert_eq!(reader.fixed::<16>().unwrap(), [7; 16]);
        assert_eq!(reader.string().unwrap().len(), 300);
        assert!(reader.is_empty());
    }

    #[test]
    fn truncated_rows_are_errors_not_panics() {
        let mut writer = RowWriter::default();
        writer.string("hello");
        for cut in 0..writer.out.len() {
            assert!(
                RowReader::new(&writer.out[..cut]).string().is_err(),
                "{cut}"
            );
        }
    }
}
