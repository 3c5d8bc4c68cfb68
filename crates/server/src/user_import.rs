//! The upload URL of a user import job (CreateUserImportJob's `PreSignedUrl`): an HTTP PUT of
//! the CSV, answered as S3 answers a presigned PUT (XML errors, an ETag), since the clients
//! that upload (curl, axios, the SDKs' HTTP clients) are written against S3. The checks and
//! the rules are the core's (`crates/core/src/user_import/mod.rs`).

use std::sync::Arc;

use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use gatehouse_core::user_import::{UploadRefusal, MAX_FILE_BYTES};

use crate::AppState;

/// Uploads read at once by this process (each up to 100 MB).
static UPLOADS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

pub(crate) async fn upload(
    State(state): State<Arc<AppState>>,
    Path((pool_id, job_id)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let sse = headers
        .get("x-amz-server-side-encryption")
        .and_then(|v| v.to_str().ok());
    let query_text = query.as_deref().unwrap_or("");
    // The signature first: only the holder of the URL may send a body.
    if let Err(r) = state
        .api
        .core()
        .check_import_upload(&pool_id, &job_id, query_text, sse)
    {
        return refusal(r);
    }
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > MAX_FILE_BYTES) {
        return refusal(UploadRefusal::TooLarge);
    }
    // A few files in memory at once, whatever the number of signed uploads.
    let Ok(_permit) = UPLOADS.acquire().await else {
        return refusal(UploadRefusal::Internal);
    };
    let Ok(csv) = axum::body::to_bytes(body, MAX_FILE_BYTES).await else {
        return refusal(UploadRefusal::TooLarge);
    };
    let received = state
        .api
        .core()
        .receive_import_file(&pool_id, &job_id, query_text, sse, &csv)
        .await;
    match received {
        Ok(etag) => {
            tracing::info!(%pool_id, %job_id, bytes = csv.len(), "user import file received");
            (StatusCode::OK, [(header::ETAG, etag)]).into_response()
        }
        Err(r) => {
            tracing::info!(%pool_id, %job_id, refusal = ?r, "user import upload refused");
            refusal(r)
        }
    }
}

/// S3's error document for a refusal.
fn refusal(r: UploadRefusal) -> Response {
    let (status, code, message) = match &r {
        UploadRefusal::Malformed(m) => (
            StatusCode::BAD_REQUEST,
            "AuthorizationQueryParametersError",
            m.as_str(),
        ),
        UploadRefusal::Mismatch => (
            StatusCode::FORBIDDEN,
            "SignatureDoesNotMatch",
            "The request signature we calculated does not match the signature you provided. \
             Check your key and signing method.",
        ),
        UploadRefusal::Expired => (StatusCode::FORBIDDEN, "AccessDenied", "Request has expired"),
        UploadRefusal::Closed => (StatusCode::FORBIDDEN, "AccessDenied", "Access Denied"),
        UploadRefusal::TooLarge => (
            StatusCode::BAD_REQUEST,
            "EntityTooLarge",
            "Your proposed upload exceeds the maximum allowed size",
        ),
        UploadRefusal::Internal => (
            StatusCode::INTERNAL_SERVER_ERROR,
            "InternalError",
            "We encountered an internal error. Please try again.",
        ),
    };
    let body = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [(header::CONTENT_TYPE, "application/xml")], body).into_response()
}
