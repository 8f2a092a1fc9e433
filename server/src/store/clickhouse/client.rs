//! A small blocking client for ClickHouse's HTTP interface: one statement per request, data in
//! `RowBinary` both ways. It speaks only what ClickHouse 18.16 already understood (no query
//! parameters, no `X-ClickHouse-*` headers), so it works against any later server too.

use std::time::Duration;

/// Longest a statement may take before the client gives up (a stalled server is an outage).
const STATEMENT_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest an insert may take: past it the batch goes to the spool, so that a stalled server
/// holds up writes for seconds, not minutes (a retried insert's duplicates are dropped on read).
const INSERT_TIMEOUT: Duration = Duration::from_secs(15);
/// Longest a connection attempt may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(3);

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// No answer: refused, reset, timed out. Writes go to the spool and are retried.
    #[error("ClickHouse at {url} is unreachable: {message}")]
    Unreachable { url: String, message: String },
    /// ClickHouse answered with an error (its message names the exception and its code).
    #[error("ClickHouse answered {status}: {message}")]
    Server { status: u16, message: String },
    /// ClickHouse answered something this spanview cannot read or use.
    #[error("unexpected answer from ClickHouse: {0}")]
    Unexpected(String),
}

#[derive(Clone)]
pub struct Client {
    agent: ureq::Agent,
    url: String,
    /// `Basic ...` when a user or password is given: in a header, not in the URL, so that the
    /// password shows up in no error message or access log.
    authorization: Option<String>,
}

impl Client {
    pub fn new(url: &str, user: Option<&str>, password: Option<&str>) -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(STATEMENT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .http_status_as_error(false)
            .build()
            .into();
        let authorization = (user.is_some() || password.is_some()).then(|| {
            let credentials = format!("{}:{}", user.unwrap_or("default"), password.unwrap_or(""));
            format!("Basic {}", base64(credentials.as_bytes()))
        });
        Self {
            agent,
            url: url.trim_end_matches('/').to_owned(),
            authorization,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    fn endpoint(&self, query: Option<&str>, settings: &[(&str, &str)]) -> String {
        let mut params = form_urlencoded::Serializer::new(String::new());
        if let Some(query) = query {
            params.append_pair("query", query);
        }
        for (name, value) in settings {
            params.append_pair(name, value);
        }
        format!("{}/?{}", self.url, params.finish())
    }

    /// Runs `sql` (the statement in the body) and returns the answer's bytes.
    pub fn query(&self, sql: &str) -> Result<Vec<u8>, ClientError> {
        self.send(&self.endpoint(None, &[]), sql.as_bytes(), STATEMENT_TIMEOUT)
    }

    /// Runs a statement that returns nothing of interest (DDL, ALTER).
    pub fn execute(&self, sql: &str) -> Result<(), ClientError> {
        self.query(sql).map(|_| ())
    }

    /// `INSERT ... FORMAT RowBinary` (the statement in the URL) with `rows` as the body.
    pub fn insert(
        &self,
        statement: &str,
        settings: &[(&str, &str)],
        rows: &[u8],
    ) -> Result<(), ClientError> {
        self.send(
            &self.endpoint(Some(statement), settings),
            rows,
            INSERT_TIMEOUT,
        )
        .map(|_| ())
    }

    fn send(&self, endpoint: &str, body: &[u8], timeout: Duration) -> Result<Vec<u8>, ClientError> {
        let unreachable = |error: ureq::Error| ClientError::Unreachable {
            url: self.url.clone(),
            message: error.to_string(),
        };
        let mut request = self.agent.post(endpoint);
        if let Some(authorization) = &self.authorization {
            request = request.header("Authorization", authorization);
        }
        let mut response = request
            .config()
            .timeout_global(Some(timeout))
            .build()
            .send(body)
            .map_err(unreachable)?;
        let status = response.status().as_u16();
        let bytes = response
            .body_mut()
            .with_config()
            .limit(u64::MAX)
            .read_to_vec()
            .map_err(unreachable)?;
        if status != 200 {
            return Err(ClientError::Server {
                status,
                message: String::from_utf8_lossy(&bytes).trim().to_owned(),
            });
        }
        Ok(bytes)
    }
}

/// Standard base64 with padding (RFC 4648), for the `Authorization` header.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for group in bytes.chunks(3) {
        let n = group.len();
        let value = u32::from(group[0]) << 16
            | u32::from(*group.get(1).unwrap_or(&0)) << 8
            | u32::from(*group.get(2).unwrap_or(&0));
        for position in 0..4 {
            if position <= n {
                out.push(char::from(
                    ALPHABET[(value >> (18 - 6 * position) & 63) as usize],
                ));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// A string literal: quoted, with every byte that could end or bend it escaped.
pub fn quote(text: &str) -> String {
    quote_bytes(text.as_bytes())
}

/// Any bytes as a string literal (`FixedString` ids compare with it).
pub fn quote_bytes(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('\'');
    for &byte in bytes {
        match byte {
            b'\'' => out.push_str("\\'"),
            b'\\' => out.push_str("\\\\"),
            0x20..=0x7e => out.push(byte as char),
            _ => out.push_str(&format!("\\x{byte:02X}")),
        }
    }
    out.push('\'');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_is_rfc_4648() {
        for (input, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foobar", "Zm9vYmFy"),
            ("default:", "ZGVmYXVsdDo="),
        ] {
            assert_eq!(base64(input.as_bytes()), encoded);
        }
    }

    #[test]
    fn credentials_are_checked_by_the_server() {
        let url = std::env::var("SPANVIEW_TEST_CLICKHOUSE_URL")
            .unwrap_or_else(|_| "http://127.0.0.1:18121".to_owned());
        if Client::new(&url, None, None).query("SELECT 1").is_err() {
            crate::test_skip::skip_or_fail(
                "credentials_are_checked_by_the_server",
                &format!("no ClickHouse at {url}"),
            );
            return;
        }
        let right = Client::new(&url, Some("default"), Some(""));
        assert_eq!(right.query("SELECT 1").unwrap(), b"1\n");
        let wrong = Client::new(&url, Some("default"), Some("wrong"));
        match wrong.query("SELECT 1") {
            Err(ClientError::Server { message, .. }) => {
                assert!(message.contains("password"), "{message}");
                assert!(!message.contains("wrong"));
            }
            other => panic!("expected an authentication error, got {other:?}"),
        }
    }

    #[test]
    fn literals_escape_quotes_backslashes_and_binary() {
        assert_eq!(quote("it's"), "'it\\'s'");
        assert_eq!(quote("a\\b"), "'a\\\\b'");
        assert_eq!(quote_bytes(&[0, 0xff, b'x']), "'\\x00\\xFFx'");
        assert_eq!(quote("é"), "'\\xC3\\xA9'");
    }
}
