-- A sign-in's latest activity (ListUserSessions' LastActiveDate, LastIPAddress, DeviceType),
-- kept in columns apart from the session's document: a refresh writes them without racing the
-- document's compare-and-swap, and the least recently active session is found by index when a
-- user passes the pool's session cap. Existing sessions were last active when created.
ALTER TABLE auth_sessions ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE auth_sessions ADD COLUMN last_ip TEXT;
ALTER TABLE auth_sessions ADD COLUMN last_user_agent TEXT;
UPDATE auth_sessions SET last_active_at = CAST(json_extract(doc, '$.created_at') AS INTEGER);
CREATE INDEX auth_sessions_by_activity ON auth_sessions(pool_id, username_key, last_active_at);
