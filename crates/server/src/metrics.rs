//! Prometheus metrics (`--metrics-listen`): the `metrics` facade with the Prometheus exporter's
//! recorder, rendered by `GET /metrics` on a listener of its own. Without that option no
//! recorder is installed and the request path skips label building altogether.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use axum::http::header;
use axum::response::IntoResponse;
use axum::routing::get;
use axum::Router;
use gatehouse_wire::ApiError;
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

static ENABLED: AtomicBool = AtomicBool::new(false);

fn enabled() -> bool {
    ENABLED.load(Ordering::Relaxed)
}

/// Request latencies from a fraction of a millisecond (GetUser) to seconds (slow SMTP).
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// The installed recorder.
#[derive(Clone)]
pub struct Metrics {
    handle: PrometheusHandle,
}

impl Metrics {
    /// Installs the process-wide recorder (once per process).
    pub fn install() -> Result<Metrics, String> {
        let handle = PrometheusBuilder::new()
            .set_buckets_for_metric(Matcher::Suffix("duration_seconds".into()), LATENCY_BUCKETS)
            .and_then(|b| b.install_recorder())
            .map_err(|e| format!("cannot install the metrics recorder: {e}"))?;
        ENABLED.store(true, Ordering::Relaxed);
        describe();
        Ok(Metrics { handle })
    }

    /// `GET /metrics`; `before_render` refreshes gauges that are read rather than counted
    /// (the database pool).
    pub fn router(self, before_render: Option<Arc<dyn Fn() + Send + Sync>>) -> Router {
        let handle = self.handle.clone();
        // Histograms are kept in per-thread buffers until upkeep folds them in.
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_secs(5));
            loop {
                tick.tick().await;
                handle.run_upkeep();
            }
        });
        Router::new().route(
            "/metrics",
            get(move || {
                let handle = self.handle.clone();
                let before = before_render.clone();
                async move {
                    if let Some(f) = before {
                        f();
                    }
                    handle.run_upkeep();
                    (
                        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        handle.render(),
                    )
                        .into_response()
                }
            }),
        )
    }
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram, Unit};
    describe_counter!(
        "gatehouse_requests_total",
        "API requests by operation and outcome (success or the AWS error type)"
    );
    describe_histogram!(
        "gatehouse_request_duration_seconds",
        Unit::Seconds,
        "API request latency by operation"
    );
    describe_counter!(
        "gatehouse_sign_ins_total",
        "Sign-in steps by flow (AuthFlow or the challenge answered) and result (the next challenge, tokens, or the error type)"
    );
    describe_counter!(
        "gatehouse_lockouts_total",
        "Sign-in attempts refused because the user is locked after too many wrong passwords or codes"
    );
    describe_counter!(
        "gatehouse_messages_delivered_total",
        "Messages (codes, invitations) handed to the courier, by medium"
    );
    describe_counter!(
        "gatehouse_message_delivery_failures_total",
        "Messages the courier failed to deliver, by medium"
    );
    describe_gauge!(
        "gatehouse_db_pool_connections",
        "Database connections open in the pool"
    );
    describe_gauge!(
        "gatehouse_db_pool_idle_connections",
        "Database connections idle in the pool"
    );
    describe_gauge!("gatehouse_connections_open", "HTTP connections open");
}

/// One answered API request.
pub(crate) fn request(op: &'static str, outcome: Result<(), &'static str>, elapsed: Duration) {
    if !enabled() {
        return;
    }
    let outcome = match outcome {
        Ok(()) => "success",
        Err(code) => code,
    };
    metrics::counter!("gatehouse_requests_total", "operation" => op, "outcome" => outcome)
        .increment(1);
    metrics::histogram!("gatehouse_request_duration_seconds", "operation" => op)
        .record(elapsed.as_secs_f64());
}

/// What a sign-in step led to: the next challenge, tokens, or the error.
pub(crate) fn sign_in<T>(
    flow: &'static str,
    result: &Result<T, ApiError>,
    next: impl FnOnce(&T) -> Option<&'static str>,
) {
    if !enabled() {
        return;
    }
    let result = match result {
        Ok(r) => next(r).unwrap_or("tokens"),
        Err(e) => e.code,
    };
    metrics::counter!("gatehouse_sign_ins_total", "flow" => flow, "result" => result).increment(1);
}

/// A model enum value as a static label (`other` for a value the model does not list, which
/// validation refuses before it gets here).
pub(crate) fn label(values: &'static [&'static str], value: &str) -> &'static str {
    values
        .iter()
        .find(|v| **v == value)
        .copied()
        .unwrap_or("other")
}
