//! Users, sign-up, codes and groups through the official Rust SDK, codes read from the outbox.

mod common;

use aws_sdk_cognitoidentityprovider::types::*;
use aws_sdk_cognitoidentityprovider::Client;
use common::{err_of, TestServer};

fn attr(name: &str, value: &str) -> AttributeType {
    AttributeType::builder()
        .name(name)
        .value(value)
        .build()
        .unwrap()
}

/// Outbox messages for a user of a pool (development mode's endpoint).
fn outbox(srv: &TestServer, pool: &str, user: &str) -> Vec<serde_json::Value> {
    let (status, _, body) = srv
        .http(
            "GET",
            &format!("/_gatehouse/outbox?poolId={pool}&username={user}"),
            &[],
            b"",
        )
        .unwrap();
    assert_eq!(status, 200);
    let v: serde_json::Value = serde_json::from_slice(&body).unwrap();
    v["Messages"].as_array().unwrap().clone()
}

fn last_code(srv: &TestServer, pool: &str, user: &str) -> String {
    outbox(srv, pool, user).last().expect("a message")["Code"]
        .as_str()
        .unwrap()
        .to_string()
}

async fn pool_with(
    c: &Client,
    f: impl FnOnce(aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder) -> aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder,
) -> String {
    f(c.create_user_pool().pool_name("users"))
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap()
}

async fn client_of(c: &Client, pool: &str, secret: bool) -> (String, Option<String>) {
    let cl = c
        .create_user_pool_client()
        .user_pool_id(pool)
        .client_name("app")
        .generate_secret(secret)
        .send()
        .await
        .unwrap()
        .user_pool_client
        .unwrap();
    (cl.client_id.unwrap(), cl.client_secret)
}

/// SECRET_HASH as clients compute it: base64(HMAC-SHA256(secret, username + client id)).
fn secret_hash(secret: &str, user: &str, client: &str) -> String {
    use aws_lc_rs::hmac;
    let key = hmac::Key::new(hmac::HMAC_SHA256, secret.as_bytes());
    let tag = hmac::sign(&key, format!("{user}{client}").as_bytes());
    base64::Engine::encode(&base64::engine::general_purpose::STANDARD, tag.as_ref())
}

#[tokio::test]
async fn sign_up_confirm_with_the_code_from_the_outbox() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
    })
    .await;
    let (client, _) = client_of(&c, &pool, false).await;
    let out = c
        .sign_up()
        .client_id(&client)
        .username("alice")
        .password("Passw0rd!")
        .user_attributes(attr("email", "alice@example.com"))
        .send()
        .await
        .unwrap();
    assert!(!out.user_confirmed);
    let details = out.code_delivery_details.unwrap();
    assert_eq!(details.destination.as_deref(), Some("a***@e***"));
    assert_eq!(details.delivery_medium, Some(DeliveryMediumType::Email));
    let msgs = outbox(&srv, &pool, "alice");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["Purpose"], "SIGN_UP");
    assert_eq!(msgs[0]["Destination"], "alice@example.com");
    let code = msgs[0]["Code"].as_str().unwrap().to_string();
    assert!(msgs[0]["Body"].as_str().unwrap().contains(&code));
    assert_eq!(code.len(), 6);

    let (e, m) = err_of(
        c.confirm_sign_up()
            .client_id(&client)
            .username("alice")
            .confirmation_code(if code == "000000" { "111111" } else { "000000" })
            .send()
            .await,
    );
    assert_eq!(
        (e.as_str(), m.as_str()),
        (
            "CodeMismatchException",
            "Invalid verification code provided, please try again."
        )
    );
    c.confirm_sign_up()
        .client_id(&client)
        .username("alice")
        .confirmation_code(&code)
        .send()
        .await
        .unwrap();
    let u = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username("alice")
        .send()
        .await
        .unwrap();
    assert_eq!(u.user_status, Some(UserStatusType::Confirmed));
    let attrs = u.user_attributes.unwrap();
    assert!(attrs
        .iter()
        .any(|a| a.name == "email_verified" && a.value.as_deref() == Some("true")));
    assert!(attrs
        .iter()
        .any(|a| a.name == "sub" && a.value.as_deref() == Some(out.user_sub.as_str())));
    // Single use, and a confirmed user cannot be confirmed again.
    let (e, m) = err_of(
        c.confirm_sign_up()
            .client_id(&client)
            .username("alice")
            .confirmation_code(&code)
            .send()
            .await,
    );
    assert_eq!(e, "NotAuthorizedException");
    assert_eq!(m, "User cannot be confirmed. Current status is CONFIRMED");
    let (e, _) = err_of(
        c.sign_up()
            .client_id(&client)
            .username("alice")
            .password("Passw0rd!")
            .user_attributes(attr("email", "x@example.com"))
            .send()
            .await,
    );
    assert_eq!(e, "UsernameExistsException");
}

#[tokio::test]
async fn codes_lock_after_five_wrong_guesses_even_across_resends() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| {
        b.auto_verified_attributes(VerifiedAttributeType::Email)
    })
    .await;
    let (client, _) = client_of(&c, &pool, false).await;
    c.sign_up()
        .client_id(&client)
        .username("bob")
        .password("Passw0rd!")
        .user_attributes(attr("email", "bob@example.com"))
        .send()
        .await
        .unwrap();
    let first = last_code(&srv, &pool, "bob");
    c.resend_confirmation_code()
        .client_id(&client)
        .username("bob")
        .send()
        .await
        .unwrap();
    let second = last_code(&srv, &pool, "bob");
    if first != second {
        let (e, _) = err_of(
            c.confirm_sign_up()
                .client_id(&client)
                .username("bob")
                .confirmation_code(&first)
                .send()
                .await,
        );
        assert_eq!(
            e, "CodeMismatchException",
            "the replaced code no longer works"
        );
    }
    let wrong = if second == "999999" {
        "999998"
    } else {
        "999999"
    };
    for _ in 0..4 {
        let (e, _) = err_of(
            c.confirm_sign_up()
                .client_id(&client)
                .username("bob")
                .confirmation_code(wrong)
                .send()
                .await,
        );
        assert_eq!(e, "CodeMismatchException");
    }
    let (e, m) = err_of(
        c.confirm_sign_up()
            .client_id(&client)
            .username("bob")
            .confirmation_code(&second)
            .send()
            .await,
    );
    if first == second {
        assert_eq!(e, "CodeMismatchException");
    } else {
        assert_eq!(
            (e.as_str(), m.as_str()),
            (
                "LimitExceededException",
                "Attempt limit exceeded, please try after some time."
            )
        );
    }
    // A new code does not bring guesses back (that would make guesses unlimited): the lock
    // lasts the hour's window (crates/store/tests/races.rs shows it ending).
    c.resend_confirmation_code()
        .client_id(&client)
        .username("bob")
        .send()
        .await
        .unwrap();
    let (e, _) = err_of(
        c.confirm_sign_up()
            .client_id(&client)
            .username("bob")
            .confirmation_code(last_code(&srv, &pool, "bob"))
            .send()
            .await,
    );
    assert_eq!(e, "LimitExceededException");
    let (e, _) = err_of(
        c.confirm_sign_up()
            .client_id(&client)
            .username("nobody")
            .confirmation_code("123456")
            .send()
            .await,
    );
    assert_eq!(e, "UserNotFoundException");
}

#[tokio::test]
async fn secret_hash_password_policy_and_schema_are_enforced() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| {
        b.schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
        .schema(
            SchemaAttributeType::builder()
                .name("team")
                .attribute_data_type(AttributeDataType::String)
                .mutable(true)
                .build(),
        )
    })
    .await;
    let (client, secret) = client_of(&c, &pool, true).await;
    let secret = secret.unwrap();
    let sign_up = |user: &str, pw: &str, hash: Option<String>, attrs: Vec<AttributeType>| {
        c.sign_up()
            .client_id(&client)
            .username(user)
            .password(pw)
            .set_secret_hash(hash)
            .set_user_attributes(Some(attrs))
            .send()
    };
    let email = || vec![attr("email", "c@example.com")];
    let (e, m) = err_of(sign_up("carol", "Passw0rd!", None, email()).await);
    assert_eq!(e, "NotAuthorizedException");
    assert_eq!(
        m,
        format!("Client {client} is configured for secret but secret was not received")
    );
    let (e, m) = err_of(
        sign_up(
            "carol",
            "Passw0rd!",
            Some(secret_hash(&secret, "someone", &client)),
            email(),
        )
        .await,
    );
    assert_eq!(
        (e.as_str(), m),
        (
            "NotAuthorizedException",
            format!("Unable to verify secret hash for client {client}")
        )
    );
    let h = secret_hash(&secret, "carol", &client);
    let (e, m) = err_of(sign_up("carol", "short", Some(h.clone()), email()).await);
    assert_eq!(
        (e.as_str(), m.as_str()),
        (
            "InvalidPasswordException",
            "Password did not conform with policy: Password not long enough"
        )
    );
    let (e, m) = err_of(sign_up("carol", "passw0rd!", Some(h.clone()), email()).await);
    assert_eq!(
        (e.as_str(), m.as_str()),
        (
            "InvalidPasswordException",
            "Password did not conform with policy: Password must have uppercase characters"
        )
    );
    let (e, m) = err_of(sign_up("carol", "Passw0rd!", Some(h.clone()), vec![]).await);
    assert_eq!(e, "InvalidParameterException");
    assert!(m.contains("email") && m.contains("required"), "{m}");
    let (e, m) = err_of(
        sign_up(
            "carol",
            "Passw0rd!",
            Some(h.clone()),
            vec![attr("email", "c@example.com"), attr("custom:nope", "1")],
        )
        .await,
    );
    assert_eq!(e, "InvalidParameterException");
    assert_eq!(m, "Attributes did not conform to the schema: custom:nope: Attribute does not exist in the schema.");
    let out = sign_up(
        "carol",
        "Passw0rd!",
        Some(h),
        vec![attr("email", "c@example.com"), attr("custom:team", "red")],
    )
    .await
    .unwrap();
    assert!(
        out.code_delivery_details.is_none(),
        "the pool verifies nothing automatically"
    );
    c.admin_confirm_sign_up()
        .user_pool_id(&pool)
        .username("carol")
        .send()
        .await
        .unwrap();
    let u = c
        .admin_get_user()
        .user_pool_id(&pool)
        .username("carol")
        .send()
        .await
        .unwrap();
    assert_eq!(u.user_status, Some(UserStatusType::Confirmed));
    let (e, _) = err_of(
        c.admin_confirm_sign_up()
            .user_pool_id(&pool)
            .username("carol")
            .send()
            .await,
    );
    assert_eq!(e, "NotAuthorizedException");
}

/// A user made by AdminCreateUser with nothing sent.
async fn quiet_user(c: &Client, pool: &str, username: &str) {
    c.admin_create_user()
        .user_pool_id(pool)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .user_attributes(attr("email", &format!("{username}@example.com")))
        .send()
        .await
        .unwrap();
}

async fn admin_user(
    c: &Client,
    pool: &str,
    username: &str,
) -> aws_sdk_cognitoidentityprovider::operation::admin_get_user::AdminGetUserOutput {
    c.admin_get_user()
        .user_pool_id(pool)
        .username(username)
        .send()
        .await
        .unwrap()
}

fn attribute<'a>(attrs: &'a [AttributeType], name: &str) -> Option<&'a str> {
    attrs
        .iter()
        .find(|a| a.name == name)
        .and_then(|a| a.value.as_deref())
}

#[tokio::test]
async fn an_invitation_uses_the_pool_template_and_the_chosen_medium() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| {
        b.admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .invite_message_template(
                    MessageTemplateType::builder()
                        .email_subject("Welcome")
                        .email_message("Hi {username}, use {####}")
                        .build(),
                )
                .build(),
        )
    })
    .await;
    let created = c
        .admin_create_user()
        .user_pool_id(&pool)
        .username("dave")
        .user_attributes(attr("email", "dave@example.com"))
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap()
        .user
        .unwrap();
    assert_eq!(
        created.user_status,
        Some(UserStatusType::ForceChangePassword)
    );
    let msgs = outbox(&srv, &pool, "dave");
    assert_eq!(msgs.len(), 1);
    assert_eq!(msgs[0]["Purpose"], "INVITATION");
    assert_eq!(msgs[0]["Subject"], "Welcome");
    let temp = msgs[0]["Code"].as_str().unwrap();
    assert_eq!(
        msgs[0]["Body"].as_str().unwrap(),
        format!("Hi dave, use {temp}")
    );
    // Default medium is SMS: a user with only an email gets nothing.
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("erin")
        .user_attributes(attr("email", "erin@example.com"))
        .send()
        .await
        .unwrap();
    assert!(outbox(&srv, &pool, "erin").is_empty());
}

#[tokio::test]
async fn suppress_sends_no_invitation_and_resend_sends_a_new_one() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("fred")
        .message_action(MessageActionType::Suppress)
        .temporary_password("Temp0rary!")
        .user_attributes(attr("email", "f@example.com"))
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    assert!(
        outbox(&srv, &pool, "fred").is_empty(),
        "SUPPRESS sends nothing"
    );
    c.admin_create_user()
        .user_pool_id(&pool)
        .username("fred")
        .message_action(MessageActionType::Resend)
        .desired_delivery_mediums(DeliveryMediumType::Email)
        .send()
        .await
        .unwrap();
    assert_eq!(
        outbox(&srv, &pool, "fred").len(),
        1,
        "RESEND sends a new invitation"
    );
}

#[tokio::test]
async fn creating_an_existing_username_is_refused() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    let (e, m) = err_of(
        c.admin_create_user()
            .user_pool_id(&pool)
            .username("dave")
            .send()
            .await,
    );
    assert_eq!(
        (e.as_str(), m.as_str()),
        ("UsernameExistsException", "User account already exists")
    );
}

#[tokio::test]
async fn admin_set_user_password_sets_a_permanent_or_temporary_password_under_the_policy() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    let set = |pw: &'static str, permanent: bool| {
        c.admin_set_user_password()
            .user_pool_id(&pool)
            .username("dave")
            .password(pw)
            .permanent(permanent)
            .send()
    };
    set("N3w-Passw0rd", true).await.unwrap();
    assert_eq!(
        admin_user(&c, &pool, "dave").await.user_status,
        Some(UserStatusType::Confirmed)
    );
    let (e, _) = err_of(set("weak", true).await);
    assert_eq!(e, "InvalidPasswordException");
    set("An0ther-Passw0rd", false).await.unwrap();
    assert_eq!(
        admin_user(&c, &pool, "dave").await.user_status,
        Some(UserStatusType::ForceChangePassword)
    );
}

#[tokio::test]
async fn a_new_password_may_not_repeat_one_of_the_last_in_the_history() {
    let srv = TestServer::start();
    let c = srv.client();
    // With PasswordHistorySize 2 a password may not repeat either of the last two.
    let strict = pool_with(&c, |b| {
        b.policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(8)
                        .password_history_size(2)
                        .build(),
                )
                .build(),
        )
    })
    .await;
    quiet_user(&c, &strict, "hist").await;
    let set = |pw: &'static str| {
        c.admin_set_user_password()
            .user_pool_id(&strict)
            .username("hist")
            .password(pw)
            .permanent(true)
            .send()
    };
    set("first-password").await.unwrap();
    set("second-password").await.unwrap();
    let (e, _) = err_of(set("first-password").await);
    assert_eq!(e, "PasswordHistoryPolicyViolationException");
    set("third-password").await.unwrap();
    set("first-password").await.unwrap();
}

#[tokio::test]
async fn admin_disable_and_enable_switch_the_user() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    c.admin_disable_user()
        .user_pool_id(&pool)
        .username("dave")
        .send()
        .await
        .unwrap();
    assert!(!admin_user(&c, &pool, "dave").await.enabled);
    c.admin_enable_user()
        .user_pool_id(&pool)
        .username("dave")
        .send()
        .await
        .unwrap();
    assert!(admin_user(&c, &pool, "dave").await.enabled);
}

#[tokio::test]
async fn an_admin_email_change_is_unverified_and_sub_cannot_be_written() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    c.admin_update_user_attributes()
        .user_pool_id(&pool)
        .username("dave")
        .user_attributes(attr("name", "Dave"))
        .user_attributes(attr("email", "dave2@example.com"))
        .send()
        .await
        .unwrap();
    let attrs = admin_user(&c, &pool, "dave").await.user_attributes.unwrap();
    assert_eq!(attribute(&attrs, "email"), Some("dave2@example.com"));
    assert_eq!(attribute(&attrs, "email_verified"), Some("false"));
    assert_eq!(attribute(&attrs, "name"), Some("Dave"));
    let (e, _) = err_of(
        c.admin_update_user_attributes()
            .user_pool_id(&pool)
            .username("dave")
            .user_attributes(attr("sub", "x"))
            .send()
            .await,
    );
    assert_eq!(e, "InvalidParameterException");
}

#[tokio::test]
async fn admin_delete_user_attributes_removes_them() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    c.admin_update_user_attributes()
        .user_pool_id(&pool)
        .username("dave")
        .user_attributes(attr("name", "Dave"))
        .send()
        .await
        .unwrap();
    c.admin_delete_user_attributes()
        .user_pool_id(&pool)
        .username("dave")
        .user_attribute_names("name")
        .send()
        .await
        .unwrap();
    let attrs = admin_user(&c, &pool, "dave").await.user_attributes.unwrap();
    assert_eq!(attribute(&attrs, "name"), None);
    assert_eq!(attribute(&attrs, "email"), Some("dave@example.com"));
}

#[tokio::test]
async fn a_deleted_user_is_not_found_and_cannot_be_deleted_again() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    quiet_user(&c, &pool, "dave").await;
    c.admin_delete_user()
        .user_pool_id(&pool)
        .username("dave")
        .send()
        .await
        .unwrap();
    let (e, m) = err_of(
        c.admin_get_user()
            .user_pool_id(&pool)
            .username("dave")
            .send()
            .await,
    );
    assert_eq!(
        (e.as_str(), m.as_str()),
        ("UserNotFoundException", "User does not exist.")
    );
    let (e, _) = err_of(
        c.admin_delete_user()
            .user_pool_id(&pool)
            .username("dave")
            .send()
            .await,
    );
    assert_eq!(e, "UserNotFoundException");
}

#[tokio::test]
async fn usernames_by_email_aliases_and_case() {
    let srv = TestServer::start();
    let c = srv.client();
    // Email as username: the canonical username is the sub.
    let by_email = pool_with(&c, |b| b.username_attributes(UsernameAttributeType::Email)).await;
    let (client, _) = client_of(&c, &by_email, false).await;
    let out = c
        .sign_up()
        .client_id(&client)
        .username("gina@example.com")
        .password("Passw0rd!")
        .send()
        .await
        .unwrap();
    let u = c
        .admin_get_user()
        .user_pool_id(&by_email)
        .username("gina@example.com")
        .send()
        .await
        .unwrap();
    assert_eq!(u.username, out.user_sub);
    let (e, _) = err_of(
        c.sign_up()
            .client_id(&client)
            .username("gina@example.com")
            .password("Passw0rd!")
            .send()
            .await,
    );
    assert_eq!(e, "UsernameExistsException");
    let (e, _) = err_of(
        c.sign_up()
            .client_id(&client)
            .username("not-an-email")
            .password("Passw0rd!")
            .send()
            .await,
    );
    assert_eq!(e, "InvalidParameterException");

    // Email alias: found by email once verified.
    let alias = pool_with(&c, |b| b.alias_attributes(AliasAttributeType::Email)).await;
    c.admin_create_user()
        .user_pool_id(&alias)
        .username("hank")
        .user_attributes(attr("email", "hank@example.com"))
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let (e, _) = err_of(
        c.admin_get_user()
            .user_pool_id(&alias)
            .username("hank@example.com")
            .send()
            .await,
    );
    assert_eq!(
        e, "UserNotFoundException",
        "an unverified email is no alias"
    );
    c.admin_update_user_attributes()
        .user_pool_id(&alias)
        .username("hank")
        .user_attributes(attr("email_verified", "true"))
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.admin_get_user()
            .user_pool_id(&alias)
            .username("hank@example.com")
            .send()
            .await
            .unwrap()
            .username,
        "hank"
    );
    let (e, _) = err_of(
        c.admin_create_user()
            .user_pool_id(&alias)
            .username("x@example.com")
            .message_action(MessageActionType::Suppress)
            .send()
            .await,
    );
    assert_eq!(e, "InvalidParameterException");
    let (e, _) = err_of(
        c.admin_create_user()
            .user_pool_id(&alias)
            .username("ivan")
            .user_attributes(attr("email", "hank@example.com"))
            .user_attributes(attr("email_verified", "true"))
            .message_action(MessageActionType::Suppress)
            .send()
            .await,
    );
    assert_eq!(e, "AliasExistsException");

    // Case-insensitive usernames.
    let ci = pool_with(&c, |b| {
        b.username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .unwrap(),
        )
    })
    .await;
    c.admin_create_user()
        .user_pool_id(&ci)
        .username("Jane")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    assert_eq!(
        c.admin_get_user()
            .user_pool_id(&ci)
            .username("JANE")
            .send()
            .await
            .unwrap()
            .username,
        "Jane"
    );
    let (e, _) = err_of(
        c.admin_create_user()
            .user_pool_id(&ci)
            .username("jane")
            .message_action(MessageActionType::Suppress)
            .send()
            .await,
    );
    assert_eq!(e, "UsernameExistsException");
    let cs = pool_with(&c, |b| b).await;
    c.admin_create_user()
        .user_pool_id(&cs)
        .username("Jane")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    c.admin_create_user()
        .user_pool_id(&cs)
        .username("jane")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
}

#[tokio::test]
async fn list_users_filters_and_pages() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_with(&c, |b| b).await;
    for i in 0..7 {
        c.admin_create_user()
            .user_pool_id(&pool)
            .username(format!("user{i}"))
            .user_attributes(attr(
                "email",
                &format!("{}{i}@example.com", if i < 3 { "ann" } else { "bo" }),
            ))
            .user_attributes(attr("given_name", if i % 2 == 0 { "Even" } else { "Odd" }))
            .message_action(MessageActionType::Suppress)
            .send()
            .await
            .unwrap();
    }
    c.admin_set_user_password()
        .user_pool_id(&pool)
        .username("user1")
        .password("Passw0rd!")
        .permanent(true)
        .send()
        .await
        .unwrap();
    c.admin_disable_user()
        .user_pool_id(&pool)
        .username("user2")
        .send()
        .await
        .unwrap();
    let names = |r: ListUsersOutput| -> Vec<String> {
        r.users
            .unwrap()
            .into_iter()
            .map(|u| u.username.unwrap())
            .collect()
    };
    use aws_sdk_cognitoidentityprovider::operation::list_users::ListUsersOutput;
    let list = |f: &str| c.list_users().user_pool_id(&pool).filter(f).send();
    assert_eq!(
        names(list(r#"email ^= "ann""#).await.unwrap()),
        vec!["user0", "user1", "user2"]
    );
    assert_eq!(
        names(list(r#"email = "bo4@example.com""#).await.unwrap()),
        vec!["user4"]
    );
    assert_eq!(
        names(list(r#"cognito:user_status = "CONFIRMED""#).await.unwrap()),
        vec!["user1"]
    );
    assert_eq!(
        names(list(r#"status = "Disabled""#).await.unwrap()),
        vec!["user2"]
    );
    assert_eq!(
        names(list(r#"given_name = "Odd""#).await.unwrap()),
        vec!["user1", "user3", "user5"]
    );
    assert_eq!(
        names(list(r#"username ^= "user6""#).await.unwrap()),
        vec!["user6"]
    );
    let (e, _) = err_of(list("email = ann").await);
    assert_eq!(e, "InvalidParameterException");
    let (e, _) = err_of(list(r#"custom:x = "1""#).await);
    assert_eq!(e, "InvalidParameterException");
    let only = c
        .list_users()
        .user_pool_id(&pool)
        .attributes_to_get("email")
        .limit(1)
        .send()
        .await
        .unwrap();
    let attrs = only.users.unwrap()[0].attributes.clone().unwrap();
    assert_eq!(
        attrs.iter().map(|a| a.name.as_str()).collect::<Vec<_>>(),
        vec!["email"]
    );
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_users()
            .user_pool_id(&pool)
            .limit(3)
            .set_pagination_token(token)
            .send()
            .await
            .unwrap();
        token = page.pagination_token.clone();
        seen.extend(names(page));
        if token.is_none() {
            break;
        }
    }
    assert_eq!(seen, (0..7).map(|i| format!("user{i}")).collect::<Vec<_>>());
    let (e, _) = err_of(c.list_users().user_pool_id(&pool).limit(61).send().await);
    assert_eq!(e, "InvalidParameterException");
}

/// A pool with the Suppress-created users `names`.
async fn pool_of_users(c: &Client, names: &[&str]) -> String {
    let pool = pool_with(c, |b| b).await;
    for u in names {
        quiet_user(c, &pool, u).await;
    }
    pool
}

async fn add_to_group(c: &Client, pool: &str, group: &str, username: &str) {
    c.admin_add_user_to_group()
        .user_pool_id(pool)
        .group_name(group)
        .username(username)
        .send()
        .await
        .unwrap();
}

async fn new_group(c: &Client, pool: &str, group: &str) {
    c.create_group()
        .user_pool_id(pool)
        .group_name(group)
        .send()
        .await
        .unwrap();
}

async fn members_of(c: &Client, pool: &str, group: &str) -> Vec<String> {
    c.list_users_in_group()
        .user_pool_id(pool)
        .group_name(group)
        .send()
        .await
        .unwrap()
        .users
        .unwrap()
        .into_iter()
        .map(|u| u.username.unwrap())
        .collect()
}

#[tokio::test]
async fn a_group_is_created_updated_and_its_name_is_unique() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_of_users(&c, &[]).await;
    let g = c
        .create_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .precedence(1)
        .role_arn("arn:aws:iam::000000000000:role/admin")
        .description("Admins")
        .send()
        .await
        .unwrap()
        .group
        .unwrap();
    assert_eq!(
        (g.precedence, g.role_arn.as_deref()),
        (Some(1), Some("arn:aws:iam::000000000000:role/admin"))
    );
    let (e, m) = err_of(
        c.create_group()
            .user_pool_id(&pool)
            .group_name("admins")
            .send()
            .await,
    );
    assert_eq!(
        (e.as_str(), m.as_str()),
        (
            "GroupExistsException",
            "A group with the name already exists."
        )
    );
    // UpdateGroup changes what it is given and keeps the rest.
    let u = c
        .update_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .precedence(5)
        .send()
        .await
        .unwrap()
        .group
        .unwrap();
    assert_eq!(
        (u.precedence, u.description.as_deref()),
        (Some(5), Some("Admins"))
    );
    let got = c
        .get_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .send()
        .await
        .unwrap()
        .group
        .unwrap();
    assert_eq!(
        (got.precedence, got.description.as_deref()),
        (Some(5), Some("Admins"))
    );
}

#[tokio::test]
async fn memberships_are_listed_by_user_and_by_group_and_adding_twice_is_harmless() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_of_users(&c, &["kim", "lee"]).await;
    new_group(&c, &pool, "admins").await;
    new_group(&c, &pool, "readers").await;
    add_to_group(&c, &pool, "admins", "kim").await;
    add_to_group(&c, &pool, "admins", "kim").await;
    add_to_group(&c, &pool, "readers", "kim").await;
    add_to_group(&c, &pool, "admins", "lee").await;
    let groups = c
        .admin_list_groups_for_user()
        .user_pool_id(&pool)
        .username("kim")
        .send()
        .await
        .unwrap()
        .groups
        .unwrap();
    assert_eq!(
        groups
            .iter()
            .map(|g| g.group_name.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["admins", "readers"]
    );
    assert_eq!(members_of(&c, &pool, "admins").await, vec!["kim", "lee"]);
    let page = c
        .list_users_in_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .limit(1)
        .send()
        .await
        .unwrap();
    assert_eq!(page.users.unwrap().len(), 1);
    assert!(page.next_token.is_some());
    let all = c
        .list_groups()
        .user_pool_id(&pool)
        .send()
        .await
        .unwrap()
        .groups
        .unwrap();
    assert_eq!(all.len(), 2);
    c.admin_remove_user_from_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .username("kim")
        .send()
        .await
        .unwrap();
    assert_eq!(members_of(&c, &pool, "admins").await, vec!["lee"]);
}

#[tokio::test]
async fn a_membership_needs_an_existing_group_and_user() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_of_users(&c, &["kim"]).await;
    new_group(&c, &pool, "admins").await;
    let (e, m) = err_of(
        c.admin_add_user_to_group()
            .user_pool_id(&pool)
            .group_name("nope")
            .username("kim")
            .send()
            .await,
    );
    assert_eq!(
        (e.as_str(), m.as_str()),
        ("ResourceNotFoundException", "Group not found.")
    );
    let (e, _) = err_of(
        c.admin_add_user_to_group()
            .user_pool_id(&pool)
            .group_name("admins")
            .username("nobody")
            .send()
            .await,
    );
    assert_eq!(e, "UserNotFoundException");
}

#[tokio::test]
async fn deleting_a_group_or_a_user_ends_their_memberships() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = pool_of_users(&c, &["kim"]).await;
    new_group(&c, &pool, "admins").await;
    new_group(&c, &pool, "readers").await;
    add_to_group(&c, &pool, "admins", "kim").await;
    add_to_group(&c, &pool, "readers", "kim").await;
    c.delete_group()
        .user_pool_id(&pool)
        .group_name("admins")
        .send()
        .await
        .unwrap();
    let (e, _) = err_of(
        c.get_group()
            .user_pool_id(&pool)
            .group_name("admins")
            .send()
            .await,
    );
    assert_eq!(e, "ResourceNotFoundException");
    let left = c
        .admin_list_groups_for_user()
        .user_pool_id(&pool)
        .username("kim")
        .send()
        .await
        .unwrap()
        .groups
        .unwrap();
    assert_eq!(
        left.iter()
            .map(|g| g.group_name.clone().unwrap())
            .collect::<Vec<_>>(),
        vec!["readers"]
    );
    c.admin_delete_user()
        .user_pool_id(&pool)
        .username("kim")
        .send()
        .await
        .unwrap();
    assert!(members_of(&c, &pool, "readers").await.is_empty());
}
