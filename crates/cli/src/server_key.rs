//! The server key (sealing sign-in state and the pools' private signing keys): 32 bytes given
//! in config as base64, or kept in `<data-dir>/server.key`, generated on first start. Every
//! process sharing a database must use the same key.

use std::path::{Path, PathBuf};

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use gatehouse_core::server_key::{ServerKey, SERVER_KEY_LEN};
use gatehouse_core::{Entropy, OsEntropy};

pub fn file_in(data_dir: &Path) -> PathBuf {
    data_dir.join("server.key")
}

fn decode(text: &str, origin: &str) -> Result<ServerKey, String> {
    let bytes = STANDARD
        .decode(text.trim())
        .map_err(|_| format!("{origin}: the server key must be base64"))?;
    let key: [u8; SERVER_KEY_LEN] = bytes
        .try_into()
        .map_err(|_| format!("{origin}: the server key must be {SERVER_KEY_LEN} bytes"))?;
    Ok(ServerKey::from_bytes(&key))
}

/// The configured key, else the data dir's (generated when missing).
pub fn load(configured: Option<&str>, data_dir: &Path) -> Result<ServerKey, String> {
    if let Some(text) = configured {
        return decode(text, "GATEHOUSE_SERVER_KEY / server_key");
    }
    let path = file_in(data_dir);
    if path.exists() {
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        return decode(&text, &path.display().to_string());
    }
    let mut key = [0u8; SERVER_KEY_LEN];
    OsEntropy.fill(&mut key);
    crate::credentials::write_private(&path, &format!("{}\n", STANDARD.encode(key)))?;
    tracing::info!(file = %path.display(), "generated the server key");
    Ok(ServerKey::from_bytes(&key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_once_then_reused_and_configured_keys_are_checked() {
        let dir = std::env::temp_dir().join(format!("gh-skey-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let _ = std::fs::remove_file(file_in(&dir));
        load(None, &dir).unwrap();
        let first = std::fs::read_to_string(file_in(&dir)).unwrap();
        load(None, &dir).unwrap();
        assert_eq!(std::fs::read_to_string(file_in(&dir)).unwrap(), first);
        assert!(load(Some("not base64!"), &dir).is_err());
        assert!(load(Some(&STANDARD.encode([1u8; 16])), &dir).is_err());
        assert!(load(Some(&STANDARD.encode([1u8; 32])), &dir).is_ok());
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
