-- Users, confirmation codes, the message outbox, groups. As in 0001, each row keeps the full
-- record as JSON (`doc`); columns exist for lookups, uniqueness, filters and ordering.
DROP TABLE users;

CREATE TABLE users (
    pool_id             TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    -- The lookup key: the username, lower-cased when the pool is case-insensitive.
    username_key        TEXT NOT NULL,
    username            TEXT NOT NULL,
    sub                 TEXT NOT NULL,
    status              TEXT NOT NULL,
    enabled             BIGINT NOT NULL,
    email               TEXT,
    phone_number        TEXT,
    preferred_username  TEXT,
    created_at          BIGINT NOT NULL,
    version             BIGINT NOT NULL,
    doc                 TEXT NOT NULL,
    PRIMARY KEY (pool_id, username_key)
);
CREATE UNIQUE INDEX users_by_sub ON users(pool_id, sub);
CREATE INDEX users_by_email ON users(pool_id, email);
CREATE INDEX users_by_phone ON users(pool_id, phone_number);
CREATE INDEX users_by_preferred_username ON users(pool_id, preferred_username);

-- One live code per user and purpose, stored as a hash.
CREATE TABLE codes (
    pool_id       TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    purpose       TEXT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);

CREATE TABLE outbox (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    message_id  TEXT NOT NULL UNIQUE,
    pool_id     TEXT NOT NULL,
    username    TEXT NOT NULL,
    created_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX outbox_by_pool_user ON outbox(pool_id, username, seq);

CREATE TABLE groups (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);

CREATE TABLE group_members (
    pool_id       TEXT NOT NULL,
    group_name    TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    PRIMARY KEY (pool_id, group_name, username_key),
    FOREIGN KEY (pool_id, group_name) REFERENCES groups(pool_id, name) ON DELETE CASCADE,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX group_members_by_user ON group_members(pool_id, username_key, group_name);
