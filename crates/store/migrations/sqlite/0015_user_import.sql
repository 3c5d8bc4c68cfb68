-- User import jobs (CreateUserImportJob ...): the job as the API describes it, with its run's
-- bookkeeping, in `doc`; `status` is the job's Status, for the runs to resume or expire.
CREATE TABLE user_import_jobs (
    pool_id     TEXT NOT NULL REFERENCES user_pools(id) ON DELETE CASCADE,
    job_id      TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    version     INTEGER NOT NULL,
    doc         TEXT NOT NULL,
    PRIMARY KEY (pool_id, job_id)
);
CREATE INDEX user_import_jobs_by_time ON user_import_jobs(pool_id, created_at, job_id);
CREATE INDEX user_import_jobs_by_status ON user_import_jobs(status);

-- The CSV uploaded to a job's URL, kept in the database so that any process can run the job.
CREATE TABLE user_import_files (
    pool_id  TEXT NOT NULL,
    job_id   TEXT NOT NULL,
    csv      BLOB NOT NULL,
    PRIMARY KEY (pool_id, job_id),
    FOREIGN KEY (pool_id, job_id) REFERENCES user_import_jobs(pool_id, job_id) ON DELETE CASCADE
);
