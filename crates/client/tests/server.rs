//! Signs in against a real Gatehouse: the binary named by `GATEHOUSE_BIN` is started on a
//! free port with a temporary data directory. Without `GATEHOUSE_BIN` every test here passes
//! after printing that it was skipped.
//!
//! ```sh
//! GATEHOUSE_BIN=/path/to/gatehouse cargo test -p gatehouse-client --test server
//! ```

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_cognitoidentityprovider::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_cognitoidentityprovider::operation::initiate_auth::InitiateAuthError;
use aws_sdk_cognitoidentityprovider::operation::respond_to_auth_challenge::RespondToAuthChallengeError;
use aws_sdk_cognitoidentityprovider::types::{
    AttributeType, ChallengeNameType, DeviceConfigurationType, DeviceSecretVerifierConfigType,
    ExplicitAuthFlowsType, MessageActionType, UsernameAttributeType,
};
use aws_sdk_cognitoidentityprovider::Client;
use gatehouse_client::srp::DeviceSecret;
use gatehouse_client::{CachedUser, Error, SignInOutcome, SrpSignIn};

const KEY: &str = "AKIAIOSFODNN7EXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const PASSWORD: &str = "Corr3ct-Horse!";

struct Server {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Server {
    /// `None` (and a note on stderr) when GATEHOUSE_BIN is not set.
    fn start(test: &str) -> Option<Server> {
        let Some(bin) = std::env::var_os("GATEHOUSE_BIN").map(PathBuf::from) else {
            eprintln!("{test}: skipped — set GATEHOUSE_BIN to a gatehouse binary to run it");
            return None;
        };
        let dir = tempfile::tempdir().unwrap();
        let port = TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let log = std::fs::File::create(dir.path().join("server.log")).unwrap();
        let child = Command::new(&bin)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(dir.path())
            .args(["--region", "us-east-1", "--account-id", "000000000000"])
            // Many sign-ins from one address in a short time.
            .args(["--rate-limit-per-ip", "0", "--rate-limit-per-client", "0"])
            .env("GATEHOUSE_ACCESS_KEY_ID", KEY)
            .env("GATEHOUSE_SECRET_ACCESS_KEY", SECRET)
            .env_remove("GATEHOUSE_CONFIG")
            .env_remove("GATEHOUSE_DEV")
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .unwrap_or_else(|e| panic!("start {}: {e}", bin.display()));
        let server = Server {
            child,
            port,
            _dir: dir,
        };
        server.wait_healthy();
        Some(server)
    }

    fn wait_healthy(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("gatehouse did not listen on port {}", self.port);
    }

    fn sdk(&self, credentials: bool) -> Client {
        let mut conf = aws_sdk_cognitoidentityprovider::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::new("us-east-1"))
            .endpoint_url(format!("http://127.0.0.1:{}", self.port));
        if credentials {
            conf = conf.credentials_provider(Credentials::new(KEY, SECRET, None, None, "test"));
        }
        Client::from_conf(conf.build())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A pool and an app client allowing SRP, password and refresh flows: (pool id, client id,
/// client secret).
async fn pool_and_client(
    admin: &Client,
    secret: bool,
    configure: impl FnOnce(
        aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder,
    ) -> aws_sdk_cognitoidentityprovider::operation::create_user_pool::builders::CreateUserPoolFluentBuilder,
) -> (String, String, Option<String>) {
    let pool = configure(admin.create_user_pool().pool_name("client-tests"))
        .send()
        .await
        .unwrap();
    let pool_id = pool.user_pool().unwrap().id().unwrap().to_string();
    let client = admin
        .create_user_pool_client()
        .user_pool_id(&pool_id)
        .client_name("app")
        .generate_secret(secret)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserSrpAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowUserPasswordAuth)
        .explicit_auth_flows(ExplicitAuthFlowsType::AllowRefreshTokenAuth)
        .send()
        .await
        .unwrap();
    let c = client.user_pool_client().unwrap();
    (
        pool_id,
        c.client_id().unwrap().to_string(),
        c.client_secret().map(str::to_string),
    )
}

async fn confirmed_user(admin: &Client, pool_id: &str, username: &str, password: &str) {
    admin
        .admin_create_user()
        .user_pool_id(pool_id)
        .username(username)
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    admin
        .admin_set_user_password()
        .user_pool_id(pool_id)
        .username(username)
        .password(password)
        .permanent(true)
        .send()
        .await
        .unwrap();
}

fn tokens(
    outcome: SignInOutcome,
) -> aws_sdk_cognitoidentityprovider::types::AuthenticationResultType {
    outcome
        .into_tokens()
        .unwrap_or_else(|c| panic!("unexpected challenge {c:?}"))
}

#[tokio::test]
async fn srp_sign_in_returns_tokens() {
    let Some(server) = Server::start("srp_sign_in_returns_tokens") else {
        return;
    };
    let admin = server.sdk(true);
    let (pool_id, client_id, _) = pool_and_client(&admin, false, |b| b).await;
    confirmed_user(&admin, &pool_id, "alice", PASSWORD).await;

    // Unsigned calls: an SDK client without credentials.
    let sdk = server.sdk(false);
    let sign_in = SrpSignIn::new(&pool_id, &client_id).unwrap();
    let t = tokens(sign_in.sign_in(&sdk, "alice", PASSWORD).await.unwrap());
    assert!(t.access_token().is_some_and(|s| s.split('.').count() == 3));
    assert!(t.id_token().is_some());
    assert!(t.refresh_token().is_some());
    assert_eq!(t.token_type(), Some("Bearer"));
    assert!(t.expires_in() > 0);

    // The access token works for GetUser.
    let me = sdk
        .get_user()
        .access_token(t.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(me.username(), "alice");

    // Cached client work gives the same result, twice (the second from the cache).
    let user = CachedUser::new("alice", PASSWORD).unwrap();
    for _ in 0..2 {
        tokens(sign_in.sign_in_cached(&sdk, &user).await.unwrap());
    }
    // And USER_PASSWORD_AUTH through the same type.
    tokens(
        sign_in
            .sign_in_user_password(&sdk, "alice", PASSWORD)
            .await
            .unwrap(),
    );
}

#[tokio::test]
async fn wrong_password_and_unknown_user_keep_the_service_error() {
    let Some(server) = Server::start("wrong_password_and_unknown_user_keep_the_service_error")
    else {
        return;
    };
    let admin = server.sdk(true);
    let (pool_id, client_id, _) = pool_and_client(&admin, false, |b| b).await;
    confirmed_user(&admin, &pool_id, "bob", PASSWORD).await;
    let sdk = server.sdk(false);
    let sign_in = SrpSignIn::new(&pool_id, &client_id).unwrap();

    let e = sign_in
        .sign_in(&sdk, "bob", "Wr0ng-Password!")
        .await
        .unwrap_err();
    assert!(e.is_not_authorized(), "{e}");
    assert_eq!(e.message(), Some("Incorrect username or password."));
    match &e {
        Error::RespondToAuthChallenge(sdk_err) => assert!(
            matches!(
                sdk_err.as_service_error(),
                Some(RespondToAuthChallengeError::NotAuthorizedException(_))
            ),
            "{e}"
        ),
        other => panic!("{other}"),
    }

    // A new pool defaults to PreventUserExistenceErrors LEGACY unless told otherwise; accept
    // either documented answer, but it must be a service error from the SRP steps.
    let e = sign_in.sign_in(&sdk, "nobody", PASSWORD).await.unwrap_err();
    match &e {
        Error::InitiateAuth(s) => assert!(
            matches!(
                s.as_service_error(),
                Some(InitiateAuthError::UserNotFoundException(_))
            ),
            "{e}"
        ),
        Error::RespondToAuthChallenge(_) => assert!(e.is_not_authorized(), "{e}"),
        other => panic!("{other}"),
    }

    // The right password still works afterwards (one failure is below the lockout).
    tokens(sign_in.sign_in(&sdk, "bob", PASSWORD).await.unwrap());
}

#[tokio::test]
async fn secret_client_needs_secret_hash() {
    let Some(server) = Server::start("secret_client_needs_secret_hash") else {
        return;
    };
    let admin = server.sdk(true);
    let (pool_id, client_id, secret) = pool_and_client(&admin, true, |b| b).await;
    let secret = secret.expect("GenerateSecret gives a secret");
    confirmed_user(&admin, &pool_id, "carol", PASSWORD).await;
    let sdk = server.sdk(false);

    let without = SrpSignIn::new(&pool_id, &client_id).unwrap();
    let e = without.sign_in(&sdk, "carol", PASSWORD).await.unwrap_err();
    assert!(matches!(e, Error::InitiateAuth(_)), "{e}");
    assert!(e.is_not_authorized(), "{e}");
    assert_eq!(
        e.message(),
        Some(
            format!("Client {client_id} is configured for secret but secret was not received")
                .as_str()
        )
    );

    let with = without.clone().client_secret(&secret);
    tokens(with.sign_in(&sdk, "carol", PASSWORD).await.unwrap());
    tokens(
        with.sign_in_user_password(&sdk, "carol", PASSWORD)
            .await
            .unwrap(),
    );
    let wrong = without.client_secret("not-the-secret");
    let e = wrong.sign_in(&sdk, "carol", PASSWORD).await.unwrap_err();
    assert_eq!(
        e.message(),
        Some(format!("Unable to verify secret hash for client {client_id}").as_str())
    );
}

#[tokio::test]
async fn email_alias_signs_in_as_the_canonical_user() {
    let Some(server) = Server::start("email_alias_signs_in_as_the_canonical_user") else {
        return;
    };
    let admin = server.sdk(true);
    // Email as username: the canonical username (USER_ID_FOR_SRP) is a generated id, which the
    // claim must use instead of what was typed.
    let (pool_id, client_id, secret) = pool_and_client(&admin, true, |b| {
        b.username_attributes(UsernameAttributeType::Email)
    })
    .await;
    let email = "dora@example.com";
    admin
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username(email)
        .user_attributes(
            AttributeType::builder()
                .name("email")
                .value(email)
                .build()
                .unwrap(),
        )
        .user_attributes(
            AttributeType::builder()
                .name("email_verified")
                .value("true")
                .build()
                .unwrap(),
        )
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    admin
        .admin_set_user_password()
        .user_pool_id(&pool_id)
        .username(email)
        .password(PASSWORD)
        .permanent(true)
        .send()
        .await
        .unwrap();
    let sdk = server.sdk(false);
    // With a secret too: SECRET_HASH is over the typed email at InitiateAuth and over the
    // canonical name at PASSWORD_VERIFIER.
    let sign_in = SrpSignIn::new(&pool_id, &client_id)
        .unwrap()
        .client_secret(secret.unwrap());
    let t = tokens(sign_in.sign_in(&sdk, email, PASSWORD).await.unwrap());
    let me = sdk
        .get_user()
        .access_token(t.access_token().unwrap())
        .send()
        .await
        .unwrap();
    assert_ne!(
        me.username(),
        email,
        "the canonical username is not the alias"
    );
}

#[tokio::test]
async fn new_password_required_is_answered_with_respond() {
    let Some(server) = Server::start("new_password_required_is_answered_with_respond") else {
        return;
    };
    let admin = server.sdk(true);
    let (pool_id, client_id, secret) = pool_and_client(&admin, true, |b| b).await;
    admin
        .admin_create_user()
        .user_pool_id(&pool_id)
        .username("erin")
        .temporary_password("Temp-Passw0rd!")
        .message_action(MessageActionType::Suppress)
        .send()
        .await
        .unwrap();
    let sdk = server.sdk(false);
    let sign_in = SrpSignIn::new(&pool_id, &client_id)
        .unwrap()
        .client_secret(secret.unwrap());
    let challenge = match sign_in
        .sign_in(&sdk, "erin", "Temp-Passw0rd!")
        .await
        .unwrap()
    {
        SignInOutcome::Challenge(c) => c,
        SignInOutcome::Tokens(_) => panic!("expected NEW_PASSWORD_REQUIRED"),
    };
    assert_eq!(challenge.name, ChallengeNameType::NewPasswordRequired);
    assert_eq!(challenge.username, "erin");
    assert!(challenge.session.is_some());
    assert!(challenge.parameters.contains_key("requiredAttributes"));

    // USERNAME, SECRET_HASH and Session are filled in by respond().
    tokens(
        sign_in
            .respond(&sdk, &challenge, [("NEW_PASSWORD", PASSWORD)])
            .await
            .unwrap(),
    );
    tokens(sign_in.sign_in(&sdk, "erin", PASSWORD).await.unwrap());
}

#[tokio::test]
async fn remembered_device_signs_in_with_device_srp() {
    let Some(server) = Server::start("remembered_device_signs_in_with_device_srp") else {
        return;
    };
    let admin = server.sdk(true);
    let (pool_id, client_id, _) = pool_and_client(&admin, false, |b| {
        b.device_configuration(
            DeviceConfigurationType::builder()
                .challenge_required_on_new_device(true)
                .device_only_remembered_on_user_prompt(false)
                .build(),
        )
    })
    .await;
    confirmed_user(&admin, &pool_id, "frank", PASSWORD).await;
    let sdk = server.sdk(false);
    let sign_in = SrpSignIn::new(&pool_id, &client_id).unwrap();
    let first = tokens(sign_in.sign_in(&sdk, "frank", PASSWORD).await.unwrap());
    let Some(meta) = first.new_device_metadata() else {
        eprintln!("remembered_device_signs_in_with_device_srp: this server does not track devices yet; skipped");
        return;
    };
    let (key, group) = (
        meta.device_key().unwrap().to_string(),
        meta.device_group_key().unwrap().to_string(),
    );
    let mut r40 = [0u8; 40];
    let mut r16 = [0u8; 16];
    getrandom::fill(&mut r40).unwrap();
    getrandom::fill(&mut r16).unwrap();
    let secret = DeviceSecret::generate(&group, &key, &r40, &r16);
    let config = secret.verifier_config();
    sdk.confirm_device()
        .access_token(first.access_token().unwrap())
        .device_key(&key)
        .device_name("gatehouse-client test")
        .device_secret_verifier_config(
            DeviceSecretVerifierConfigType::builder()
                .password_verifier(config.password_verifier)
                .salt(config.salt)
                .build(),
        )
        .send()
        .await
        .unwrap();

    // PASSWORD_VERIFIER with DEVICE_KEY → DEVICE_SRP_AUTH → DEVICE_PASSWORD_VERIFIER → tokens.
    let with_device = sign_in
        .clone()
        .device(&key, &group, secret.device_password());
    let t = tokens(with_device.sign_in(&sdk, "frank", PASSWORD).await.unwrap());
    assert!(
        t.new_device_metadata().is_none(),
        "a known device gets no new metadata"
    );

    // A wrong device password fails the device step.
    let wrong = sign_in.device(&key, &group, "not-the-device-password");
    let e = wrong.sign_in(&sdk, "frank", PASSWORD).await.unwrap_err();
    assert!(e.is_not_authorized(), "{e}");
}
