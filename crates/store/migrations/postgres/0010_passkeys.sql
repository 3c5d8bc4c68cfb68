-- Passkeys and pending registrations, as SQLite's 0018.
CREATE TABLE passkeys (
    pool_id        TEXT COLLATE "C" NOT NULL,
    credential_id  TEXT COLLATE "C" NOT NULL,
    username_key   TEXT COLLATE "C" NOT NULL,
    counter        BIGINT NOT NULL,
    created_at     BIGINT NOT NULL,
    doc            TEXT NOT NULL,
    PRIMARY KEY (pool_id, credential_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX passkeys_by_user ON passkeys(pool_id, username_key, created_at);

CREATE TABLE passkey_registrations (
    pool_id       TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, username_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX passkey_registrations_by_expiry ON passkey_registrations(expires_at);
