//! HTTPS for the receiver, the API and the UI (`serve --tls-cert FILE --tls-key FILE`), as OTLP
//! exporters expect in production: rustls (ring) with PEM files.
//!
//! Handshakes run in their own tasks, so a client that stalls its handshake holds up nobody;
//! finished connections are handed to axum through [`TlsListener`].

use std::io;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_rustls::TlsAcceptor;
use tokio_rustls::server::TlsStream;

/// A handshake that takes longer than this is dropped.
const HANDSHAKE_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections whose handshake is done but that axum has not taken yet.
const READY_CONNECTIONS: usize = 64;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the PEM certificates in {path}: {message}")]
    Certificates { path: PathBuf, message: String },
    #[error("{0} holds no PEM certificate")]
    NoCertificate(PathBuf),
    #[error("cannot read a PEM private key in {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("the certificate and key do not make a TLS configuration: {0}")]
    Config(#[from] rustls::Error),
}

/// The server's TLS configuration from a certificate chain and a private key, both PEM,
/// offering `alpn_protocols` (`http/1.1` for the main listener, `h2` for gRPC).
pub fn acceptor(
    cert_path: &Path,
    key_path: &Path,
    alpn_protocols: &[&[u8]],
) -> Result<TlsAcceptor, TlsError> {
    let certificates = CertificateDer::pem_file_iter(cert_path)
        .and_then(|certificates| certificates.collect::<Result<Vec<_>, _>>())
        .map_err(|error| TlsError::Certificates {
            path: cert_path.to_owned(),
            message: error.to_string(),
        })?;
    if certificates.is_empty() {
        return Err(TlsError::NoCertificate(cert_path.to_owned()));
    }
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|error| TlsError::Key {
        path: key_path.to_owned(),
        message: error.to_string(),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(certificates, key)?;
    config.alpn_protocols = alpn_protocols
        .iter()
        .map(|protocol| protocol.to_vec())
        .collect();
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// Accepts TCP connections, completes TLS handshakes concurrently, and yields the finished ones.
pub struct TlsListener {
    local_address: SocketAddr,
    ready: mpsc::Receiver<(TlsStream<TcpStream>, SocketAddr)>,
}

impl TlsListener {
    pub fn new(tcp: TcpListener, acceptor: TlsAcceptor) -> io::Result<Self> {
        let local_address = tcp.local_addr()?;
        let (sender, ready) = mpsc::channel(READY_CONNECTIONS);
        tokio::spawn(accept_loop(tcp, acceptor, sender));
        Ok(Self {
            local_address,
            ready,
        })
    }
}

async fn accept_loop(
    tcp: TcpListener,
    acceptor: TlsAcceptor,
    ready: mpsc::Sender<(TlsStream<TcpStream>, SocketAddr)>,
) {
    loop {
        let (stream, address) = match tcp.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                // Out of file descriptors and the like: wait instead of spinning.
                tracing::warn!("accepting a connection failed: {error}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        // As on plain listeners (main.rs): small writes go out at once, not after a delayed ACK.
        let _ = stream.set_nodelay(true);
        let (acceptor, ready) = (acceptor.clone(), ready.clone());
        tokio::spawn(async move {
            match tokio::time::timeout(HANDSHAKE_TIMEOUT, acceptor.accept(stream)).await {
                Ok(Ok(tls)) => {
                    let _ = ready.send((tls, address)).await;
                }
                Ok(Err(error)) => tracing::debug!(%address, "TLS handshake failed: {error}"),
                Err(_) => tracing::debug!(%address, "TLS handshake timed out"),
            }
        });
    }
}

impl axum::serve::Listener for TlsListener {
    type Io = TlsStream<TcpStream>;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        match self.ready.recv().await {
            Some(connection) => connection,
            // The accept loop never ends while the listener lives; if it did, serve nothing more.
            None => std::future::pending().await,
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        Ok(self.local_address)
    }
}
