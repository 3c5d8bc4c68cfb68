-- Sign-in events (AdminListUserAuthEvents): one row per sign-in attempt, sign-up, password
-- change or reset of a user, while the pool's AdvancedSecurityMode is AUDIT or ENFORCED. A
-- sign-in's later steps find their event by `session_key` (a hash of the Session its latest
-- challenge handed out). Deleted with the user; pruned after the retention period.
CREATE TABLE auth_events (
    pool_id       TEXT NOT NULL,
    event_id      TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    session_key   TEXT,
    -- EventResponse and the client's address, for the risk rating's lookups.
    response      TEXT NOT NULL,
    ip            TEXT,
    created_at    INTEGER NOT NULL,
    version       INTEGER NOT NULL,
    doc           TEXT NOT NULL,
    PRIMARY KEY (pool_id, event_id),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX auth_events_by_user ON auth_events(pool_id, username_key, created_at, event_id);
CREATE INDEX auth_events_by_session ON auth_events(session_key);
CREATE INDEX auth_events_by_time ON auth_events(created_at);
-- Where the user signed in from before (the rating's "new network").
CREATE INDEX auth_events_passes ON auth_events(pool_id, username_key, ip) WHERE response = 'Pass';

-- Risk configurations (SetRiskConfiguration): the pool's (client_id '') and its app clients'.
CREATE TABLE risk_configurations (
    pool_id    TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id  TEXT NOT NULL,
    doc        TEXT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);
