-- User import jobs and their CSV files, as SQLite's 0015 (same columns, so `gatehouse
-- migrate-store` copies them row by row).
CREATE TABLE user_import_jobs (
    pool_id     TEXT COLLATE "C" NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    job_id      TEXT COLLATE "C" NOT NULL,
    status      TEXT COLLATE "C" NOT NULL,
    created_at  BIGINT NOT NULL,
    version     BIGINT NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, job_id)
);
CREATE INDEX user_import_jobs_by_time ON user_import_jobs(pool_id, created_at, job_id);
CREATE INDEX user_import_jobs_by_status ON user_import_jobs(status);

CREATE TABLE user_import_files (
    pool_id  TEXT COLLATE "C" NOT NULL,
    job_id   TEXT COLLATE "C" NOT NULL,
    csv      BYTEA NOT NULL,
    PRIMARY KEY (pool_id, job_id),
    FOREIGN KEY (pool_id, job_id) REFERENCES user_import_jobs(pool_id, job_id) ON DELETE CASCADE
);
