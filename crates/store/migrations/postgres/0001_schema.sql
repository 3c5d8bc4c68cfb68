-- The PostgreSQL schema: the SQLite schema as it stands after sqlite/0009, in one step (PostgreSQL
-- has no data from before it). Same tables, columns and indexes, so that the two back ends read
-- alike and `migrate-store` copies rows as they are. Each row keeps its full record as JSON text
-- (`doc`); columns exist for lookups, uniqueness, filters and ordering.
--
-- Portable choices, kept on purpose:
-- * times are BIGINT epoch milliseconds, booleans BIGINT 0/1, documents TEXT (not jsonb: jsonb
--   rejects "\u0000" and reorders keys; the store never queries inside a document on a hot path);
-- * key columns compare with COLLATE "C": SQLite compares TEXT bytewise, and ordering, paging
--   (`key > after`) and prefix ranges must not depend on the database's locale.

-- User pools and app clients.
CREATE TABLE user_pools (
    id          TEXT COLLATE "C" PRIMARY KEY,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL,
    -- SetUserPoolMfaConfig's settings that DescribeUserPool does not show.
    mfa         TEXT NOT NULL DEFAULT '{}'
);

CREATE TABLE app_clients (
    client_id   TEXT COLLATE "C" PRIMARY KEY,
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX app_clients_by_pool ON app_clients(pool_id, client_id);

-- Users. The lockout counters sit beside the versioned document: a failed attempt changes
-- neither the version nor the last-modified date.
CREATE TABLE users (
    pool_id             TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    -- The lookup key: the username, lower-cased when the pool is case-insensitive.
    username_key        TEXT COLLATE "C" NOT NULL,
    username            TEXT COLLATE "C" NOT NULL,
    sub                 TEXT COLLATE "C" NOT NULL,
    status              TEXT COLLATE "C" NOT NULL,
    enabled             BIGINT NOT NULL,
    email               TEXT COLLATE "C",
    phone_number        TEXT COLLATE "C",
    preferred_username  TEXT COLLATE "C",
    created_at          BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    doc                 TEXT NOT NULL,
    failed_sign_ins     BIGINT NOT NULL DEFAULT 0,
    locked_until        BIGINT,
    PRIMARY KEY (pool_id, username_key)
);
CREATE UNIQUE INDEX users_by_sub ON users(pool_id, sub);
CREATE INDEX users_by_email ON users(pool_id, email);
CREATE INDEX users_by_phone ON users(pool_id, phone_number);
CREATE INDEX users_by_preferred_username ON users(pool_id, preferred_username);

-- An attribute read from a user's document, for ListUsers filters on attributes without a
-- column (name, given_name, family_name). JSON strings may hold "\u0000", PostgreSQL text may
-- not: such a character reads as U+FFFD here, rather than one user's value failing the filter
-- for the whole pool.
CREATE FUNCTION user_attribute(doc TEXT, attribute TEXT) RETURNS TEXT
    LANGUAGE SQL IMMUTABLE STRICT PARALLEL SAFE
    AS $$ SELECT replace(doc, '\u0000', '\ufffd')::json -> 'attributes' ->> attribute $$;

-- Sign-in aliases: `alias` is `attribute:value`, the value as the pool compares it (core's
-- `alias_claims`). The primary key is the promise: one holder per alias in a pool.
CREATE TABLE user_aliases (
    pool_id       TEXT COLLATE "C" NOT NULL,
    alias         TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, alias),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_aliases_by_user ON user_aliases(pool_id, username_key);

-- One live code per user and purpose, stored as a hash. `guesses` and `issued` count over the
-- window that began at `window_started_at`.
CREATE TABLE codes (
    pool_id            TEXT COLLATE "C" NOT NULL,
    username_key       TEXT COLLATE "C" NOT NULL,
    purpose            TEXT COLLATE "C" NOT NULL,
    code_hash          TEXT NOT NULL,
    attribute          TEXT,
    expires_at         BIGINT NOT NULL,
    guesses            BIGINT NOT NULL,
    issued             BIGINT NOT NULL,
    window_started_at  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);

-- The message outbox, in insertion order.
CREATE TABLE outbox (
    seq         BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    message_id  TEXT NOT NULL UNIQUE,
    pool_id     TEXT COLLATE "C" NOT NULL,
    username    TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX outbox_by_pool_user ON outbox(pool_id, username, seq);
CREATE INDEX outbox_by_created ON outbox(created_at);

CREATE TABLE groups (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE group_members (
    pool_id       TEXT COLLATE "C" NOT NULL,
    group_name    TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, group_name, username_key),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups(pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX group_members_by_user ON group_members(pool_id, username_key, group_name);

-- Refresh-token families (auth sessions), spent single-use sign-in states, signing keys.
CREATE TABLE auth_sessions (
    id            TEXT COLLATE "C" PRIMARY KEY,
    pool_id       TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    client_id     TEXT COLLATE "C" NOT NULL,
    expires_at    BIGINT NOT NULL,
    revoked_at    BIGINT,
    version       BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    device_key    TEXT COLLATE "C",
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX auth_sessions_by_user ON auth_sessions(pool_id, username_key);
CREATE INDEX auth_sessions_by_expiry ON auth_sessions(expires_at);
CREATE INDEX auth_sessions_by_revocation ON auth_sessions(revoked_at) WHERE revoked_at IS NOT NULL;
CREATE INDEX auth_sessions_by_device ON auth_sessions(pool_id, device_key) WHERE device_key IS NOT NULL;

CREATE TABLE spent_auth_states (
    id          TEXT COLLATE "C" PRIMARY KEY,
    expires_at  BIGINT NOT NULL
);
CREATE INDEX spent_auth_states_by_expiry ON spent_auth_states(expires_at);

CREATE TABLE signing_keys (
    pool_id             TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    kid                 TEXT COLLATE "C" NOT NULL,
    token_use           TEXT NOT NULL,
    sealed_private_key  TEXT NOT NULL,
    created_at          BIGINT NOT NULL,
    PRIMARY KEY (pool_id, kid)
);

-- Devices: issued keys awaiting ConfirmDevice, then tracked devices with their SRP verifier.
CREATE TABLE devices (
    pool_id       TEXT COLLATE "C" NOT NULL,
    device_key    TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    -- issued | remembered | not_remembered
    status        TEXT NOT NULL,
    -- Issued keys only: when the key lapses unconfirmed.
    expires_at    BIGINT,
    version       BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, device_key),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
-- The admin list (every tracked device) and the user's list (remembered devices only), in key order.
CREATE INDEX devices_tracked ON devices(pool_id, username_key, device_key) WHERE status <> 'issued';
CREATE INDEX devices_remembered ON devices(pool_id, username_key, device_key) WHERE status = 'remembered';
CREATE INDEX devices_issued_expiry ON devices(expires_at) WHERE expires_at IS NOT NULL;
CREATE INDEX devices_by_user ON devices(pool_id, username_key);

-- Sign-ins whose password passed, waiting for an MFA code or for their device.
CREATE TABLE pending_sign_ins (
    id            TEXT COLLATE "C" PRIMARY KEY,
    pool_id       TEXT COLLATE "C" NOT NULL,
    client_id     TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    device_key    TEXT COLLATE "C",
    -- The challenge it waits for (SOFTWARE_TOKEN_MFA, DEVICE_SRP_AUTH, ...).
    step          TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX pending_sign_ins_by_device ON pending_sign_ins(pool_id, username_key, device_key);
CREATE INDEX pending_sign_ins_by_expiry ON pending_sign_ins(expires_at);

-- Facts about the deployment that every process sharing this database must agree on: the
-- server key's fingerprint (never the key), recorded by the first process to start.
CREATE TABLE deployment (
    name   TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
