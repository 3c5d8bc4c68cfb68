//! Admin credentials: from the config file or the environment; otherwise the pair kept in
//! `<data-dir>/credentials` (AWS shared-credentials format), generated on first start and
//! printed once as the two `export` lines a user pastes.

use std::path::{Path, PathBuf};

use gatehouse_core::{ids, OsEntropy};
use gatehouse_server::AdminCredential;

/// Where the generated pair lives.
pub fn file_in(data_dir: &Path) -> PathBuf {
    data_dir.join("credentials")
}

/// Reads every profile's key pair from a shared-credentials file.
pub fn parse(text: &str) -> Vec<AdminCredential> {
    let mut out = Vec::new();
    let (mut key, mut secret) = (None::<String>, None::<String>);
    let mut flush = |key: &mut Option<String>, secret: &mut Option<String>| {
        if let (Some(k), Some(s)) = (key.take(), secret.take()) {
            out.push(AdminCredential {
                access_key_id: k,
                secret_access_key: s,
                pools: None,
                read_only: false,
            });
        }
    };
    for line in text.lines().map(str::trim) {
        if line.starts_with('[') {
            flush(&mut key, &mut secret);
        } else if let Some((k, v)) = line.split_once('=') {
            match k.trim() {
                "aws_access_key_id" => key = Some(v.trim().to_string()),
                "aws_secret_access_key" => secret = Some(v.trim().to_string()),
                _ => {}
            }
        }
    }
    flush(&mut key, &mut secret);
    out
}

/// The pair in `path`, generating it (mode 0600) when the file does not exist yet. The second
/// value is true when it was just generated.
pub fn load_or_generate(path: &Path) -> Result<(Vec<AdminCredential>, bool), String> {
    if path.exists() {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        let creds = parse(&text);
        if creds.is_empty() {
            return Err(format!(
                "{} holds no aws_access_key_id / aws_secret_access_key pair",
                path.display()
            ));
        }
        return Ok((creds, false));
    }
    let (key, secret) = ids::access_key_pair(&OsEntropy);
    let text = format!(
        "# Gatehouse admin credentials, generated on first start.\n\
         # Use them with: export AWS_SHARED_CREDENTIALS_FILE={}\n\
         [default]\naws_access_key_id = {key}\naws_secret_access_key = {secret}\n",
        path.display()
    );
    write_private(path, &text)?;
    Ok((
        vec![AdminCredential {
            access_key_id: key,
            secret_access_key: secret,
            pools: None,
            read_only: false,
        }],
        true,
    ))
}

pub(crate) fn write_private(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts
        .open(path)
        .map_err(|e| format!("cannot create {}: {e}", path.display()))?;
    f.write_all(text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generate_then_reload() {
        let dir = std::env::temp_dir().join(format!("gh-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = file_in(&dir);
        let _ = std::fs::remove_file(&path);
        let (first, created) = load_or_generate(&path).unwrap();
        assert!(created);
        assert!(first[0].access_key_id.starts_with("AKIA") && first[0].access_key_id.len() == 20);
        assert_eq!(first[0].secret_access_key.len(), 40);
        let (again, created) = load_or_generate(&path).unwrap();
        assert!(!created);
        assert_eq!(again[0].access_key_id, first[0].access_key_id);
        assert_eq!(again[0].secret_access_key, first[0].secret_access_key);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(
                std::fs::metadata(&path).unwrap().permissions().mode() & 0o777,
                0o600
            );
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
