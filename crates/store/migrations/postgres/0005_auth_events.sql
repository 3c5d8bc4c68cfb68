-- Sign-in events, as SQLite's 0013 (same columns, so `gatehouse migrate-store` copies them row
-- by row).
CREATE TABLE auth_events (
    pool_id       TEXT COLLATE "C" NOT NULL,
    event_id      TEXT COLLATE "C" NOT NULL,
    username_key  TEXT COLLATE "C" NOT NULL,
    session_key   TEXT COLLATE "C",
    response      TEXT COLLATE "C" NOT NULL,
    ip            TEXT COLLATE "C",
    created_at    BIGINT NOT NULL,
    version       BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, event_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX auth_events_by_user ON auth_events(pool_id, username_key, created_at, event_id);
CREATE INDEX auth_events_by_session ON auth_events(session_key);
CREATE INDEX auth_events_by_time ON auth_events(created_at);
CREATE INDEX auth_events_passes ON auth_events(pool_id, username_key, ip) WHERE response = 'Pass';

-- Risk configurations, as SQLite's.
CREATE TABLE risk_configurations (
    pool_id    TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id  TEXT COLLATE "C" NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
