-- A pending sign-in now waits for an MFA code or for its device, and may have no device.
-- Its rows live minutes: the table is recreated rather than altered.
DROP TABLE pending_sign_ins;
CREATE TABLE pending_sign_ins (
    id            TEXT PRIMARY KEY,
    pool_id       TEXT NOT NULL,
    client_id     TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    device_key    TEXT,
    -- The challenge it waits for: SOFTWARE_TOKEN_MFA or DEVICE_SRP_AUTH.
    step          TEXT NOT NULL,
    expires_at    BIGINT NOT NULL,
    doc           TEXT NOT NULL,
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX pending_sign_ins_by_device ON pending_sign_ins(pool_id, username_key, device_key);
CREATE INDEX pending_sign_ins_by_expiry ON pending_sign_ins(expires_at);
