-- OAuth authorization codes, as SQLite's 0012 (same columns, so `gatehouse migrate-store`
-- copies them row by row). Only a hash of the code is kept; a code is spent by deleting its row.
CREATE TABLE authorization_codes (
    code_hash   TEXT COLLATE "C" PRIMARY KEY,
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    expires_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes(expires_at);
CREATE INDEX authorization_codes_by_pool ON authorization_codes(pool_id);
