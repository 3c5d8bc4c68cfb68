-- Passkeys (CompleteWebAuthnRegistration): one row per credential, its id unique in the pool;
-- `counter` is the signature counter last seen, raised in place; `doc` the rest (the verifier's
-- credential, transports, name). A registration waits in its own row, one per user, until
-- completed once or expired.
CREATE TABLE passkeys (
    pool_id        TEXT NOT NULL,
    credential_id  TEXT NOT NULL,
    username_key   TEXT NOT NULL,
    counter        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    doc            TEXT NOT NULL,
    PRIMARY KEY (pool_id, credential_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX passkeys_by_user ON passkeys(pool_id, username_key, created_at);

CREATE TABLE passkey_registrations (
    pool_id       TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, username_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX passkey_registrations_by_expiry ON passkey_registrations(expires_at);
