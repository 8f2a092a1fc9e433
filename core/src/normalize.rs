//! Names and statements with their literals replaced, so that `SELECT … WHERE id=1` and
//! `… id=2` (or `loop 1` and `loop 2`) count as the same operation.

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
}
