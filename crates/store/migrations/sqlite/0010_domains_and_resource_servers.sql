-- User pool domains (CreateUserPoolDomain) and resource servers (CreateResourceServer), for
-- managed login and OAuth. A domain names one pool and a pool has at most one domain: both
-- promises are this table's keys, so two simultaneous creates cannot break either.
CREATE TABLE user_pool_domains (
    domain   TEXT PRIMARY KEY NOT NULL,
    pool_id  TEXT NOT NULL UNIQUE REFERENCES user_pools(id) ON DELETE CASCADE,
    doc      TEXT NOT NULL
);

CREATE TABLE resource_servers (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    identifier  TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier)
);
