-- Sign-in: lockout counters beside the user (outside the versioned doc), refresh-token families
-- (auth sessions), spent single-use sign-in states, and the pools' token-signing keys.
ALTER TABLE users ADD COLUMN failed_sign_ins BIGINT NOT NULL DEFAULT 0;
ALTER TABLE users ADD COLUMN locked_until BIGINT;

CREATE TABLE auth_sessions (
    id            TEXT PRIMARY KEY,
    pool_id       TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    version       BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX auth_sessions_by_user ON auth_sessions(pool_id, username_key);
CREATE INDEX auth_sessions_by_expiry ON auth_sessions(expires_at);
CREATE INDEX auth_sessions_by_revocation ON auth_sessions(revoked_at) WHERE revoked_at IS NOT NULL;

CREATE TABLE spent_auth_states (
    id          TEXT PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX spent_auth_states_by_expiry ON spent_auth_states(expires_at);

CREATE TABLE signing_keys (
    pool_id             TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    kid                 TEXT NOT NULL,
    token_use           TEXT NOT NULL,
    sealed_private_key  TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (pool_id, kid)
);
