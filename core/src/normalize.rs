//! Names and statements with their literals replaced, so that `SELECT … WHERE id=1` and
//! `… id=2` (or `loop 1` and `loop 2`) count as the same operation.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Normalised names by number: each distinct name is normalised once, and names that normalise
/// alike get the same key (a loop's 500 spans share one name, and one key).
#[derive(Debug, Default)]
pub struct NameTable<'a> {
    key_of_raw: FxHashMap<&'a str, u32>,
    key_of_normalized: FxHashMap<Arc<str>, u32>,
    normalized: Vec<Arc<str>>,
}

impl<'a> NameTable<'a> {
    /// The key of `raw`'s normalised form.
    pub fn key(&mut self, raw: &'a str) -> u32 {
        if let Some(&key) = self.key_of_raw.get(raw) {
            return key;
        }
        let normalized = normalize_literals(raw);
        let key = match self.key_of_normalized.get(normalized.as_str()) {
            Some(&key) => key,
            None => {
                let key = self.normalized.len() as u32;
                let shared: Arc<str> = Arc::from(normalized);
                self.normalized.push(shared.clone());
                self.key_of_normalized.insert(shared, key);
                key
            }
        };
        self.key_of_raw.insert(raw, key);
        key
    }

    pub fn text(&self, key: u32) -> &Arc<str> {
        &self.normalized[key as usize]
    }

    /// The normalised names, indexed by key.
    pub fn into_texts(self) -> Vec<Arc<str>> {
        self.normalized
    }
}

/// Numbers and quoted strings become `?`; a parenthesised list of them becomes `(?)`;
/// whitespace collapses to single spaces.
pub fn normalize_literals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut characters = text.chars().peekable();
    while let Some(character) = characters.next() {
        if character.is_ascii_digit() {
            while characters
                .peek()
                .is_some_and(|next| next.is_ascii_alphanumeric() || *next == '.')
            {
                characters.next();
            }
            out.push('?');
        } else if character == '\'' || character == '"' {
            for next in characters.by_ref() {
                if next == character {
                    break;
                }
            }
            out.push('?');
        } else if character.is_whitespace() {
            while characters.peek().is_some_and(|next| next.is_whitespace()) {
                characters.next();
            }
            out.push(' ');
        } else {
            out.push(character);
        }
    }
    collapse_lists(out.trim())
}

/// `(?, ?, ?)` and `(?,?,...,?)` become `(?)`.
fn collapse_lists(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(open) = rest.find('(') {
        out.push_str(&rest[..open]);
        let after_open = &rest[open + 1..];
        match after_open.find(')') {
            Some(close)
                if after_open[..close]
                    .chars()
                    .all(|c| matches!(c, '?' | ',' | ' ' | '.'))
                    && after_open[..close].contains('?') =>
            {
                out.push_str("(?)");
                rest = &after_open[close + 1..];
            }
            _ => {
                out.push('(');
                rest = after_open;
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_and_lists_become_placeholders() {
        let cases = [
            (
                "SELECT * FROM categories WHERE id = 17",
                "SELECT * FROM categories WHERE id = ?",
            ),
            (
                "SELECT categories WHERE id=3",
                "SELECT categories WHERE id=?",
            ),
            (
                "fetch category for product 12",
                "fetch category for product ?",
            ),
            (
                "WHERE product_id IN (1, 2, 3, ..., 50)",
                "WHERE product_id IN (?)",
            ),
            (
                "WHERE name = 'bob'  AND\n x = \"y\"",
                "WHERE name = ? AND x = ?",
            ),
            ("GET /users/6789", "GET /users/?"),
            ("call(a, b)", "call(a, b)"),
        ];
        for (input, expected) in cases {
            assert_eq!(normalize_literals(input), expected, "{input}");
        }
    }

    #[test]
    fn names_that_normalise_alike_share_a_key() {
        let mut table = NameTable::default();
        let first = table.key("loop 1");
        assert_eq!(table.key("loop 2"), first);
        assert_eq!(table.key("loop 1"), first);
        let other = table.key("render");
        assert_ne!(other, first);
        assert_eq!(&**table.text(first), "loop ?");
        assert_eq!(table.into_texts().len(), 2);
    }
}
