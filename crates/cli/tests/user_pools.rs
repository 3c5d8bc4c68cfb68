//! User pools through the official Rust SDK against the real server: every member set is stored
//! and returned, Cognito's defaults and refusals, pagination, custom attributes, tags, restart.

mod common;

use aws_sdk_cognitoidentityprovider::types::*;
use aws_sdk_cognitoidentityprovider::Client;
use common::{create_pool, err_of, TestServer};

fn schema_attr(name: &str, ty: AttributeDataType) -> SchemaAttributeType {
    SchemaAttributeType::builder()
        .name(name)
        .attribute_data_type(ty)
        .mutable(true)
        .build()
}

/// A pool created with a value for most members CreateUserPool takes: (as CreateUserPool
/// answered, as DescribeUserPool then describes it).
async fn pool_with_everything(c: &Client) -> (UserPoolType, UserPoolType) {
    let created = c
        .create_user_pool()
        .pool_name("everything")
        .device_configuration(
            DeviceConfigurationType::builder()
                .challenge_required_on_new_device(true)
                .device_only_remembered_on_user_prompt(true)
                .build(),
        )
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_configuration(
            SmsConfigurationType::builder()
                .sns_caller_arn("arn:aws:iam::000000000000:role/sms")
                .build(),
        )
        .policies(
            UserPoolPolicyType::builder()
                .password_policy(
                    PasswordPolicyType::builder()
                        .minimum_length(12)
                        .require_numbers(true)
                        .temporary_password_validity_days(3)
                        .build(),
                )
                .build(),
        )
        .schema(schema_attr("team", AttributeDataType::String))
        .schema(
            SchemaAttributeType::builder()
                .name("email")
                .attribute_data_type(AttributeDataType::String)
                .required(true)
                .mutable(true)
                .build(),
        )
        .alias_attributes(AliasAttributeType::Email)
        .alias_attributes(AliasAttributeType::PreferredUsername)
        .username_configuration(
            UsernameConfigurationType::builder()
                .case_sensitive(false)
                .build()
                .unwrap(),
        )
        .auto_verified_attributes(VerifiedAttributeType::Email)
        .admin_create_user_config(
            AdminCreateUserConfigType::builder()
                .allow_admin_create_user_only(true)
                .build(),
        )
        .verification_message_template(
            VerificationMessageTemplateType::builder()
                .email_message("Your code is {####}")
                .email_subject("Welcome")
                .build(),
        )
        .account_recovery_setting(
            AccountRecoverySettingType::builder()
                .recovery_mechanisms(
                    RecoveryOptionType::builder()
                        .name(RecoveryOptionNameType::VerifiedEmail)
                        .priority(1)
                        .build()
                        .unwrap(),
                )
                .build(),
        )
        .user_pool_tags("env", "test")
        .deletion_protection(DeletionProtectionType::Inactive)
        .send()
        .await
        .unwrap();
    let pool = created.user_pool.unwrap();
    let described = c
        .describe_user_pool()
        .user_pool_id(pool.id.as_deref().unwrap())
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    (pool, described)
}

#[tokio::test]
async fn a_pool_id_and_arn_have_cognitos_form_and_a_new_pool_is_empty() {
    let srv = TestServer::start();
    let (pool, d) = pool_with_everything(&srv.client()).await;
    let id = pool.id.clone().unwrap();
    let (region, name) = id.split_once('_').unwrap();
    assert_eq!(region, "us-east-1");
    assert_eq!(name.len(), 9);
    assert!(name.chars().all(|c| c.is_ascii_alphanumeric()));
    assert_eq!(
        pool.arn.as_deref(),
        Some(format!("arn:aws:cognito-idp:us-east-1:000000000000:userpool/{id}").as_str())
    );
    assert_eq!(d.id, pool.id);
    assert_eq!(d.arn, pool.arn);
    assert_eq!(d.estimated_number_of_users, 0);
    assert!(d.creation_date.is_some() && d.last_modified_date.is_some());
}

#[tokio::test]
async fn a_created_pool_describes_its_settings_as_given_with_cognitos_completions() {
    let srv = TestServer::start();
    let (_, d) = pool_with_everything(&srv.client()).await;
    assert_eq!(d.name.as_deref(), Some("everything"));
    let dc = d.device_configuration.unwrap();
    assert_eq!(dc.challenge_required_on_new_device, true);
    assert_eq!(dc.device_only_remembered_on_user_prompt, true);
    assert_eq!(d.mfa_configuration, Some(UserPoolMfaType::Optional));
    let pp = d.policies.unwrap().password_policy.unwrap();
    assert_eq!(pp.minimum_length, Some(12));
    assert_eq!(pp.require_numbers, true);
    assert_eq!(
        pp.require_symbols, false,
        "omitted requirements of a given policy are off"
    );
    assert_eq!(pp.temporary_password_validity_days, 3);
    assert_eq!(
        d.auto_verified_attributes.unwrap(),
        vec![VerifiedAttributeType::Email]
    );
    assert_eq!(
        d.admin_create_user_config
            .unwrap()
            .allow_admin_create_user_only,
        true
    );
    // The template and the legacy members describe the same message.
    let vt = d.verification_message_template.unwrap();
    assert_eq!(vt.email_message.as_deref(), Some("Your code is {####}"));
    assert_eq!(
        vt.default_email_option,
        Some(DefaultEmailOptionType::ConfirmWithCode)
    );
    assert_eq!(
        d.email_verification_message.as_deref(),
        Some("Your code is {####}")
    );
    assert_eq!(
        d.account_recovery_setting
            .unwrap()
            .recovery_mechanisms
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        d.user_pool_tags.unwrap().get("env").map(String::as_str),
        Some("test")
    );
}

#[tokio::test]
async fn the_schema_holds_the_standard_attributes_and_the_custom_ones() {
    let srv = TestServer::start();
    let (_, d) = pool_with_everything(&srv.client()).await;
    let schema = d.schema_attributes.unwrap();
    let names: Vec<&str> = schema.iter().filter_map(|a| a.name.as_deref()).collect();
    for std_attr in [
        "sub",
        "email",
        "email_verified",
        "phone_number",
        "name",
        "updated_at",
    ] {
        assert!(
            names.contains(&std_attr),
            "{std_attr} missing from {names:?}"
        );
    }
    assert!(names.contains(&"custom:team"));
    let email = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("email"))
        .unwrap();
    assert_eq!(email.required, Some(true));
    let sub = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("sub"))
        .unwrap();
    assert_eq!((sub.mutable, sub.required), (Some(false), Some(true)));
}

#[tokio::test]
async fn alias_attributes_and_case_insensitive_usernames_are_described() {
    let srv = TestServer::start();
    let (_, d) = pool_with_everything(&srv.client()).await;
    assert_eq!(
        d.alias_attributes.unwrap(),
        vec![
            AliasAttributeType::Email,
            AliasAttributeType::PreferredUsername
        ]
    );
    assert!(!d.username_configuration.unwrap().case_sensitive);
}

#[tokio::test]
async fn defaults_when_members_are_omitted() {
    let srv = TestServer::start();
    let c = srv.client();
    let p = c
        .create_user_pool()
        .pool_name("plain")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert!(
        p.device_configuration.is_none(),
        "no DeviceConfiguration = device tracking off"
    );
    assert_eq!(p.mfa_configuration, Some(UserPoolMfaType::Off));
    assert_eq!(
        p.deletion_protection,
        Some(DeletionProtectionType::Inactive)
    );
    let pp = p.policies.unwrap().password_policy.unwrap();
    assert_eq!(
        (
            pp.minimum_length,
            pp.require_uppercase,
            pp.require_lowercase,
            pp.require_numbers,
            pp.require_symbols,
            pp.temporary_password_validity_days
        ),
        (Some(8), true, true, true, true, 7)
    );
    let acu = p.admin_create_user_config.unwrap();
    assert_eq!(
        (
            acu.allow_admin_create_user_only,
            acu.unused_account_validity_days
        ),
        (false, 7)
    );
}

#[tokio::test]
async fn update_resets_omitted_members_and_keeps_immutable_ones() {
    let srv = TestServer::start();
    let c = srv.client();
    let id = c
        .create_user_pool()
        .pool_name("upd")
        .username_attributes(UsernameAttributeType::Email)
        .device_configuration(
            DeviceConfigurationType::builder()
                .device_only_remembered_on_user_prompt(false)
                .build(),
        )
        .mfa_configuration(UserPoolMfaType::Optional)
        .sms_configuration(
            SmsConfigurationType::builder()
                .sns_caller_arn("arn:aws:iam::000000000000:role/sms")
                .build(),
        )
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap()
        .id
        .unwrap();
    // Only the deletion protection is given: everything else returns to its default.
    c.update_user_pool()
        .user_pool_id(&id)
        .deletion_protection(DeletionProtectionType::Active)
        .send()
        .await
        .unwrap();
    let d = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert!(
        d.device_configuration.is_none(),
        "omitted DeviceConfiguration turns tracking off, as Cognito does"
    );
    assert_eq!(d.mfa_configuration, Some(UserPoolMfaType::Off));
    assert_eq!(d.deletion_protection, Some(DeletionProtectionType::Active));
    assert_eq!(
        d.username_attributes.unwrap(),
        vec![UsernameAttributeType::Email],
        "UsernameAttributes is immutable"
    );
    assert_eq!(d.name.as_deref(), Some("upd"));
    assert!(d.last_modified_date.unwrap().secs() >= d.creation_date.unwrap().secs());

    // Deletion protection blocks DeleteUserPool.
    let (code, msg) = err_of(c.delete_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(msg.contains("deletion protection"), "{msg}");
    c.update_user_pool()
        .user_pool_id(&id)
        .pool_name("renamed")
        .send()
        .await
        .unwrap();
    let d = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(d.name.as_deref(), Some("renamed"));
    c.delete_user_pool().user_pool_id(&id).send().await.unwrap();
    let (code, msg) = err_of(c.describe_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    assert_eq!(msg, format!("User pool {id} does not exist."));
    let (code, _) = err_of(c.update_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = err_of(c.delete_user_pool().user_pool_id(&id).send().await);
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn refused_combinations_and_validation() {
    let srv = TestServer::start();
    let c = srv.client();
    let (code, msg) = err_of(
        c.create_user_pool()
            .pool_name("both")
            .username_attributes(UsernameAttributeType::Email)
            .alias_attributes(AliasAttributeType::PreferredUsername)
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("aliasAttributes") && msg.contains("usernameAttributes"),
        "{msg}"
    );

    let (code, msg) = err_of(c.create_user_pool().pool_name("bad/name").send().await);
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(
        msg,
        "1 validation error detected: Value 'bad/name' at 'poolName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\w\\s+=,.@-]+"
    );
    let (code, msg) = err_of(c.list_user_pools().max_results(61).send().await);
    assert_eq!(code, "InvalidParameterException");
    assert!(
        msg.contains("Member must have value less than or equal to 60"),
        "{msg}"
    );
    let (code, msg) = err_of(
        c.create_user_pool()
            .pool_name("mfa")
            .mfa_configuration(UserPoolMfaType::On)
            .send()
            .await,
    );
    assert_eq!(
        code, "InvalidParameterException",
        "CreateUserPool turns MFA on only with an SmsConfiguration"
    );
    assert!(msg.contains("SMS configuration"), "{msg}");
    let (code, _) = err_of(
        c.create_user_pool()
            .pool_name("req-custom")
            .schema(
                SchemaAttributeType::builder()
                    .name("x")
                    .required(true)
                    .build(),
            )
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    let (code, _) = err_of(
        c.describe_user_pool()
            .user_pool_id("us-east-1_doesnotexist")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn list_user_pools_pages_through_every_pool_once() {
    let srv = TestServer::start();
    let c = srv.client();
    let mut created = Vec::new();
    for i in 0..7 {
        created.push(
            c.create_user_pool()
                .pool_name(format!("p{i}"))
                .send()
                .await
                .unwrap()
                .user_pool
                .unwrap()
                .id
                .unwrap(),
        );
    }
    let mut seen = Vec::new();
    let mut token = None;
    loop {
        let page = c
            .list_user_pools()
            .max_results(3)
            .set_next_token(token)
            .send()
            .await
            .unwrap();
        let pools = page.user_pools.unwrap();
        assert!(pools.len() <= 3);
        seen.extend(pools.into_iter().map(|p| p.id.unwrap()));
        token = page.next_token;
        if token.is_none() {
            break;
        }
    }
    seen.sort();
    created.sort();
    assert_eq!(seen, created);
    let (code, _) = err_of(
        c.list_user_pools()
            .max_results(3)
            .next_token("not-a-token!")
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
}

#[tokio::test]
async fn add_custom_attributes_appends_with_prefix_and_refuses_duplicates() {
    let srv = TestServer::start();
    let c = srv.client();
    let id = create_pool(&c, "ca").await;
    c.add_custom_attributes()
        .user_pool_id(&id)
        .custom_attributes(schema_attr("tier", AttributeDataType::String))
        .custom_attributes(schema_attr("level", AttributeDataType::Number))
        .send()
        .await
        .unwrap();
    let d = c
        .describe_user_pool()
        .user_pool_id(&id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    let schema = d.schema_attributes.unwrap();
    let level = schema
        .iter()
        .find(|a| a.name.as_deref() == Some("custom:level"))
        .unwrap();
    assert_eq!(level.attribute_data_type, Some(AttributeDataType::Number));
    assert!(schema
        .iter()
        .any(|a| a.name.as_deref() == Some("custom:tier")));
    let (code, msg) = err_of(
        c.add_custom_attributes()
            .user_pool_id(&id)
            .custom_attributes(schema_attr("tier", AttributeDataType::String))
            .send()
            .await,
    );
    assert_eq!(code, "InvalidParameterException");
    assert_eq!(msg, "Existing attribute already has name custom:tier.");
    let (code, _) = err_of(
        c.add_custom_attributes()
            .user_pool_id("us-east-1_missing1")
            .custom_attributes(schema_attr("x", AttributeDataType::String))
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn tags_round_trip_on_the_pool_arn() {
    let srv = TestServer::start();
    let c = srv.client();
    let pool = c
        .create_user_pool()
        .pool_name("tags")
        .user_pool_tags("a", "1")
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    let arn = pool.arn.unwrap();
    c.tag_resource()
        .resource_arn(&arn)
        .tags("b", "2")
        .tags("c", "3")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(tags.len(), 3);
    c.untag_resource()
        .resource_arn(&arn)
        .tag_keys("a")
        .tag_keys("c")
        .send()
        .await
        .unwrap();
    let tags = c
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
        .unwrap()
        .tags
        .unwrap();
    assert_eq!(
        tags.into_iter().collect::<Vec<_>>(),
        vec![("b".to_string(), "2".to_string())]
    );
    let d = c
        .describe_user_pool()
        .user_pool_id(pool.id.unwrap())
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(d.user_pool_tags.unwrap().len(), 1);
    let (code, _) = err_of(
        c.list_tags_for_resource()
            .resource_arn("arn:aws:cognito-idp:us-east-1:000000000000:userpool/us-east-1_nope12345")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
    let (code, _) = err_of(
        c.tag_resource()
            .resource_arn("arn:aws:s3:us-east-1:123456789012:bucket/x")
            .tags("x", "y")
            .send()
            .await,
    );
    assert_eq!(code, "ResourceNotFoundException");
}

#[tokio::test]
async fn pools_and_clients_survive_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let (pool_id, client_id, secret) = {
        let srv = TestServer::start_in(tmp.path());
        let c = srv.client();
        let id = c
            .create_user_pool()
            .pool_name("durable")
            .device_configuration(
                DeviceConfigurationType::builder()
                    .challenge_required_on_new_device(true)
                    .build(),
            )
            .send()
            .await
            .unwrap()
            .user_pool
            .unwrap()
            .id
            .unwrap();
        let client = c
            .create_user_pool_client()
            .user_pool_id(&id)
            .client_name("app")
            .generate_secret(true)
            .send()
            .await
            .unwrap();
        let client = client.user_pool_client.unwrap();
        (id, client.client_id.unwrap(), client.client_secret.unwrap())
    };
    let srv = TestServer::start_in(tmp.path());
    let c = srv.client();
    let d = c
        .describe_user_pool()
        .user_pool_id(&pool_id)
        .send()
        .await
        .unwrap()
        .user_pool
        .unwrap();
    assert_eq!(d.name.as_deref(), Some("durable"));
    assert_eq!(
        d.device_configuration
            .unwrap()
            .challenge_required_on_new_device,
        true
    );
    let cl = c
        .describe_user_pool_client()
        .user_pool_id(&pool_id)
        .client_id(&client_id)
        .send()
        .await
        .unwrap();
    assert_eq!(
        cl.user_pool_client.unwrap().client_secret.as_deref(),
        Some(secret.as_str())
    );
}
