//! The accept loop: HTTP/1.1 and h2c on one port, with the limits an exposed server needs. A
//! client that sends its headers slowly is cut off after the header timeout, an idle connection
//! after the idle timeout, at most `max_connections` are served at once (further clients wait in
//! the kernel's backlog), and a shutdown waits for in-flight requests only for a bounded time.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use tokio::sync::{watch, Semaphore};
use tower_service::Service;

/// Connection limits of a listener.
#[derive(Debug, Clone)]
pub struct ConnectionLimits {
    /// Longest time a client may take to send a request's headers (HTTP/1.1); a keep-alive
    /// connection waiting for its next request is closed after this time too.
    pub header_read_timeout: Duration,
    /// A connection with no request in flight for this long is closed (HTTP/2 and clients that
    /// never send a byte included).
    pub idle_timeout: Duration,
    /// After SIGTERM / Ctrl-C, how long in-flight requests may take before the process exits
    /// anyway.
    pub shutdown_timeout: Duration,
    /// Connections served at once.
    pub max_connections: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        ConnectionLimits {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            shutdown_timeout: Duration::from_secs(10),
            max_connections: 1024,
        }
    }
}

/// Requests in flight on one connection and when the last one ended (ms since `epoch`).
struct Activity {
    epoch: Instant,
    in_flight: AtomicUsize,
    last_ms: AtomicU64,
}

impl Activity {
    fn touch(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_ms.store(ms, Ordering::Relaxed);
    }
    /// When the connection becomes idle for `idle`, if nothing happens meanwhile.
    fn idle_deadline(&self, idle: Duration) -> tokio::time::Instant {
        let last = self.epoch + Duration::from_millis(self.last_ms.load(Ordering::Relaxed));
        tokio::time::Instant::from_std(last + idle)
    }
    fn is_idle(&self, idle: Duration) -> bool {
        self.in_flight.load(Ordering::Acquire) == 0
            && tokio::time::Instant::now() >= self.idle_deadline(idle)
    }
}

struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.touch();
        self.0.in_flight.fetch_sub(1, Ordering::Release);
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// for at most `limits.shutdown_timeout`.
pub async fn serve_with(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: ConnectionLimits,
    shutdown: impl std::future::Future<Output = ()>,
) -> std::io::Result<()> {
    let max = limits.max_connections.max(1);
    let slots = Arc::new(Semaphore::new(max));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
    builder
        .http1()
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout);
    builder.http2().timer(TokioTimer::new());
    let builder = Arc::new(builder);
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            p = slots.clone().acquire_owned() => p.expect("semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(s) => s,
                Err(e) => {
                    // Out of file descriptors or a connection reset before accept: the
                    // listener itself is fine; back off briefly rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        let mut stop = stop_rx.clone();
        let idle = limits.idle_timeout;
        tokio::spawn(async move {
            let _permit = permit;
            metrics::gauge!("gatehouse_connections_open").increment(1.0);
            let activity = Arc::new(Activity {
                epoch: Instant::now(),
                in_flight: AtomicUsize::new(0),
                last_ms: AtomicU64::new(0),
            });
            let seen = activity.clone();
            let svc = hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
                seen.in_flight.fetch_add(1, Ordering::Acquire);
                let guard = InFlight(seen.clone());
                req.extensions_mut().insert(ConnectInfo(peer));
                let fut = app.clone().call(req);
                async move {
                    let res = fut.await;
                    drop(guard);
                    res
                }
            });
            let conn = builder.serve_connection_with_upgrades(TokioIo::new(stream), svc);
            tokio::pin!(conn);
            let mut closing = false;
            loop {
                let wake = activity.idle_deadline(idle);
                tokio::select! {
                    _ = conn.as_mut() => break,
                    () = tokio::time::sleep_until(wake), if !closing => {
                        if activity.is_idle(idle) {
                            conn.as_mut().graceful_shutdown();
                            closing = true;
                        } else if activity.in_flight.load(Ordering::Acquire) > 0 {
                            // Busy: look again one idle period from now.
                            activity.touch();
                        }
                    }
                    r = stop.changed(), if !closing => {
                        if r.is_ok() {
                            conn.as_mut().graceful_shutdown();
                        }
                        closing = true;
                    }
                }
            }
            metrics::gauge!("gatehouse_connections_open").decrement(1.0);
        });
    }
    drop(listener);
    let _ = stop_tx.send(true);
    // Every connection holds a slot until it ends: all slots back means all connections closed.
    let drained =
        tokio::time::timeout(limits.shutdown_timeout, slots.acquire_many(max as u32)).await;
    if drained.is_err() {
        tracing::warn!(
            open = max - slots.available_permits(),
            "connections still open after the shutdown grace period; closing them"
        );
    }
    Ok(())
}
