-- A sign-in's latest activity, as SQLite's 0017.
ALTER TABLE auth_sessions ADD COLUMN last_active_at BIGINT NOT NULL DEFAULT 0;
ALTER TABLE auth_sessions ADD COLUMN last_ip TEXT;
ALTER TABLE auth_sessions ADD COLUMN last_user_agent TEXT;
UPDATE auth_sessions SET last_active_at = (doc::jsonb ->> 'created_at')::BIGINT;
CREATE INDEX auth_sessions_by_activity ON auth_sessions(pool_id, username_key, last_active_at);
