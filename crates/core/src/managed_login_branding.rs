//! Managed login styles: CreateManagedLoginBranding, DescribeManagedLoginBranding,
//! DescribeManagedLoginBrandingByClient, UpdateManagedLoginBranding, DeleteManagedLoginBranding.
//! One style per app client (the store's key), given as Settings or as Cognito's own values;
//! Update merges (objects deeply, an asset by category and colour mode); ReturnMergedResources
//! fills in the defaults. On a pool whose domain is managed login (version 2), the hosted pages
//! take the style's light-mode primary button colour and form logo
//! (crates/server/src/hosted/look.rs). Cognito's behaviour:
//! docs/design/remaining-operations-cognito-behaviour.md §2.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_wire::*;
use serde_json::{json, Value};

use crate::ui_customization::image_type;
use crate::{ids, Core, CoreError, Result, StoreError};

/// The settings Gatehouse's pages start from (what `UseCognitoProvidedValues` means here).
fn default_settings() -> Value {
    json!({
        "categories": {
            "global": { "colorSchemeMode": "LIGHT", "spacingDensity": "REGULAR" },
            "form": { "location": { "horizontal": "CENTER", "vertical": "CENTER" } },
            "auth": { "authMethodOrder": [[ { "display": "INPUT", "type": "USERNAME_PASSWORD" } ]] }
        },
        "components": {
            "primaryButton": {
                "lightMode": { "defaults": { "backgroundColor": "0972d3ff", "textColor": "ffffffff" } }
            }
        }
    })
}

/// `over` laid on `base`: objects merge key by key, anything else replaces.
fn merged(base: &Value, over: &Value) -> Value {
    match (base, over) {
        (Value::Object(b), Value::Object(o)) => {
            let mut out = b.clone();
            for (k, v) in o {
                let next = match out.get(k) {
                    Some(existing) => merged(existing, v),
                    None => v.clone(),
                };
                out.insert(k.clone(), next);
            }
            Value::Object(out)
        }
        (_, over) => over.clone(),
    }
}

/// Exactly one source: Settings, or Cognito's values.
fn check_source(settings: &Option<Value>, cognito_values: Option<bool>) -> Result<()> {
    let cognito_values = cognito_values == Some(true);
    if settings.is_some() == cognito_values {
        return Err(CoreError::InvalidParameter(
            "Provide either Settings or UseCognitoProvidedValues (but not both).".into(),
        ));
    }
    if settings.as_ref().is_some_and(|s| !s.is_object()) {
        return Err(CoreError::InvalidParameter(
            "Settings must be a JSON object.".into(),
        ));
    }
    Ok(())
}

/// Each asset's bytes are of its declared file type.
fn check_assets(assets: &[AssetType]) -> Result<()> {
    for a in assets {
        let Some(b64) = &a.bytes else { continue };
        let bytes = STANDARD
            .decode(b64)
            .map_err(|_| CoreError::InvalidParameter("Asset bytes are not base64.".into()))?;
        let fits = match a.extension {
            AssetExtensionType::Png => image_type(&bytes) == Some("image/png"),
            AssetExtensionType::Jpeg => image_type(&bytes) == Some("image/jpeg"),
            AssetExtensionType::Webp => {
                bytes.len() > 12 && &bytes[0..4] == b"RIFF" && &bytes[8..12] == b"WEBP"
            }
            AssetExtensionType::Ico => bytes.starts_with(&[0, 0, 1, 0]),
            AssetExtensionType::Svg => std::str::from_utf8(&bytes)
                .is_ok_and(|t| t.contains("<svg") && !t.to_ascii_lowercase().contains("<script")),
            AssetExtensionType::Unrecognized(_) => false,
        };
        if !fits {
            return Err(CoreError::InvalidParameter(format!(
                "The {} asset's bytes are not a {} file.",
                a.category, a.extension
            )));
        }
    }
    Ok(())
}

fn not_found(id: &str) -> CoreError {
    CoreError::ResourceNotFound(format!("Managed login branding {id} does not exist."))
}

/// The style as Describe shows it: with Cognito's values merged in when asked (or when it is
/// made of them).
fn described(mut b: ManagedLoginBrandingType, merged_resources: bool) -> ManagedLoginBrandingType {
    if merged_resources || b.use_cognito_provided_values == Some(true) {
        let base = default_settings();
        b.settings = Some(match &b.settings {
            Some(s) => merged(&base, s),
            None => base,
        });
    }
    b
}

impl Core {
    pub async fn create_managed_login_branding(
        &self,
        req: CreateManagedLoginBrandingRequest,
    ) -> Result<CreateManagedLoginBrandingResponse> {
        check_source(&req.settings, req.use_cognito_provided_values)?;
        self.app_client(&req.user_pool_id, &req.client_id).await?;
        let assets = req.assets.unwrap_or_default();
        check_assets(&assets)?;
        let now = self.now_epoch();
        let branding = ManagedLoginBrandingType {
            managed_login_branding_id: Some(ids::uuid(self.entropy.as_ref())),
            user_pool_id: Some(req.user_pool_id.clone()),
            use_cognito_provided_values: Some(req.use_cognito_provided_values == Some(true)),
            settings: req.settings,
            assets: Some(assets),
            creation_date: Some(now),
            last_modified_date: Some(now),
        };
        match self
            .brandings()
            .insert_branding(&req.client_id, &branding)
            .await
        {
            Err(StoreError::Conflict) => {
                return Err(CoreError::ManagedLoginBrandingExists(format!(
                    "App client {} already has a managed login branding.",
                    req.client_id
                )))
            }
            other => other?,
        }
        Ok(CreateManagedLoginBrandingResponse {
            managed_login_branding: Some(branding),
        })
    }

    pub async fn describe_managed_login_branding(
        &self,
        req: DescribeManagedLoginBrandingRequest,
    ) -> Result<DescribeManagedLoginBrandingResponse> {
        self.pool(&req.user_pool_id).await?;
        let b = self
            .brandings()
            .branding(&req.user_pool_id, &req.managed_login_branding_id)
            .await?
            .ok_or_else(|| not_found(&req.managed_login_branding_id))?;
        Ok(DescribeManagedLoginBrandingResponse {
            managed_login_branding: Some(described(b, req.return_merged_resources == Some(true))),
        })
    }

    pub async fn describe_managed_login_branding_by_client(
        &self,
        req: DescribeManagedLoginBrandingByClientRequest,
    ) -> Result<DescribeManagedLoginBrandingByClientResponse> {
        self.app_client(&req.user_pool_id, &req.client_id).await?;
        let b = self
            .brandings()
            .client_branding(&req.user_pool_id, &req.client_id)
            .await?
            .ok_or_else(|| {
                CoreError::ResourceNotFound(format!(
                    "App client {} has no managed login branding.",
                    req.client_id
                ))
            })?;
        Ok(DescribeManagedLoginBrandingByClientResponse {
            managed_login_branding: Some(described(b, req.return_merged_resources == Some(true))),
        })
    }

    /// Members left out keep their value: Settings merge into the stored ones, an asset
    /// replaces the one of its category and colour mode; `UseCognitoProvidedValues` true
    /// goes back to Cognito's values.
    pub async fn update_managed_login_branding(
        &self,
        req: UpdateManagedLoginBrandingRequest,
    ) -> Result<UpdateManagedLoginBrandingResponse> {
        let required = |v: &Option<String>, name: &str| {
            v.clone().ok_or_else(|| {
                CoreError::InvalidParameter(format!(
                    "1 validation error detected: Value null at '{name}' failed to satisfy constraint: Member must not be null"
                ))
            })
        };
        let pool_id = required(&req.user_pool_id, "userPoolId")?;
        let id = required(&req.managed_login_branding_id, "managedLoginBrandingId")?;
        if req.settings.is_some() && req.use_cognito_provided_values == Some(true) {
            check_source(&req.settings, req.use_cognito_provided_values)?;
        }
        if req.settings.as_ref().is_some_and(|s| !s.is_object()) {
            return Err(CoreError::InvalidParameter(
                "Settings must be a JSON object.".into(),
            ));
        }
        self.pool(&pool_id).await?;
        if let Some(new_assets) = &req.assets {
            check_assets(new_assets)?;
        }
        // A compare-and-swap, retried: simultaneous updates all merge in.
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), 8);
        while rounds.next().await {
            let previous = self
                .brandings()
                .branding(&pool_id, &id)
                .await?
                .ok_or_else(|| not_found(&id))?;
            let mut b = previous.clone();
            if req.use_cognito_provided_values == Some(true) {
                b.use_cognito_provided_values = Some(true);
                b.settings = None;
                b.assets = Some(Vec::new());
            }
            if let Some(s) = &req.settings {
                b.settings = Some(match &b.settings {
                    Some(old) => merged(old, s),
                    None => s.clone(),
                });
                b.use_cognito_provided_values = Some(false);
            }
            if let Some(new_assets) = &req.assets {
                let assets = b.assets.get_or_insert_with(Vec::new);
                for a in new_assets {
                    assets.retain(|x| !(x.category == a.category && x.color_mode == a.color_mode));
                    assets.push(a.clone());
                }
                if assets.len() > 40 {
                    return Err(CoreError::InvalidParameter(
                        "A managed login branding holds at most 40 assets.".into(),
                    ));
                }
            }
            b.last_modified_date = Some(self.now_epoch());
            if self.brandings().update_branding(&previous, &b).await? {
                return Ok(UpdateManagedLoginBrandingResponse {
                    managed_login_branding: Some(b),
                });
            }
        }
        Err(CoreError::ConcurrentModification(
            "The managed login branding was modified concurrently; retry the request.".into(),
        ))
    }

    pub async fn delete_managed_login_branding(
        &self,
        req: DeleteManagedLoginBrandingRequest,
    ) -> Result<()> {
        self.pool(&req.user_pool_id).await?;
        if !self
            .brandings()
            .delete_branding(&req.user_pool_id, &req.managed_login_branding_id)
            .await?
        {
            return Err(not_found(&req.managed_login_branding_id));
        }
        Ok(())
    }

    /// What the managed login pages of a client take from its style: the light-mode primary
    /// button colour (`rrggbbaa`) and the form logo, as a data URL.
    pub(crate) async fn branding_look(
        &self,
        pool_id: &str,
        client_id: &str,
    ) -> Result<Option<(Option<String>, Option<String>)>> {
        let Some(b) = self.brandings().client_branding(pool_id, client_id).await? else {
            return Ok(None);
        };
        let b = described(b, true);
        let colour = b
            .settings
            .as_ref()
            .and_then(|s| s.pointer("/components/primaryButton/lightMode/defaults/backgroundColor"))
            .and_then(Value::as_str)
            .filter(|c| c.len() == 8 && c.chars().all(|ch| ch.is_ascii_hexdigit()))
            .map(|c| format!("#{c}"));
        let logo = b.assets.iter().flatten().find_map(|a| {
            let media = match a.extension {
                AssetExtensionType::Png => "image/png",
                AssetExtensionType::Jpeg => "image/jpeg",
                AssetExtensionType::Webp => "image/webp",
                _ => return None,
            };
            (a.category == AssetCategoryType::FormLogo && a.color_mode != ColorSchemeModeType::Dark)
                .then(|| Some(format!("data:{media};base64,{}", a.bytes.as_deref()?)))
                .flatten()
        });
        Ok(Some((colour, logo)))
    }

    pub(crate) fn brandings(&self) -> &dyn crate::store::BrandingStore {
        &*self.store
    }
}
