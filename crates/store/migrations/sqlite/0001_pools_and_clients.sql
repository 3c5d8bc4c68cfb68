-- User pools and app clients. The full Cognito description of each is kept as JSON (`doc`);
-- the columns are what we look up, order or count by. Portable types only, so that the
-- PostgreSQL schema mirrors this one.
CREATE TABLE user_pools (
    id          TEXT PRIMARY KEY NOT NULL,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    created_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL
);

CREATE TABLE app_clients (
    client_id   TEXT PRIMARY KEY NOT NULL,
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    version     BIGINT NOT NULL,
    doc         TEXT NOT NULL
);
CREATE INDEX app_clients_by_pool ON app_clients(pool_id, client_id);

-- Users arrive with the users issue; the table exists now so that pools can count them.
CREATE TABLE users (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    username    TEXT NOT NULL,
    PRIMARY KEY (pool_id, username)
);
