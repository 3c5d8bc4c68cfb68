-- OAuth authorization codes (/oauth2/authorize → /oauth2/token). Only a hash of the code is
-- kept. A code is spent by deleting its row (DELETE … RETURNING): two simultaneous redemptions
-- cannot both get it.
CREATE TABLE authorization_codes (
    code_hash   TEXT PRIMARY KEY NOT NULL,
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    expires_at  INTEGER NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX authorization_codes_by_expiry ON authorization_codes(expires_at);
CREATE INDEX authorization_codes_by_pool ON authorization_codes(pool_id);
