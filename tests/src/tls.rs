//! HTTPS for the end-to-end tests: a throwaway certificate authority made with the openssl
//! command, spanview's flags for it, and HTTPS requests that trust only it (Python's standard
//! library, as a real client would check the certificate).

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

use crate::skip::skip_or_fail;
use crate::workspace_root;

/// A self-signed certificate for 127.0.0.1 and localhost and its key, in a temporary folder.
pub struct TestCertificate {
    dir: tempfile::TempDir,
    pub cert: PathBuf,
    pub key: PathBuf,
}

impl TestCertificate {
    /// The certificate, or `None` after saying loudly that `test` skipped because the openssl
    /// command is missing (under `CI` the test fails instead).
    pub fn make(test: &str) -> Option<Self> {
        let dir = tempfile::tempdir().expect("temp dir");
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let made = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
            ])
            .args(["-subj", "/CN=localhost"])
            .args(["-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1"])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .is_ok_and(|output| output.status.success());
        if !made {
            skip_or_fail(
                test,
                "the openssl command is missing, so no test certificate can be made",
            );
            return None;
        }
        Some(Self { dir, cert, key })
    }

    /// A folder that lives as long as the certificate, for the test's other files.
    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    /// `serve`'s flags for this certificate.
    pub fn serve_args(&self) -> [&str; 4] {
        [
            "--tls-cert",
            self.cert.to_str().expect("UTF-8 temp path"),
            "--tls-key",
            self.key.to_str().expect("UTF-8 temp path"),
        ]
    }
}

/// GET over HTTPS trusting only `ca_file`: the JSON answer.
pub fn https_get(url: &str, ca_file: &Path) -> Result<Value, String> {
    let (_, body) = https_request("GET", url, ca_file)?;
    serde_json::from_str(&body).map_err(|error| error.to_string())
}

/// A request over HTTPS trusting only `ca_file`, with the header spanview asks of requests that
/// change state: the status and the body (error statuses included).
pub fn https_request(method: &str, url: &str, ca_file: &Path) -> Result<(u16, String), String> {
    let python = workspace_root().join("tests/clients/python/.venv/bin/python");
    let output = Command::new(python)
        .args([
            "-c",
            "import ssl, sys, urllib.error, urllib.request\n\
             context = ssl.create_default_context(cafile=sys.argv[1])\n\
             request = urllib.request.Request(sys.argv[3], method=sys.argv[2], headers={'X-Spanview': '1'})\n\
             try:\n    response = urllib.request.urlopen(request, context=context, timeout=10)\n\
             except urllib.error.HTTPError as error:\n    response = error\n\
             print(response.status)\n\
             print(response.read().decode(), end='')",
        ])
        .arg(ca_file)
        .arg(method)
        .arg(url)
        .output()
        .map_err(|error| error.to_string())?;
    if !output.status.success() {
        return Err(String::from_utf8_lossy(&output.stderr).into_owned());
    }
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let (status, body) = text.split_once('\n').unwrap_or((&text, ""));
    let status = status
        .trim()
        .parse()
        .map_err(|_| format!("no status in {text:?}"))?;
    Ok((status, body.to_owned()))
}
