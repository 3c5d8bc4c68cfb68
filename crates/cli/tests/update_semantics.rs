//! UpdateUserPool and UpdateUserPoolClient reset every member they omit (Cognito's documented
//! semantics). Each member of both Update requests in the model — the generated
//! `UserPoolSettings::MEMBERS` and `UserPoolClientSettings::MEMBERS`, so a member the model adds
//! fails here until it has a sample — is walked through Create → Describe, through an Update that
//! omits it (reset to what a bare Create describes), and through an Update that gives it alone.

mod common;

use std::collections::BTreeMap;

use common::TestServer;
use gatehouse_wire::{UserPoolClientSettings, UserPoolSettings};
use serde_json::{json, Value};

/// How one record type is walked.
struct Walk {
    members: &'static [&'static str],
    /// Member → a value Cognito accepts that differs from the default.
    samples: BTreeMap<&'static str, Value>,
    /// Members an Update keeps when it omits them (the record's name, its tags).
    kept: &'static [&'static str],
    /// Groups of members that describe one setting, so giving one changes the others.
    coupled: &'static [&'static [&'static str]],
    /// Members that are only accepted with others: member → a companion (one pair per companion).
    companions: &'static [(&'static str, &'static str)],
    /// The name of a member in the described record, where it differs.
    described_as: &'static [(&'static str, &'static str)],
}

impl Walk {
    fn described<'a>(&self, member: &'a str) -> &'a str {
        self.described_as
            .iter()
            .find(|(m, _)| *m == member)
            .map_or(member, |(_, d)| d)
    }

    fn coupled_with(&self, a: &str, b: &str) -> bool {
        self.coupled
            .iter()
            .any(|group| group.contains(&a) && group.contains(&b))
    }

    fn companions<'a>(&'a self, member: &'a str) -> impl Iterator<Item = &'static str> + 'a {
        self.companions
            .iter()
            .filter(move |(m, _)| *m == member)
            .map(|(_, c)| *c)
    }
}

/// `part` is `whole` or, for objects, a subset of it (recursively).
fn within(part: &Value, whole: &Value) -> bool {
    match (part, whole) {
        (Value::Object(p), Value::Object(w)) => p
            .iter()
            .all(|(k, v)| w.get(k).is_some_and(|wv| within(v, wv))),
        _ => part == whole,
    }
}

fn call(srv: &TestServer, op: &str, body: &Value) -> Value {
    let (status, _, answer) = srv.call_raw(Some(op), body.to_string().as_bytes());
    assert_eq!(status, 200, "{op} {body}: {answer}");
    answer
}

fn field<'a>(record: &'a Value, name: &str) -> &'a Value {
    record.get(name).unwrap_or(&Value::Null)
}

/// Walks `w`: `create(extra)` makes a record with the members in `extra` and returns its
/// identity members, `update(ids, extra)` updates it, `describe(ids)` returns the record.
fn walk(
    w: &Walk,
    create: impl Fn(&serde_json::Map<String, Value>) -> Value,
    update: impl Fn(&Value, &serde_json::Map<String, Value>),
    describe: impl Fn(&Value) -> Value,
) {
    let listed: Vec<&str> = w.samples.keys().copied().collect();
    let mut model: Vec<&str> = w.members.to_vec();
    model.sort_unstable();
    assert_eq!(
        listed, model,
        "every member of the Update request in the model needs a sample here"
    );
    let only = |members: &[&str]| -> serde_json::Map<String, Value> {
        members
            .iter()
            .map(|m| (m.to_string(), w.samples[m].clone()))
            .collect()
    };

    let baseline = describe(&create(&serde_json::Map::new()));
    // Create with every member: each is stored as given and differs from the default.
    let ids = create(&only(w.members));
    let full = describe(&ids);
    for m in w.members {
        let d = w.described(m);
        assert!(
            within(&w.samples[m], field(&full, d)),
            "Create: {m} given {} described {}",
            w.samples[m],
            field(&full, d)
        );
        assert_ne!(
            field(&full, d),
            field(&baseline, d),
            "the sample of {m} is its default: it proves nothing"
        );
    }

    // An Update that names only the record resets every member but the kept ones.
    update(&ids, &serde_json::Map::new());
    let reset = describe(&ids);
    for m in w.members {
        let d = w.described(m);
        let expected = if w.kept.contains(m) { &full } else { &baseline };
        assert_eq!(
            field(&reset, d),
            field(expected, d),
            "an Update omitting {m} must {}",
            if w.kept.contains(m) {
                "keep it"
            } else {
                "reset it"
            }
        );
    }

    // Each member alone (with its companion where it needs one): it is set, the rest reset.
    for m in w.members {
        let mut given = vec![*m];
        given.extend(w.companions(m));
        update(&ids, &only(&given));
        let after = describe(&ids);
        for g in &given {
            let d = w.described(g);
            assert!(
                within(&w.samples[g], field(&after, d)),
                "Update with {m}: {g} given {} described {}",
                w.samples[g],
                field(&after, d)
            );
        }
        for other in w.members {
            if given.contains(other) || given.iter().any(|g| w.coupled_with(g, other)) {
                continue;
            }
            let d = w.described(other);
            // Kept members hold what the first of these updates found: the full record's.
            let expected = if w.kept.contains(other) {
                &full
            } else {
                &baseline
            };
            assert_eq!(
                field(&after, d),
                field(expected, d),
                "an Update with only {m} must reset {other}"
            );
        }
    }
}

#[test]
fn update_user_pool_resets_every_member_it_omits() {
    let srv = TestServer::start();
    let samples = BTreeMap::from([
        (
            "AccountRecoverySetting",
            json!({"RecoveryMechanisms": [{"Name": "admin_only", "Priority": 1}]}),
        ),
        (
            "AcrConfiguration",
            json!({"Level1": {"AcrValue": "urn:example:acr:level1"}}),
        ),
        (
            "AdminCreateUserConfig",
            json!({"AllowAdminCreateUserOnly": true, "UnusedAccountValidityDays": 3}),
        ),
        ("AutoVerifiedAttributes", json!(["email"])),
        (
            "DcrConfiguration",
            json!({"EnableStatus": "Enabled", "AllowedScopes": ["openid"]}),
        ),
        ("DeletionProtection", json!("ACTIVE")),
        (
            "DeviceConfiguration",
            json!({"ChallengeRequiredOnNewDevice": true, "DeviceOnlyRememberedOnUserPrompt": true}),
        ),
        (
            "EmailConfiguration",
            json!({"ReplyToEmailAddress": "reply@example.com"}),
        ),
        ("EmailVerificationMessage", json!("Your code is {####}")),
        ("EmailVerificationSubject", json!("Your code")),
        ("IssuerConfiguration", json!({"Type": "UPDATED"})),
        ("KeyConfiguration", json!({"KeyType": "AWS_OWNED_KEY"})),
        (
            "LambdaConfig",
            json!({"PreSignUp": "arn:aws:lambda:us-east-1:000000000000:function:pre"}),
        ),
        ("MfaConfiguration", json!("OPTIONAL")),
        ("Policies", json!({"PasswordPolicy": {"MinimumLength": 12}})),
        ("PoolName", json!("renamed")),
        ("SmsAuthenticationMessage", json!("Sign in with {####}")),
        (
            "SmsConfiguration",
            json!({"SnsCallerArn": "arn:aws:iam::000000000000:role/sms"}),
        ),
        ("SmsVerificationMessage", json!("Verify with {####}")),
        (
            "UserAttributeUpdateSettings",
            json!({"AttributesRequireVerificationBeforeUpdate": ["email"]}),
        ),
        ("UserPoolAddOns", json!({"AdvancedSecurityMode": "AUDIT"})),
        ("UserPoolTags", json!({"team": "identity"})),
        ("UserPoolTier", json!("PLUS")),
        (
            "VerificationMessageTemplate",
            json!({"DefaultEmailOption": "CONFIRM_WITH_LINK", "EmailMessageByLink": "Click {##Verify##}", "EmailSubjectByLink": "Verify"}),
        ),
    ]);
    let w = Walk {
        members: &UserPoolSettings::MEMBERS,
        samples,
        kept: &["PoolName", "UserPoolTags"],
        coupled: &[&[
            "EmailVerificationMessage",
            "EmailVerificationSubject",
            "SmsVerificationMessage",
            "VerificationMessageTemplate",
        ]],
        companions: &[("MfaConfiguration", "SmsConfiguration")],
        described_as: &[("PoolName", "Name")],
    };
    walk(
        &w,
        |extra| {
            let mut body = extra.clone();
            body.entry("PoolName").or_insert(json!("walked"));
            let created = call(&srv, "CreateUserPool", &Value::Object(body));
            json!({"UserPoolId": created["UserPool"]["Id"]})
        },
        |ids, extra| {
            let mut body = extra.clone();
            body.extend(ids.as_object().unwrap().clone());
            call(&srv, "UpdateUserPool", &Value::Object(body));
        },
        |ids| call(&srv, "DescribeUserPool", ids)["UserPool"].clone(),
    );
}

#[test]
fn update_user_pool_client_resets_every_member_it_omits() {
    let srv = TestServer::start();
    let pool = call(&srv, "CreateUserPool", &json!({"PoolName": "clients"}));
    let pool_id = pool["UserPool"]["Id"].clone();
    let samples = BTreeMap::from([
        ("AccessTokenValidity", json!(2)),
        ("AllowedOAuthFlows", json!(["code"])),
        ("AllowedOAuthFlowsUserPoolClient", json!(true)),
        ("AllowedOAuthScopes", json!(["openid", "email"])),
        (
            "AnalyticsConfiguration",
            json!({"ApplicationArn": "arn:aws:mobiletargeting:us-east-1:000000000000:apps/abc"}),
        ),
        ("AuthSessionValidity", json!(10)),
        ("CallbackURLs", json!(["https://example.com/cb"])),
        ("ClientName", json!("renamed")),
        ("DefaultRedirectURI", json!("https://example.com/cb")),
        ("EnablePropagateAdditionalUserContextData", json!(true)),
        ("EnableTokenRevocation", json!(false)),
        (
            "ExplicitAuthFlows",
            json!(["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]),
        ),
        ("IdTokenValidity", json!(3)),
        ("LogoutURLs", json!(["https://example.com/out"])),
        ("PreventUserExistenceErrors", json!("ENABLED")),
        ("ReadAttributes", json!(["email"])),
        (
            "RefreshTokenRotation",
            json!({"Feature": "ENABLED", "RetryGracePeriodSeconds": 10}),
        ),
        ("RefreshTokenValidity", json!(10)),
        ("SupportedIdentityProviders", json!(["COGNITO"])),
        (
            "TokenValidityUnits",
            json!({"AccessToken": "hours", "IdToken": "hours", "RefreshToken": "days"}),
        ),
        ("WriteAttributes", json!(["email"])),
    ]);
    let w = Walk {
        members: &UserPoolClientSettings::MEMBERS,
        samples,
        kept: &["ClientName"],
        coupled: &[&[
            "AccessTokenValidity",
            "IdTokenValidity",
            "RefreshTokenValidity",
            "TokenValidityUnits",
        ]],
        // OAuth on needs flows and scopes, and the code flow a callback URL (Cognito refuses
        // it alone); DefaultRedirectURI must be a callback URL.
        companions: &[
            ("DefaultRedirectURI", "CallbackURLs"),
            ("AllowedOAuthFlowsUserPoolClient", "AllowedOAuthFlows"),
            ("AllowedOAuthFlowsUserPoolClient", "AllowedOAuthScopes"),
            ("AllowedOAuthFlowsUserPoolClient", "CallbackURLs"),
        ],
        described_as: &[],
    };
    walk(
        &w,
        |extra| {
            let mut body = extra.clone();
            body.insert("UserPoolId".into(), pool_id.clone());
            body.entry("ClientName").or_insert(json!("walked"));
            let created = call(&srv, "CreateUserPoolClient", &Value::Object(body));
            json!({"UserPoolId": pool_id, "ClientId": created["UserPoolClient"]["ClientId"]})
        },
        |ids, extra| {
            let mut body = extra.clone();
            body.extend(ids.as_object().unwrap().clone());
            call(&srv, "UpdateUserPoolClient", &Value::Object(body));
        },
        |ids| call(&srv, "DescribeUserPoolClient", ids)["UserPoolClient"].clone(),
    );
}
