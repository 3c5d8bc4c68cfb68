-- Facts about the deployment that every process sharing this database must agree on: the
-- server key's fingerprint (never the key), recorded by the first process to start.
CREATE TABLE deployment (
    name   TEXT PRIMARY KEY NOT NULL,
    value  TEXT NOT NULL
);
