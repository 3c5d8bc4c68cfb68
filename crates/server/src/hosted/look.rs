//! The hosted pages in the look a pool gave them (SetUICustomization: CSS for Cognito's
//! `*-customizable` classes, which the templates carry, and a logo), and the logo at the
//! `ImageUrl` the API returns. The rules (which CSS passes, which record applies) are the
//! core's: crates/core/src/ui_customization.rs.

use axum::body::Body;
use axum::extract::{Path, Request};
use axum::middleware::Next;

use super::*;

/// After a page is made: the client's (or pool's) CSS before `</head>`, its logo at the top
/// of `<main>`. The client is the request's `client_id`, as every hosted page's URL carries it.
pub(super) async fn apply(
    State(state): State<Arc<AppState>>,
    req: Request,
    next: Next,
) -> Response {
    let client_id: Option<String> = req.uri().query().and_then(|q| {
        serde_urlencoded::from_str::<Vec<(String, String)>>(q)
            .ok()?
            .into_iter()
            .find(|(k, _)| k == "client_id")
            .map(|(_, v)| v)
    });
    let res = next.run(req).await;
    let html = res
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let (Some(client_id), true) = (client_id, html) else {
        return res;
    };
    let look = match state.api.core().hosted_look(&client_id).await {
        Ok(Some(look)) => look,
        Ok(None) => return res,
        Err(e) => {
            tracing::warn!(error = %e, "the hosted pages' customization could not be read");
            return res;
        }
    };
    let (mut parts, body) = res.into_parts();
    let Ok(bytes) = axum::body::to_bytes(body, 4 << 20).await else {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    };
    // The CSS holds no `<` (the core refuses it), the logo is a base64 data URL.
    let mut page = String::from_utf8_lossy(&bytes).replacen(
        "</head>",
        &format!("<style>\n{}</style>\n</head>", look.css),
        1,
    );
    if let Some(logo) = look.logo {
        page = page.replacen(
            "<main>",
            &format!("<main>\n<img class=\"logo-customizable\" src=\"{logo}\" alt=\"\">"),
            1,
        );
    }
    parts.headers.remove(header::CONTENT_LENGTH);
    Response::from_parts(parts, Body::from(page))
}

/// GET `/_gatehouse/ui-customization/{pool}/{client}/{version}/image`: the logo of that
/// version of the record (404 once replaced).
pub(super) async fn image(
    State(state): State<Arc<AppState>>,
    Path((pool_id, client, version)): Path<(String, String, String)>,
) -> Response {
    match state
        .api
        .core()
        .ui_customization_image(&pool_id, &client, &version)
        .await
    {
        Ok(Some((media_type, bytes))) => {
            ([(header::CONTENT_TYPE, media_type)], bytes).into_response()
        }
        Ok(None) => StatusCode::NOT_FOUND.into_response(),
        Err(e) => {
            tracing::warn!(error = %e, "reading a customization's image failed");
            StatusCode::INTERNAL_SERVER_ERROR.into_response()
        }
    }
}
