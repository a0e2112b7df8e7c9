//! Connections to the SMTP relay, kept open between messages.
//!
//! Lettre's own pool opens its sockets with Nagle's algorithm on, and lettre writes the end
//! of the data (`.`) apart from the message: Nagle then holds those five bytes until the
//! relay's delayed ACK, some 40 ms a message and connection (lettre/lettre#1159, not in a
//! release yet). This pool opens the sockets itself, with `TCP_NODELAY`, and hands them to
//! lettre's SMTP protocol code. It also drops a connection whose transaction timed out
//! instead of returning it with replies still in flight.
//!
//! Implicit TLS goes through lettre's `AsyncNetworkStream`, deprecated as "not meant to be
//! public" but the one way to run lettre's TLS set-up (roots, provider) over a socket of our
//! own. Once a lettre release sets `TCP_NODELAY`, this module can give way to its pool.

// See above: `AsyncNetworkStream`.
#![allow(deprecated)]

use std::pin::Pin;
use std::sync::{Mutex, PoisonError};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

use futures_io::{AsyncRead as _, AsyncWrite as _};
use lettre::address::Envelope;
use lettre::transport::smtp::authentication::{Credentials, Mechanism};
use lettre::transport::smtp::client::AsyncTokioStream;
use lettre::transport::smtp::client::{AsyncNetworkStream, AsyncSmtpConnection, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use tokio::io::ReadBuf;
use tokio::net::TcpStream;
use tokio::sync::Semaphore;

/// How a connection is secured.
pub(crate) enum Security {
    None,
    /// STARTTLS after the greeting, required.
    StartTls(TlsParameters),
    /// TLS from the first byte (implicit TLS, port 465).
    Tls(TlsParameters),
}

/// A connection idle longer than this is checked with NOOP before it is used again: the relay
/// may have closed it.
const CHECK_AFTER_IDLE: Duration = Duration::from_secs(5);

pub(crate) struct Pool {
    host: String,
    port: u16,
    security: Security,
    credentials: Option<Credentials>,
    hello: ClientId,
    idle: Mutex<Vec<(AsyncSmtpConnection, Instant)>>,
    /// One a connection: senders beyond them wait for one to come back.
    permits: Semaphore,
}

/// Why a message did not go: the relay's answer (`Smtp`), or no usable connection.
#[derive(Debug)]
pub(crate) enum SendError {
    Smtp(lettre::transport::smtp::Error),
    Connect(String),
}

impl Pool {
    pub(crate) fn new(
        host: String,
        port: u16,
        security: Security,
        credentials: Option<Credentials>,
        max_connections: u32,
    ) -> Self {
        Self {
            host,
            port,
            security,
            credentials,
            hello: ClientId::default(),
            idle: Mutex::default(),
            permits: Semaphore::new(max_connections.max(1) as usize),
        }
    }

    /// Sends one message over a pooled connection (or a new one). Dropping the future (a
    /// timeout) drops the connection with it, so no late reply is read as another message's.
    pub(crate) async fn send(&self, envelope: &Envelope, raw: &[u8]) -> Result<(), SendError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| SendError::Connect("the mailer is shut down".to_owned()))?;
        let mut conn = self.checkout().await?;
        // A failed command makes lettre abort the connection (QUIT, close): it is not kept.
        let sent = conn.send(envelope, raw).await;
        if !conn.has_broken() {
            self.lock().push((conn, Instant::now()));
        }
        sent.map(|_| ()).map_err(SendError::Smtp)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<(AsyncSmtpConnection, Instant)>> {
        self.idle.lock().unwrap_or_else(PoisonError::into_inner)
    }

    async fn checkout(&self) -> Result<AsyncSmtpConnection, SendError> {
        loop {
            let Some((mut conn, since)) = self.lock().pop() else {
                return self.connect().await;
            };
            if since.elapsed() < CHECK_AFTER_IDLE || conn.test_connected().await {
                return Ok(conn);
            }
            conn.abort().await;
        }
    }

    async fn connect(&self) -> Result<AsyncSmtpConnection, SendError> {
        let cannot =
            |e: &dyn std::fmt::Display| SendError::Connect(format!("connection failed: {e}"));
        let tcp = TcpStream::connect((self.host.as_str(), self.port))
            .await
            .map_err(|e| cannot(&e))?;
        tcp.set_nodelay(true).map_err(|e| cannot(&e))?;
        let stream: Box<dyn AsyncTokioStream> = match &self.security {
            Security::Tls(params) => {
                let mut stream = AsyncNetworkStream::use_existing_tokio1(Box::new(tcp));
                stream
                    .upgrade_tls(params.clone())
                    .await
                    .map_err(SendError::Smtp)?;
                Box::new(Secured(stream))
            }
            Security::None | Security::StartTls(_) => Box::new(tcp),
        };
        let mut conn = AsyncSmtpConnection::connect_with_transport(stream, &self.hello)
            .await
            .map_err(SendError::Smtp)?;
        if let Security::StartTls(params) = &self.security {
            conn.starttls(params.clone(), &self.hello)
                .await
                .map_err(SendError::Smtp)?;
        }
        if let Some(credentials) = &self.credentials {
            conn.auth(&[Mechanism::Plain, Mechanism::Login], credentials)
                .await
                .map_err(SendError::Smtp)?;
        }
        Ok(conn)
    }
}

/// A TLS stream of lettre's (futures-io) seen as a tokio stream, so that lettre's
/// connection can run over it.
#[derive(Debug)]
struct Secured(AsyncNetworkStream);

impl tokio::io::AsyncRead for Secured {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        match Pin::new(&mut self.0).poll_read(cx, buf.initialize_unfilled()) {
            Poll::Ready(Ok(n)) => {
                buf.advance(n);
                Poll::Ready(Ok(()))
            }
            Poll::Ready(Err(e)) => Poll::Ready(Err(e)),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl tokio::io::AsyncWrite for Secured {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.0).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.0).poll_close(cx)
    }
}

impl AsyncTokioStream for Secured {
    fn peer_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.0.peer_addr()
    }
}
