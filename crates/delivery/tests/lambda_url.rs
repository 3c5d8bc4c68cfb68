//! Lambda triggers served at a URL, against a real HTTP listener on 127.0.0.1: the event goes
//! verbatim and signed as the webhook is, and each kind of answer means what it should.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, post};
use gatehouse_core::triggers::{InvokeError, LambdaInvoker, NoLambdaEndpoint};
use gatehouse_delivery::{
    LambdaFunctionUrl, LambdaRouter, LambdaUrlClient, LambdaUrlSettings, LAMBDA_TIMEOUT,
};
use hmac::{Hmac, Mac};
use sha2::Sha256;
use tokio::net::TcpListener;

const ARN: &str = "arn:aws:lambda:us-east-1:123456789012:function:pre-sign-up";
const SECRET: &str = "fn-secret-0123456789";
const EVENT: &str = r#"{"version":"1","triggerSource":"PreSignUp_SignUp","region":"us-east-1","userPoolId":"us-east-1_abc","userName":"ann","request":{"userAttributes":{"email":"ann@example.com"}},"response":{"autoConfirmUser":false}}"#;

/// One answer of the function's server.
#[derive(Clone)]
enum Reply {
    Json(u16, &'static str),
    Empty(u16),
    /// 302 to /elsewhere on the same server.
    Redirect,
}

#[derive(Clone, Default)]
struct Log {
    /// Headers and body of every request to the function's path.
    requests: Arc<Mutex<Vec<(HeaderMap, Bytes)>>>,
    /// Requests to /elsewhere (a followed redirect).
    elsewhere: Arc<Mutex<usize>>,
}

#[derive(Clone)]
struct AppState {
    log: Log,
    script: Arc<Mutex<VecDeque<Reply>>>,
}

struct FunctionServer {
    url: String,
    log: Log,
}

impl FunctionServer {
    /// Answers the scripted replies in order (then 200 `{}`).
    async fn start(script: &[Reply]) -> FunctionServer {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let log = Log::default();
        let state = AppState {
            log: log.clone(),
            script: Arc::new(Mutex::new(script.iter().cloned().collect())),
        };
        let app = axum::Router::new()
            .route("/fn/pre-sign-up", post(function))
            .route("/elsewhere", any(elsewhere))
            .with_state(state);
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        FunctionServer {
            url: format!("http://{addr}/fn/pre-sign-up"),
            log,
        }
    }

    fn requests(&self) -> Vec<(HeaderMap, Bytes)> {
        self.log.requests.lock().unwrap().clone()
    }
}

async fn function(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    state.log.requests.lock().unwrap().push((headers, body));
    let reply = state.script.lock().unwrap().pop_front();
    match reply.unwrap_or(Reply::Json(200, "{}")) {
        Reply::Json(status, body) => (
            StatusCode::from_u16(status).unwrap(),
            [("content-type", "application/json")],
            body,
        )
            .into_response(),
        Reply::Empty(status) => StatusCode::from_u16(status).unwrap().into_response(),
        Reply::Redirect => (StatusCode::FOUND, [("location", "/elsewhere")]).into_response(),
    }
}

async fn elsewhere(State(state): State<AppState>) -> &'static str {
    *state.log.elsewhere.lock().unwrap() += 1;
    r#"{"response":{"autoConfirmUser":true}}"#
}

fn client_for(url: &str, timeout: Duration) -> LambdaUrlClient {
    LambdaUrlClient::new(LambdaUrlSettings {
        functions: vec![LambdaFunctionUrl {
            arn: ARN.into(),
            url: url.into(),
            secret: SECRET.into(),
        }],
        timeout,
    })
    .unwrap()
}

async fn invoke(url: &str) -> Result<Vec<u8>, InvokeError> {
    client_for(url, LAMBDA_TIMEOUT)
        .invoke(ARN, EVENT.as_bytes().to_vec())
        .await
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers
        .get(name)
        .unwrap_or_else(|| panic!("missing header {name}"))
        .to_str()
        .unwrap()
}

/// The documented recipe, implemented independently (RustCrypto `hmac` + `sha2`).
fn signature_is_valid(headers: &HeaderMap, body: &[u8], secret: &str) -> bool {
    let Some(hex) = header(headers, "x-gatehouse-signature").strip_prefix("sha256=") else {
        return false;
    };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(header(headers, "x-gatehouse-timestamp").as_bytes());
    mac.update(b".");
    mac.update(body);
    let expected: String = mac
        .finalize()
        .into_bytes()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    expected == hex
}

#[tokio::test]
async fn the_event_goes_verbatim_signed_and_named_and_the_output_comes_back() {
    let output = r#"{"response":{"autoConfirmUser":true}}"#;
    let server = FunctionServer::start(&[Reply::Json(200, output)]).await;

    assert_eq!(invoke(&server.url).await.unwrap(), output.as_bytes());

    let [(headers, body)] = &server.requests()[..] else {
        panic!("one request expected");
    };
    assert_eq!(&body[..], EVENT.as_bytes());
    assert_eq!(header(headers, "content-type"), "application/json");
    assert_eq!(header(headers, "x-gatehouse-function"), ARN);
    let timestamp: u64 = header(headers, "x-gatehouse-timestamp").parse().unwrap();
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!(now.abs_diff(timestamp) < 60);
    assert!(signature_is_valid(headers, body, SECRET));
    assert!(!signature_is_valid(headers, body, "another secret"));
    // The crate's own verifier agrees.
    assert!(gatehouse_delivery::verify_signature(
        SECRET.as_bytes(),
        header(headers, "x-gatehouse-timestamp"),
        body,
        header(headers, "x-gatehouse-signature"),
        now,
        Duration::from_secs(300),
    ));
}

#[tokio::test]
async fn an_error_message_on_4xx_or_5xx_is_the_functions_error() {
    let server = FunctionServer::start(&[
        Reply::Json(400, r#"{"errorMessage":"no thanks"}"#),
        Reply::Json(
            500,
            r#"{"errorMessage":"crashed","errorType":"Error","stackTrace":[]}"#,
        ),
        // A 200 of nothing but error members is how runtimes report errors too.
        Reply::Json(200, r#"{"errorMessage":"raised","errorType":"Error"}"#),
    ])
    .await;
    let client = client_for(&server.url, LAMBDA_TIMEOUT);
    for expected in ["no thanks", "crashed", "raised"] {
        assert_eq!(
            client.invoke(ARN, EVENT.as_bytes().to_vec()).await,
            Err(InvokeError::Function(expected.into()))
        );
    }
}

#[tokio::test]
async fn other_statuses_are_failed_invocations() {
    let server = FunctionServer::start(&[
        Reply::Empty(503),
        Reply::Json(404, r#"{"message":"Not Found"}"#),
    ])
    .await;
    let client = client_for(&server.url, LAMBDA_TIMEOUT);
    for expected in ["HTTP 503", "HTTP 404"] {
        assert_eq!(
            client.invoke(ARN, EVENT.as_bytes().to_vec()).await,
            Err(InvokeError::Invocation(expected.into()))
        );
    }
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let server = FunctionServer::start(&[Reply::Redirect]).await;
    assert_eq!(
        invoke(&server.url).await,
        Err(InvokeError::Invocation("HTTP 302".into()))
    );
    assert_eq!(server.requests().len(), 1);
    assert_eq!(*server.log.elsewhere.lock().unwrap(), 0);
}

#[tokio::test]
async fn a_url_that_never_answers_times_out_in_cognitos_words() {
    // Accepts connections and reads nothing, answers nothing.
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((stream, _)) = listener.accept().await {
            held.push(stream);
        }
    });
    let client = client_for(&format!("http://{addr}/fn"), Duration::from_millis(300));
    let started = Instant::now();
    assert_eq!(
        client.invoke(ARN, EVENT.as_bytes().to_vec()).await,
        Err(InvokeError::Invocation(
            "Socket timeout while invoking Lambda function".into()
        ))
    );
    let waited = started.elapsed();
    assert!(
        waited >= Duration::from_millis(300) && waited < Duration::from_secs(3),
        "{waited:?}"
    );
}

#[tokio::test]
async fn an_unreachable_url_is_a_failed_invocation() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        listener.local_addr().unwrap().port()
    };
    assert_eq!(
        invoke(&format!("http://127.0.0.1:{port}/fn")).await,
        Err(InvokeError::Invocation(
            "Unable to reach the function's URL".into()
        ))
    );
}

#[tokio::test]
async fn the_router_sends_only_the_configured_functions_to_their_url() {
    let output = r#"{"response":{}}"#;
    let server = FunctionServer::start(&[Reply::Json(200, output)]).await;
    let router = LambdaRouter::new(
        client_for(&server.url, LAMBDA_TIMEOUT),
        Arc::new(NoLambdaEndpoint),
    );
    assert_eq!(router.max_wait(), Duration::from_secs(5));
    assert_eq!(
        router.invoke(ARN, EVENT.as_bytes().to_vec()).await.unwrap(),
        output.as_bytes()
    );
    // Another function (even one differing only in its qualifier) goes to the fallback, which
    // here is core's "no endpoint configured".
    let other = format!("{ARN}:prod");
    let err = router
        .invoke(&other, EVENT.as_bytes().to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, InvokeError::Invocation(_)), "{err:?}");
    assert_eq!(server.requests().len(), 1);
}
