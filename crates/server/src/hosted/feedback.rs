//! The links of a sign-in notification (core's `risk.rs`): GET shows what the link will say,
//! and a button that POSTs it, so a mail scanner that opens links changes nothing; the POST is
//! UpdateAuthEventFeedback with the link's token.

use gatehouse_wire::{FeedbackValueType, UpdateAuthEventFeedbackRequest};

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new().route(
        "/auth-events/feedback",
        get(feedback_page).post(give_feedback),
    )
}

#[derive(Deserialize, Default)]
struct FeedbackLink {
    #[serde(default)]
    pool: String,
    #[serde(default)]
    user: String,
    #[serde(default)]
    event: String,
    #[serde(default)]
    token: String,
    #[serde(default)]
    value: String,
}

struct FeedbackForm {
    action: String,
    pool: String,
    user: String,
    event: String,
    token: String,
    value: String,
    button: &'static str,
}

#[derive(Template)]
#[template(path = "hosted/feedback.html")]
struct FeedbackPage {
    heading: &'static str,
    message: &'static str,
    form: Option<FeedbackForm>,
}

async fn feedback_page(
    State(state): State<Arc<AppState>>,
    Query(link): Query<FeedbackLink>,
) -> Response {
    let (heading, message, button) = match link.value.as_str() {
        "Valid" => (
            "Was this you?",
            "Confirm that you signed in, so we know this device is yours.",
            "Yes, it was me",
        ),
        "Invalid" => (
            "This wasn't you?",
            "We will sign that device out and forget it. Change your password too.",
            "It wasn't me: sign that device out",
        ),
        _ => return error_response(StatusCode::BAD_REQUEST, "This link is not complete."),
    };
    render(&FeedbackPage {
        heading,
        message,
        form: Some(FeedbackForm {
            action: format!("{}/auth-events/feedback", base(&state)),
            pool: link.pool,
            user: link.user,
            event: link.event,
            token: link.token,
            value: link.value,
            button,
        }),
    })
}

async fn give_feedback(
    State(state): State<Arc<AppState>>,
    Form(link): Form<FeedbackLink>,
) -> Response {
    let value = match link.value.as_str() {
        "Valid" => FeedbackValueType::Valid,
        "Invalid" => FeedbackValueType::Invalid,
        _ => return error_response(StatusCode::BAD_REQUEST, "This link is not complete."),
    };
    let req = UpdateAuthEventFeedbackRequest {
        user_pool_id: link.pool,
        username: link.user,
        event_id: link.event,
        feedback_token: link.token,
        feedback_value: value.clone(),
    };
    match state.api.core().update_auth_event_feedback(req).await {
        Ok(_) => render(&FeedbackPage {
            heading: "Thank you",
            message: if value == FeedbackValueType::Invalid {
                "That device is signed out and forgotten. Change your password if someone else may know it."
            } else {
                "Thank you for confirming."
            },
            form: None,
        }),
        Err(e) => {
            let (status, message) = step_error(e);
            error_response(status, &message)
        }
    }
}
