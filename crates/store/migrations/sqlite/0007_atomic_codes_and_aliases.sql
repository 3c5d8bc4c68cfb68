-- Promises kept by the database itself (issue #14): one-time codes whose guesses are counted in
-- the row they are compared against, and sign-in aliases that one user of a pool holds.

-- Codes: columns instead of a JSON document, so that a guess is one conditional UPDATE.
-- `guesses` and `issued` count over the window that began at `window_started_at`.
CREATE TABLE codes_v2 (
    pool_id            TEXT NOT NULL,
    username_key       TEXT NOT NULL,
    purpose            TEXT NOT NULL,
    code_hash          TEXT NOT NULL,
    attribute          TEXT,
    expires_at         BIGINT NOT NULL,
    guesses            BIGINT NOT NULL,
    issued             BIGINT NOT NULL,
    window_started_at  BIGINT NOT NULL,
    PRIMARY KEY (pool_id, username_key, purpose),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
INSERT INTO codes_v2
SELECT pool_id, username_key, purpose,
       json_extract(doc, '$.code_hash'), json_extract(doc, '$.attribute'),
       json_extract(doc, '$.expires_at'), json_extract(doc, '$.failed_attempts'),
       1, 0  -- an old window: the next code starts a new one
FROM codes;
DROP TABLE codes;
ALTER TABLE codes_v2 RENAME TO codes;

-- Sign-in aliases: `alias` is `attribute:value`, the value as the pool compares it (core's
-- `alias_claims`). The primary key is the promise.
CREATE TABLE user_aliases (
    pool_id       TEXT NOT NULL,
    alias         TEXT NOT NULL,
    username_key  TEXT NOT NULL,
    PRIMARY KEY (pool_id, alias),
    FOREIGN KEY (pool_id, username_key) REFERENCES users(pool_id, username_key) ON DELETE CASCADE
);
CREATE INDEX user_aliases_by_user ON user_aliases(pool_id, username_key);

-- The claims of existing users, by the same rule as core's `alias_claims`: an attribute listed in
-- UsernameAttributes is always held, an email or phone alias once verified, a preferred username
-- alias always; values without case in case-insensitive pools. Where older data already had two
-- holders, the first (by username) keeps the claim.
INSERT OR IGNORE INTO user_aliases (pool_id, alias, username_key)
SELECT u.pool_id,
       a.attr || ':' || CASE
           WHEN a.attr <> 'phone_number'
                AND json_extract(p.doc, '$.UsernameConfiguration.CaseSensitive') = 0
           THEN lower(json_extract(u.doc, '$.attributes.' || a.attr))
           ELSE json_extract(u.doc, '$.attributes.' || a.attr) END,
       u.username_key
FROM users u
JOIN user_pools p ON p.id = u.pool_id
JOIN (SELECT 'email' AS attr UNION ALL SELECT 'phone_number' UNION ALL SELECT 'preferred_username') a
WHERE json_extract(u.doc, '$.attributes.' || a.attr) IS NOT NULL
  AND (EXISTS (SELECT 1 FROM json_each(p.doc, '$.UsernameAttributes') WHERE value = a.attr)
       OR (EXISTS (SELECT 1 FROM json_each(p.doc, '$.AliasAttributes') WHERE value = a.attr)
           AND (a.attr = 'preferred_username'
                OR json_extract(u.doc, '$.attributes.' || a.attr || '_verified') = 'true')))
ORDER BY u.pool_id, u.username_key;
