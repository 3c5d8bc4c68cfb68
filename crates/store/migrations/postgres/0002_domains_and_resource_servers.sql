-- User pool domains and resource servers, as SQLite's 0010 (same tables, same columns, so
-- `gatehouse migrate-store` copies them row by row). A domain names one pool and a pool has at
-- most one domain: both promises are this table's keys.
CREATE TABLE user_pool_domains (
    domain   TEXT COLLATE "C" PRIMARY KEY,
    pool_id  TEXT COLLATE "C" NOT NULL UNIQUE REFERENCES user_pools(id) ON DELETE CASCADE,
    doc      TEXT NOT NULL
);

CREATE TABLE resource_servers (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    identifier  TEXT COLLATE "C" NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);
