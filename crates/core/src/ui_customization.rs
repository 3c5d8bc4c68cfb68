//! GetUICustomization / SetUICustomization: the classic hosted pages' CSS and logo, for the
//! pool (`ClientId` `ALL` or absent) or one app client, whose record then replaces the pool's
//! whole. The CSS may only style Cognito's `*-customizable` classes; Gatehouse's hosted pages
//! carry those classes and render the record (crates/server/src/hosted/look.rs). Cognito's
//! behaviour: docs/design/remaining-operations-cognito-behaviour.md §1.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_wire::*;

use crate::store::UiCustomizationRecord;
use crate::{Core, CoreError, Result};

/// The client id of the pool-wide record.
pub const ALL_CLIENTS: &str = "ALL";

/// The classes Cognito lets a pool style, each with the pseudo-classes it takes.
const CLASSES: &[(&str, &[&str])] = &[
    ("background-customizable", &[]),
    ("banner-customizable", &[]),
    ("errorMessage-customizable", &[]),
    ("idpButton-customizable", &["hover"]),
    ("idpDescription-customizable", &[]),
    ("inputField-customizable", &["focus"]),
    ("label-customizable", &[]),
    ("legalText-customizable", &[]),
    ("logo-customizable", &[]),
    ("passwordCheck-notValid-customizable", &[]),
    ("passwordCheck-valid-customizable", &[]),
    ("redirect-customizable", &[]),
    ("socialButton-customizable", &[]),
    ("submitButton-customizable", &["hover"]),
    ("textDescription-customizable", &[]),
];

fn invalid_css(detail: &str) -> CoreError {
    CoreError::InvalidParameter(format!("Invalid CSS: {detail}"))
}

/// `css` as rules of allowed selectors: no at-rules, no `url(`, `expression(`, escapes or
/// markup, and each selector one of Cognito's classes (with its pseudo-class).
fn check_css(css: &str) -> Result<Vec<(String, String)>> {
    // Comments go first: `ur/**/l(` must not pass as two harmless halves.
    let mut text = css.to_string();
    while let Some(start) = text.find("/*") {
        let end = text[start..]
            .find("*/")
            .map(|e| start + e + 2)
            .unwrap_or(text.len());
        text.replace_range(start..end, "");
    }
    let lowered = text.to_ascii_lowercase();
    for banned in [
        "@",
        "url(",
        "image-set(",
        "expression(",
        "javascript:",
        "\\",
        "<",
    ] {
        if lowered.contains(banned) {
            return Err(invalid_css(&format!("'{banned}' is not allowed")));
        }
    }
    let mut rules = Vec::new();
    let mut rest = text.as_str();
    while let Some(open) = rest.find('{') {
        let close = rest[open..]
            .find('}')
            .map(|c| open + c)
            .ok_or_else(|| invalid_css("a rule is not closed"))?;
        let body = &rest[open + 1..close];
        if body.contains('{') {
            return Err(invalid_css("rules cannot nest"));
        }
        for selector in rest[..open].split(',') {
            let selector = selector.trim();
            let (class, pseudo) = selector
                .strip_prefix('.')
                .map(|s| s.split_once(':').map_or((s, None), |(c, p)| (c, Some(p))))
                .ok_or_else(|| invalid_css(&format!("{selector} is not a customizable class")))?;
            let allowed = CLASSES
                .iter()
                .find(|(c, _)| *c == class)
                .is_some_and(|(_, pseudos)| pseudo.is_none_or(|p| pseudos.contains(&p)));
            if !allowed {
                return Err(invalid_css(&format!(
                    "{selector} is not a customizable class"
                )));
            }
            rules.push((selector.to_string(), body.trim().to_string()));
        }
        rest = &rest[close + 1..];
    }
    if !rest.trim().is_empty() {
        return Err(invalid_css("text outside a rule"));
    }
    Ok(rules)
}

/// The CSS the hosted pages include: the checked rules, one per line.
pub fn rendered_css(css: &str) -> String {
    check_css(css)
        .unwrap_or_default()
        .into_iter()
        .map(|(selector, body)| format!("{selector} {{ {body} }}\n"))
        .collect()
}

/// An image's media type, PNG or JPEG, by its first bytes (managed login assets too).
pub(crate) fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

/// What the hosted pages of a client show: CSS and the logo as a `data:` URL.
pub struct HostedLook {
    pub css: String,
    pub logo: Option<String>,
}

impl Core {
    /// Refuses a pool without a domain (Cognito's words) and a client not of the pool.
    async fn customizable(&self, pool_id: &str, client_id: Option<&str>) -> Result<String> {
        self.pool(pool_id).await?;
        if self.pools().domain_of_pool(pool_id).await?.is_none() {
            return Err(CoreError::InvalidParameter(
                "There has to be an existing domain associated with this user pool".into(),
            ));
        }
        match client_id {
            None | Some(ALL_CLIENTS) => Ok(ALL_CLIENTS.to_string()),
            Some(id) => {
                self.app_client(pool_id, id).await?;
                Ok(id.to_string())
            }
        }
    }

    /// Replaces the record; neither CSS nor image removes it.
    pub async fn set_ui_customization(
        &self,
        req: SetUICustomizationRequest,
    ) -> Result<SetUICustomizationResponse> {
        let client = self
            .customizable(&req.user_pool_id, req.client_id.as_deref())
            .await?;
        if req.css.is_none() && req.image_file.is_none() {
            self.pools()
                .put_ui_customization(&req.user_pool_id, &client, None)
                .await?;
            return Ok(SetUICustomizationResponse {
                ui_customization: UICustomizationType {
                    user_pool_id: Some(req.user_pool_id),
                    client_id: Some(client),
                    ..Default::default()
                },
            });
        }
        if let Some(css) = &req.css {
            check_css(css)?;
        }
        if let Some(image) = &req.image_file {
            let bytes = STANDARD
                .decode(image)
                .map_err(|_| CoreError::InvalidParameter("ImageFile is not base64.".into()))?;
            if image_type(&bytes).is_none() {
                return Err(CoreError::InvalidParameter(
                    "The image must be a PNG or JPEG file.".into(),
                ));
            }
        }
        let now_ms = self.now_millis();
        let version = crate::domains::version_stamp(now_ms);
        let previous = self
            .pools()
            .ui_customization(&req.user_pool_id, &client)
            .await?;
        let created = previous
            .and_then(|p| p.customization.creation_date)
            .unwrap_or(now_ms as f64 / 1000.0);
        let image_url = req.image_file.as_ref().map(|_| {
            format!(
                "{}/_gatehouse/ui-customization/{}/{client}/{version}/image",
                self.config.public_url, req.user_pool_id
            )
        });
        let record = UiCustomizationRecord {
            customization: UICustomizationType {
                user_pool_id: Some(req.user_pool_id.clone()),
                client_id: Some(client.clone()),
                image_url,
                css: req.css,
                css_version: Some(version),
                creation_date: Some(created),
                last_modified_date: Some(now_ms as f64 / 1000.0),
            },
            image: req.image_file,
        };
        self.pools()
            .put_ui_customization(&req.user_pool_id, &client, Some(&record))
            .await?;
        Ok(SetUICustomizationResponse {
            ui_customization: record.customization,
        })
    }

    /// The client's record, else the pool's, else an empty one.
    pub async fn get_ui_customization(
        &self,
        req: GetUICustomizationRequest,
    ) -> Result<GetUICustomizationResponse> {
        let client = self
            .customizable(&req.user_pool_id, req.client_id.as_deref())
            .await?;
        let found = self
            .effective_customization(&req.user_pool_id, &client)
            .await?;
        Ok(GetUICustomizationResponse {
            ui_customization: found.map(|r| r.customization).unwrap_or_default(),
        })
    }

    async fn effective_customization(
        &self,
        pool_id: &str,
        client: &str,
    ) -> Result<Option<UiCustomizationRecord>> {
        if client != ALL_CLIENTS {
            if let Some(own) = self.pools().ui_customization(pool_id, client).await? {
                return Ok(Some(own));
            }
        }
        Ok(self.pools().ui_customization(pool_id, ALL_CLIENTS).await?)
    }

    /// What the hosted pages of `client_id` show (None: Gatehouse's own look): on a managed
    /// login (version 2) domain the client's managed login style, else the classic
    /// customization.
    pub async fn hosted_look(&self, client_id: &str) -> Result<Option<HostedLook>> {
        let Some(client) = self.client_record(client_id).await? else {
            return Ok(None);
        };
        let domain = self.pools().domain_of_pool(&client.pool_id).await?;
        if domain.is_some_and(|d| d.managed_login_version == Some(2)) {
            let look = self.branding_look(&client.pool_id, client_id).await?;
            return Ok(look.map(|(colour, logo)| HostedLook {
                css: colour
                    .map(|c| format!(".submitButton-customizable {{ background-color: {c}; }}\n"))
                    .unwrap_or_default(),
                logo,
            }));
        }
        let Some(record) = self
            .effective_customization(&client.pool_id, client_id)
            .await?
        else {
            return Ok(None);
        };
        let logo = record.image.as_deref().and_then(|b64| {
            let bytes = STANDARD.decode(b64).ok()?;
            Some(format!("data:{};base64,{b64}", image_type(&bytes)?))
        });
        Ok(Some(HostedLook {
            css: record
                .customization
                .css
                .as_deref()
                .map(rendered_css)
                .unwrap_or_default(),
            logo,
        }))
    }

    /// The logo an ImageUrl names (its bytes and media type), if that record still has it.
    pub async fn ui_customization_image(
        &self,
        pool_id: &str,
        client: &str,
        version: &str,
    ) -> Result<Option<(&'static str, Vec<u8>)>> {
        let Some(record) = self.pools().ui_customization(pool_id, client).await? else {
            return Ok(None);
        };
        if record.customization.css_version.as_deref() != Some(version) {
            return Ok(None);
        }
        Ok(record.image.and_then(|b64| {
            let bytes = STANDARD.decode(b64).ok()?;
            Some((image_type(&bytes)?, bytes))
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_cognitos_classes_and_no_active_content() {
        let good = ".submitButton-customizable { background-color: #f00; }\n\
                    /* note */ .inputField-customizable:focus, .label-customizable { font-weight: 700 }";
        assert_eq!(check_css(good).unwrap().len(), 3);
        assert_eq!(
            rendered_css(".logo-customizable { max-width: 60% }"),
            ".logo-customizable { max-width: 60% }\n"
        );
        for bad in [
            "body { color: red }",
            ".submitButton-customizable:focus { color: red }",
            "@import 'x'; .label-customizable { }",
            ".label-customizable { background: url(https://x) }",
            ".label-customizable { background: ur/**/l(/logout) }",
            ".label-customizable { background: image-set('x.png' 1x) }",
            ".label-customizable { color: red } </style><script>",
            ".label-customizable { color: red",
            ".label-customizable { .x { } }",
        ] {
            assert!(check_css(bad).is_err(), "{bad}");
        }
    }
}
