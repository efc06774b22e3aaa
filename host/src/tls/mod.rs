//! TLS for guests: `wasi:tls@0.2.0-draft` (wasmtime-wasi-tls), client side
//! only, over rustls with a trust store the embedder controls: the system's
//! roots and CA certificates of its own (`wasio run --tls --tls-ca FILE`).
//!
//! `wasi:tls` is always linked, so that a component built with TLS runs
//! on any wasio host; without TLS configured each handshake fails, saying
//! so.
//!
//! A guest hands the handshake the streams of a socket it has already
//! connected, so the network policy has vetted the address before TLS is
//! involved; TLS adds no way to reach anything.

mod coalesce;

use std::future::Future;
use std::path::{Path, PathBuf};
use std::pin::Pin;
use std::sync::Arc;

use rustls::RootCertStore;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use wasmtime_wasi_tls::{TlsProvider, TlsStream, TlsTransport, WasiTlsCtx, WasiTlsCtxBuilder};

/// Which certificate authorities a guest's TLS connections trust.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlsConfig {
    /// Trust the system's roots: the distribution's CA bundle, or the file
    /// and directory named by `SSL_CERT_FILE` and `SSL_CERT_DIR`.
    pub system_roots: bool,
    /// PEM files of further CA certificates to trust (a private CA, a test
    /// CA); every certificate in each file is added.
    pub ca_files: Vec<PathBuf>,
}

impl Default for TlsConfig {
    /// The system's roots and nothing else.
    fn default() -> Self {
        Self {
            system_roots: true,
            ca_files: Vec::new(),
        }
    }
}

/// Why the trust store could not be built.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// A `--tls-ca` file could not be read or holds no PEM certificate.
    #[error("cannot use {} as a CA certificate file: {reason}", path.display())]
    CaFile { path: PathBuf, reason: String },
    /// A CA certificate was read but rustls refused it.
    #[error("{} holds a CA certificate that cannot be trusted: {source}", path.display())]
    BadCa {
        path: PathBuf,
        source: rustls::Error,
    },
    /// No root at all: the system has none and no CA file was given, so no
    /// handshake could ever succeed.
    #[error(
        "no trusted CA certificates: the system has none (install ca-certificates, \
         or set SSL_CERT_FILE) and no --tls-ca file was given"
    )]
    NoRoots,
}

/// The rustls client configuration shared by every instance of a host.
#[derive(Clone, Debug)]
pub(crate) struct Trust {
    client: Arc<rustls::ClientConfig>,
    roots: usize,
}

impl Trust {
    /// Load the roots `config` names, once per host.
    pub(crate) fn load(config: &TlsConfig) -> Result<Self, TlsError> {
        let mut roots = RootCertStore::empty();
        if config.system_roots {
            let native = rustls_native_certs::load_native_certs();
            for error in &native.errors {
                tracing::warn!(%error, "while loading the system's CA certificates");
            }
            let (added, ignored) = roots.add_parsable_certificates(native.certs);
            tracing::debug!(added, ignored, "system CA certificates");
        }
        for path in &config.ca_files {
            for cert in read_pem_certs(path)? {
                roots.add(cert).map_err(|source| TlsError::BadCa {
                    path: path.clone(),
                    source,
                })?;
            }
        }
        if roots.is_empty() {
            return Err(TlsError::NoRoots);
        }
        // The crypto provider is named rather than taken from the process
        // default, which is ambiguous when another crate enables a second one.
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let client = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("ring supports the default protocol versions")
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        Ok(Self {
            client: Arc::new(client),
            roots: roots.len(),
        })
    }

    /// How many roots are trusted.
    pub(crate) fn roots(&self) -> usize {
        self.roots
    }

    /// The `wasi:tls` context of one instance.
    pub(crate) fn context(&self) -> WasiTlsCtx {
        WasiTlsCtxBuilder::new()
            .provider(Box::new(Provider {
                client: Arc::clone(&self.client),
            }))
            .build()
    }
}

/// Every certificate in the PEM file at `path`.
fn read_pem_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let error = |reason: String| TlsError::CaFile {
        path: path.to_owned(),
        reason,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| error(e.to_string()))?;
    if certs.is_empty() {
        return Err(error("no PEM certificate in it".to_owned()));
    }
    Ok(certs)
}

/// wasmtime-wasi-tls's rustls provider with wasio's trust store. Errors
/// keep rustls's wording (as the stock CLI's provider does), which the
/// guest maps to its error cases.
struct Provider {
    client: Arc<rustls::ClientConfig>,
}

type Connecting =
    Pin<Box<dyn Future<Output = Result<Box<dyn TlsStream>, wasmtime_wasi_tls::Error>> + Send>>;

impl TlsProvider for Provider {
    fn connect(&self, server_name: String, transport: Box<dyn TlsTransport>) -> Connecting {
        let connector = tokio_rustls::TlsConnector::from(Arc::clone(&self.client));
        Box::pin(async move {
            let name = ServerName::try_from(server_name.clone()).map_err(|_| {
                wasmtime_wasi_tls::Error::msg(format!("invalid server name {server_name:?}"))
            })?;
            let transport: Box<dyn TlsTransport> = Box::new(coalesce::Coalesce::new(transport));
            let stream = connector.connect(name, transport).await.map_err(|error| {
                match error.downcast::<rustls::Error>() {
                    Ok(error) => wasmtime_wasi_tls::Error::msg(error),
                    Err(error) => wasmtime_wasi_tls::Error::msg(error),
                }
            })?;
            Ok(Box::new(stream) as Box<dyn TlsStream>)
        })
    }
}

/// The `wasi:tls` context of an instance whose host has TLS off: a
/// component that imports `wasi:tls` still runs, and each handshake fails
/// saying how to turn TLS on.
pub(crate) fn disabled_context() -> WasiTlsCtx {
    WasiTlsCtxBuilder::new()
        .provider(Box::new(Disabled))
        .build()
}

/// Refuses every handshake.
struct Disabled;

impl TlsProvider for Disabled {
    fn connect(&self, _server_name: String, _transport: Box<dyn TlsTransport>) -> Connecting {
        Box::pin(async {
            Err(wasmtime_wasi_tls::Error::msg(
                "TLS is off in this host: run wasio with --tls (HostConfig::tls)",
            ))
        })
    }
}
