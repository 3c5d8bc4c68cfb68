-- Device tracking: devices (issued keys awaiting ConfirmDevice, then tracked devices with their
-- SRP salt and verifier), refresh-token families bound to a device, and the short-lived record of
-- a sign-in waiting for its device to authenticate (device SRP).
CREATE TABLE devices (
    pool_id       TEXT NOT NULL,
    device_key    TEXT NOT NULL,
    username_key  TEXT NOT NULL,
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

ALTER TABLE auth_sessions ADD COLUMN device_key TEXT;
CREATE INDEX auth_sessions_by_device ON auth_sessions(pool_id, device_key) WHERE device_key IS NOT NULL;

CREATE TABLE pending_sign_ins (
    id            TEXT PRIMARY KEY,
    pool_id       TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    device_key    TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX pending_sign_ins_by_device ON pending_sign_ins(pool_id, username_key, device_key);
CREATE INDEX pending_sign_ins_by_expiry ON pending_sign_ins(expires_at);
