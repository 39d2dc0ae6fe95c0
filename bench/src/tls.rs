//! HTTPS in front of a plain-HTTP server on loopback, as AWS endpoints are reached: each client
//! connection is a TLS handshake with a certificate from the benchmark's throwaway CA
//! (`cafe_tests::tls::throwaway_ca`), kept alive as AWS endpoints keep it; each request on it is
//! passed on to the server over a connection of its own (moto closes its connections after every
//! answer, which would otherwise cost a TLS handshake per request).

use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::TlsAcceptor;

/// Starts a TLS endpoint on a free loopback port in front of `backend` (`host:port`), serving
/// `cert` and `key` (PEM files); returns its `https://` URL.
pub async fn https_in_front_of(backend: String, cert: &Path, key: &Path) -> anyhow::Result<String> {
    let chain = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("{}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()?;
    let key = PrivateKeyDer::from_pem_file(key).with_context(|| format!("{}", key.display()))?;
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_single_cert(chain, key)?;
    let acceptor = TlsAcceptor::from(Arc::new(config));
    let listener = TcpListener::bind("127.0.0.1:0").await?;
    let address = listener.local_addr()?;
    tokio::spawn(async move {
        loop {
            let client = match listener.accept().await {
                Ok((client, _)) => client,
                Err(e) => {
                    eprintln!("TLS endpoint {address}: accept: {e}");
                    continue;
                }
            };
            let acceptor = acceptor.clone();
            let backend = backend.clone();
            tokio::spawn(async move {
                let _ = client.set_nodelay(true);
                // A failure shows as the invocation's error; this says where it was.
                let client = match acceptor.accept(client).await {
                    Ok(client) => client,
                    Err(e) => return eprintln!("TLS endpoint {address}: handshake: {e}"),
                };
                let forward = service_fn(move |request| forward(backend.clone(), request));
                let served = hyper::server::conn::http1::Builder::new()
                    .keep_alive(true)
                    .serve_connection(TokioIo::new(client), forward)
                    .await;
                if let Err(e) = served {
                    eprintln!("TLS endpoint {address}: {e}");
                }
            });
        }
    });
    Ok(format!("https://{address}"))
}

/// `request`, sent to `backend` over a new connection, and its answer.
async fn forward(
    backend: String,
    request: hyper::Request<Incoming>,
) -> anyhow::Result<hyper::Response<Incoming>> {
    let stream = TcpStream::connect(&backend).await?;
    stream.set_nodelay(true)?;
    let (mut sender, connection) =
        hyper::client::conn::http1::handshake(TokioIo::new(stream)).await?;
    tokio::spawn(connection);
    let mut response = sender.send_request(request).await?;
    // moto's `Connection: close` is about its own connection, not the client's.
    response.headers_mut().remove(hyper::header::CONNECTION);
    Ok(response)
}
