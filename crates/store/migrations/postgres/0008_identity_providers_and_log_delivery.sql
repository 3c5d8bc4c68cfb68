-- Identity providers and their IdpIdentifiers, as SQLite's 0016 (same columns, so `gatehouse
-- migrate-store` copies them row by row).
CREATE TABLE identity_providers (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);
CREATE INDEX identity_providers_by_time ON identity_providers(pool_id, created_at, name);

CREATE TABLE identity_provider_identifiers (
    pool_id     TEXT COLLATE "C" NOT NULL,
    identifier  TEXT COLLATE "C" NOT NULL,
    name        TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (pool_id, identifier),
    FOREIGN KEY (pool_id, name) REFERENCES identity_providers(pool_id, name) ON DELETE CASCADE
);

-- A pool's log delivery configuration (SetLogDeliveryConfiguration), as the API describes it.
CREATE TABLE log_delivery_configurations (
    pool_id  TEXT COLLATE "C" NOT NULL PRIMARY KEY REFERENCES user_pools(id) ON DELETE CASCADE,
    doc      TEXT NOT NULL
);
