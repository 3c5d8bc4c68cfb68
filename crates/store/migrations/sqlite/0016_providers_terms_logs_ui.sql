-- Identity providers (CreateIdentityProvider ...): the provider as the API describes it in
-- `doc`; its IdpIdentifiers in their own table, whose key keeps each unique in the pool.
CREATE TABLE identity_providers (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, name)
);
CREATE INDEX identity_providers_by_time ON identity_providers(pool_id, created_at, name);

CREATE TABLE identity_provider_identifiers (
    pool_id     TEXT NOT NULL,
    identifier  TEXT NOT NULL,
    name        TEXT NOT NULL,
    PRIMARY KEY (pool_id, identifier),
    FOREIGN KEY (pool_id, name) REFERENCES identity_providers(pool_id, name) ON DELETE CASCADE
);

-- A pool's log delivery configuration (SetLogDeliveryConfiguration), as the API describes it.
CREATE TABLE log_delivery_configurations (
    pool_id  TEXT NOT NULL PRIMARY KEY REFERENCES user_pools(id) ON DELETE CASCADE,
    doc      TEXT NOT NULL
);

-- Terms documents (CreateTerms ...), as the API describes them in `doc`; a client has one of
-- each name, and its terms go with it.
CREATE TABLE terms (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    terms_id    TEXT NOT NULL,
    client_id   TEXT NOT NULL REFERENCES app_clients(client_id) ON DELETE CASCADE,
    name        TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, terms_id),
    UNIQUE (client_id, name)
);
CREATE INDEX terms_by_time ON terms(pool_id, created_at, terms_id);

-- Hosted-UI customizations (SetUICustomization): the pool's (`ALL`) and app clients', as `doc`.
CREATE TABLE ui_customizations (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    client_id   TEXT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, client_id)
);

-- Managed login styles (CreateManagedLoginBranding ...): one per app client, going with it.
CREATE TABLE managed_login_brandings (
    pool_id      TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    branding_id  TEXT NOT NULL,
    client_id    TEXT NOT NULL UNIQUE REFERENCES app_clients(client_id) ON DELETE CASCADE,
    doc          TEXT NOT NULL,
    PRIMARY KEY (pool_id, branding_id)
);
