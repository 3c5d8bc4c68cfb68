//! A pool's app clients: the list, creating one (its secret shown once), editing and deleting.

use super::*;

pub(super) fn routes() -> Router<Arc<AppState>> {
    Router::new()
}
