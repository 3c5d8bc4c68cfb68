//! Console sessions (gatehouse_core::console) with a clock the test moves: a session lives while
//! it is used, ends after 30 idle minutes or 12 hours in all, or at sign-out for every copy of
//! its cookie and every process on the store, and a cookie is sealed (an edited or foreign one
//! opens nothing).

mod common;

use common::{core_on, on_both, TestClock, TestDb, START_MS};
use gatehouse_core::console::{CONSOLE_IDLE_MS, CONSOLE_MAX_MS};
use gatehouse_core::server_key::ServerKey;
use std::sync::Arc;

async fn core_with_clock(db: &TestDb) -> (gatehouse_core::Core, Arc<TestClock>) {
    let clock = TestClock::at(START_MS);
    let core = core_on(db.store().await, clock.clone());
    (core, clock)
}

on_both! { #[tokio::test] a_session_ends_after_thirty_idle_minutes }
async fn a_session_ends_after_thirty_idle_minutes(db: TestDb) {
    let (core, clock) = core_with_clock(&db).await;
    let (session, cookie) = core.start_console_session("AKIAEXAMPLE");
    clock.advance(CONSOLE_IDLE_MS - 1000);
    let (resumed, _) = core
        .resume_console_session(&cookie)
        .await
        .unwrap()
        .expect("still live");
    assert_eq!(resumed.access_key_id, "AKIAEXAMPLE");
    assert!(resumed.csrf_matches(&session.csrf));
    // The same cookie, now idle too long.
    clock.advance(2000);
    assert!(core
        .resume_console_session(&cookie)
        .await
        .unwrap()
        .is_none());
}

on_both! { #[tokio::test] using_a_session_restarts_its_idle_clock_but_not_its_lifetime }
async fn using_a_session_restarts_its_idle_clock_but_not_its_lifetime(db: TestDb) {
    let (core, clock) = core_with_clock(&db).await;
    let (_, mut cookie) = core.start_console_session("AKIAEXAMPLE");
    let mut used = 0;
    while used + CONSOLE_IDLE_MS / 2 < CONSOLE_MAX_MS {
        clock.advance(CONSOLE_IDLE_MS / 2);
        used += CONSOLE_IDLE_MS / 2;
        cookie = core
            .resume_console_session(&cookie)
            .await
            .unwrap()
            .expect("a session in use stays")
            .1;
    }
    // Used a moment ago, but twelve hours old.
    clock.advance(CONSOLE_IDLE_MS / 2 + 1);
    assert!(core
        .resume_console_session(&cookie)
        .await
        .unwrap()
        .is_none());
}

on_both! { #[tokio::test] an_edited_or_foreign_cookie_opens_nothing }
async fn an_edited_or_foreign_cookie_opens_nothing(db: TestDb) {
    let (core, _) = core_with_clock(&db).await;
    let (session, cookie) = core.start_console_session("AKIAEXAMPLE");
    let mut edited = cookie.clone().into_bytes();
    let last = edited.len() - 5;
    edited[last] = if edited[last] == b'A' { b'B' } else { b'A' };
    assert!(core
        .resume_console_session(std::str::from_utf8(&edited).unwrap())
        .await
        .unwrap()
        .is_none());
    assert!(core.resume_console_session("").await.unwrap().is_none());
    let (other, _) = core_with_clock(&TestDb::sqlite()).await;
    let other = other.with_server_key(ServerKey::from_bytes(&[8; 32]));
    assert!(
        other
            .resume_console_session(&cookie)
            .await
            .unwrap()
            .is_none(),
        "another server key"
    );
    assert!(!session.csrf_matches(""));
    assert!(!session.csrf_matches("forged"));
}

on_both! { #[tokio::test] a_signed_out_session_is_refused_to_every_copy_of_its_cookie }
async fn a_signed_out_session_is_refused_to_every_copy_of_its_cookie(db: TestDb) {
    let (core, clock) = core_with_clock(&db).await;
    let (first, cookie) = core.start_console_session("AKIAEXAMPLE");
    let (_, other_cookie) = core.start_console_session("AKIAEXAMPLE");
    clock.advance(1000);
    let (session, renewed) = core
        .resume_console_session(&cookie)
        .await
        .unwrap()
        .expect("live");
    core.end_console_session(&session).await.unwrap();
    // Neither the cookie signed out with nor the older copy of it opens the session again.
    assert!(core
        .resume_console_session(&renewed)
        .await
        .unwrap()
        .is_none());
    assert!(core
        .resume_console_session(&cookie)
        .await
        .unwrap()
        .is_none());
    assert!(!first.csrf_matches(""));
    // Another session of the same key lives on.
    assert!(core
        .resume_console_session(&other_cookie)
        .await
        .unwrap()
        .is_some());
}
