//! A started job's run, and the operator's import (`gatehouse import-users`), which reads rows
//! the same way (docs/user-import.md, "How a job runs").
//!
//! A run holds its job by a lease (a run id and a time, written by compare-and-swap) and
//! renews it at each checkpoint, where it also writes how many rows it has taken and what
//! became of them. A process that dies leaves a lease that runs out; any process's tending
//! (every few seconds, `Core::tend_import_jobs`) then resumes the job after the last
//! checkpoint. Rows taken after that checkpoint are taken again: a user found with the sub the
//! row gives (derived from the job and the line) is the row's own and counts as imported once,
//! and nothing is imported twice. Stop is seen at the next checkpoint.

use std::time::Duration;

use async_trait::async_trait;
use gatehouse_wire::{PasswordHashingAlgorithmType, UserImportJobStatusType};

use super::csv::{self, MAX_ROWS};
use super::rows::{Outcome, Plan};
use super::{end_job, status_of, ACTIVE, STOPPED_MESSAGE};
use crate::store::{ImportJobRecord, UserPoolRecord};
use crate::{ids, Core, CoreError, Result};

/// How long a run holds its job without a checkpoint.
const LEASE_MS: i64 = 30_000;
/// A checkpoint after this many rows, or this long, whichever comes first.
const CHECKPOINT_ROWS: u64 = 1_000;
const CHECKPOINT_EVERY: Duration = Duration::from_secs(1);

const SUCCEEDED_MESSAGE: &str = "Import Job Completed Successfully.";
/// Cognito ends a job Failed when rows failed or were skipped; it publishes no threshold, and
/// every sample with one such row failed, so one is enough here.
const TOO_MANY_MESSAGE: &str = "Too many users have failed or been skipped during the import.";

/// What became of the rows taken.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct ImportSummary {
    pub imported: u64,
    pub skipped: u64,
    pub failed: u64,
}

impl ImportSummary {
    fn count(&mut self, outcome: &Outcome) {
        match outcome {
            Outcome::Imported => self.imported += 1,
            Outcome::Skipped(_) => self.skipped += 1,
            Outcome::Failed(_) => self.failed += 1,
        }
    }

    fn rows(&self) -> u64 {
        self.imported + self.skipped + self.failed
    }
}

/// Where a run's checkpoints go: the job record, or the operator's progress bar.
#[async_trait]
pub trait ImportProgress: Send {
    /// The file holds `rows` data lines (before any is taken).
    fn started(&mut self, _rows: u64) {}

    /// The rows taken since the last checkpoint came to `delta`. False: stop here.
    async fn checkpoint(&mut self, delta: ImportSummary) -> Result<bool>;
}

impl Core {
    pub(crate) fn spawn_import_run(&self, pool_id: &str, job_id: &str) {
        let core = self.clone();
        let (pool_id, job_id) = (pool_id.to_string(), job_id.to_string());
        tokio::spawn(async move {
            if let Err(e) = core.run_import_job(&pool_id, &job_id).await {
                tracing::warn!(%pool_id, %job_id, error = %e, "user import run stopped; it resumes when its lease runs out");
            }
        });
    }

    /// Resumes the runs whose lease ran out (their process died) and expires the jobs that
    /// were never started.
    pub async fn tend_import_jobs(&self) -> Result<()> {
        let now = self.now_millis();
        for job in self.imports().import_jobs_with_status(&ACTIVE).await? {
            if job.lease_until.is_none_or(|l| l <= now) {
                self.spawn_import_run(&job.pool_id, &job.job_id);
            }
        }
        for job in self.imports().import_jobs_with_status(&["Created"]).await? {
            self.expire_if_due(job).await?;
        }
        Ok(())
    }

    /// `gatehouse import-users`: the file's rows into the pool, as a job's run takes them,
    /// with checkpoints to `progress`. File-level problems are InvalidParameter.
    pub async fn import_users_file(
        &self,
        pool_id: &str,
        file: &[u8],
        algorithm: Option<PasswordHashingAlgorithmType>,
        progress: &mut dyn ImportProgress,
    ) -> Result<ImportSummary> {
        let pool = self.pool(pool_id).await?;
        let seed = ids::uuid(self.entropy.as_ref());
        let (plan, lines) =
            open_file(&pool, file, algorithm, &seed, false).map_err(CoreError::InvalidParameter)?;
        progress.started(lines.clone().count() as u64);
        self.import_lines(&pool, &plan, lines, 0, "import-users", progress)
            .await
    }

    async fn run_import_job(&self, pool_id: &str, job_id: &str) -> Result<()> {
        let run_id = ids::uuid(self.entropy.as_ref());
        let now = self.now_millis();
        let claimed = self
            .change_import_job(pool_id, job_id, |j| {
                let free = j.lease_until.is_none_or(|l| l <= now);
                if !free || !ACTIVE.contains(&status_of(j).as_str()) {
                    return Err(CoreError::PreconditionNotMet(String::new()));
                }
                if status_of(j) == UserImportJobStatusType::Pending {
                    j.job.status = Some(UserImportJobStatusType::Inprogress);
                }
                j.lease_until = Some(now + LEASE_MS);
                j.run_id = Some(run_id.clone());
                Ok(())
            })
            .await;
        let job = match claimed {
            Ok(j) => j,
            // Another run holds it, or it has ended (or its pool is gone).
            Err(CoreError::PreconditionNotMet(_) | CoreError::ResourceNotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        if status_of(&job) == UserImportJobStatusType::Stopping {
            return self.end_run(&job, &run_id, None).await;
        }
        let pool = match self.pool(pool_id).await {
            Ok(p) => p,
            Err(CoreError::ResourceNotFound(_)) => return Ok(()),
            Err(e) => return Err(e),
        };
        let Some(file) = self.imports().import_file(pool_id, job_id).await? else {
            return self
                .end_run(&job, &run_id, Some("The CSV file is missing."))
                .await;
        };
        let algorithm = job.job.password_hashing_algorithm.clone();
        let (plan, lines) = match open_file(&pool, &file, algorithm, job_id, true) {
            Ok(opened) => opened,
            Err(why) => return self.end_run(&job, &run_id, Some(&why)).await,
        };
        tracing::info!(%pool_id, %job_id, from_row = job.rows_done + 1, "user import run");
        let mut checkpoints = JobCheckpoints {
            core: self,
            pool_id,
            job_id,
            run_id: &run_id,
            lost: false,
        };
        self.import_lines(&pool, &plan, lines, job.rows_done, job_id, &mut checkpoints)
            .await?;
        if checkpoints.lost {
            return Ok(());
        }
        self.end_run(&job, &run_id, None).await
    }

    /// Takes the lines after the first `skip`, checkpointing as it goes, until the end or
    /// until a checkpoint says stop. Each row's outcome goes to the log as Cognito's import
    /// log words it (`[FAILED] Line Number 7 - …`; the first data line is 1).
    async fn import_lines(
        &self,
        pool: &UserPoolRecord,
        plan: &Plan,
        lines: csv::Lines<'_>,
        skip: u64,
        job_id: &str,
        progress: &mut dyn ImportProgress,
    ) -> Result<ImportSummary> {
        let mut total = ImportSummary::default();
        let mut delta = ImportSummary::default();
        let mut since = tokio::time::Instant::now();
        for (line, values) in lines.skip(skip as usize) {
            let outcome = match values {
                Ok(values) => self.import_row(pool, plan, line, values).await?,
                Err(why) => Outcome::Failed(why),
            };
            match &outcome {
                Outcome::Imported => {
                    tracing::debug!(pool_id = %pool.id, %job_id, "[SUCCEEDED] Line Number {line} - The import succeeded.")
                }
                Outcome::Skipped(why) => {
                    tracing::info!(pool_id = %pool.id, %job_id, "[SKIPPED] Line Number {line} - {why}")
                }
                Outcome::Failed(why) => {
                    tracing::info!(pool_id = %pool.id, %job_id, "[FAILED] Line Number {line} - {why}")
                }
            }
            delta.count(&outcome);
            total.count(&outcome);
            if delta.rows() >= CHECKPOINT_ROWS || since.elapsed() >= CHECKPOINT_EVERY {
                let go_on = progress.checkpoint(std::mem::take(&mut delta)).await?;
                since = tokio::time::Instant::now();
                if !go_on {
                    return Ok(total);
                }
            }
        }
        if delta.rows() > 0 {
            progress.checkpoint(delta).await?;
        }
        Ok(total)
    }

    /// The job's end: Stopped if it was asked to stop, Failed with `failure` or when rows
    /// failed or were skipped, else Succeeded. Its file goes.
    async fn end_run(
        &self,
        job: &ImportJobRecord,
        run_id: &str,
        failure: Option<&str>,
    ) -> Result<()> {
        let now = self.now_millis();
        let ended = self
            .change_import_job(&job.pool_id, &job.job_id, |j| {
                if j.run_id.as_deref() != Some(run_id) {
                    return Err(CoreError::PreconditionNotMet(String::new()));
                }
                let unsuccessful =
                    j.job.failed_users.unwrap_or(0) + j.job.skipped_users.unwrap_or(0);
                let (status, message) = match (status_of(j), failure) {
                    (UserImportJobStatusType::Stopping, _) => {
                        (UserImportJobStatusType::Stopped, STOPPED_MESSAGE)
                    }
                    (_, Some(why)) => (UserImportJobStatusType::Failed, why),
                    _ if unsuccessful > 0 => (UserImportJobStatusType::Failed, TOO_MANY_MESSAGE),
                    _ => (UserImportJobStatusType::Succeeded, SUCCEEDED_MESSAGE),
                };
                end_job(j, status, message, now);
                Ok(())
            })
            .await;
        match ended {
            Ok(j) => {
                tracing::info!(pool_id = %j.pool_id, job_id = %j.job_id, status = %status_of(&j), imported = j.job.imported_users, skipped = j.job.skipped_users, failed = j.job.failed_users, "user import job ended");
                self.imports()
                    .delete_import_file(&job.pool_id, &job.job_id)
                    .await?;
                Ok(())
            }
            Err(CoreError::PreconditionNotMet(_) | CoreError::ResourceNotFound(_)) => Ok(()),
            Err(e) => Err(e),
        }
    }
}

/// The file's header checked into a plan, and its data lines (for a job, no more than
/// Cognito's limit).
fn open_file<'a>(
    pool: &UserPoolRecord,
    file: &'a [u8],
    algorithm: Option<PasswordHashingAlgorithmType>,
    sub_seed: &str,
    cognito_limits: bool,
) -> Result<(Plan, csv::Lines<'a>), String> {
    let (header, lines) = csv::open(file)?;
    let plan = Plan::new(pool, &header, algorithm, sub_seed)?;
    if cognito_limits && lines.clone().count() as u64 > MAX_ROWS {
        return Err("The CSV file has more than 500,000 users.".into());
    }
    Ok((plan, lines))
}

/// A job run's checkpoints: counters, position and lease, in one compare-and-swap that
/// holds only while the lease is this run's.
struct JobCheckpoints<'a> {
    core: &'a Core,
    pool_id: &'a str,
    job_id: &'a str,
    run_id: &'a str,
    /// Another run has the job (this one stalled past its lease), or Stop ended it.
    lost: bool,
}

#[async_trait]
impl ImportProgress for JobCheckpoints<'_> {
    async fn checkpoint(&mut self, delta: ImportSummary) -> Result<bool> {
        let now = self.core.now_millis();
        let run_id = self.run_id;
        let written = self
            .core
            .change_import_job(self.pool_id, self.job_id, |j| {
                if j.run_id.as_deref() != Some(run_id) {
                    return Err(CoreError::PreconditionNotMet(String::new()));
                }
                let add = |n: &mut Option<i64>, d: u64| *n = Some(n.unwrap_or(0) + d as i64);
                add(&mut j.job.imported_users, delta.imported);
                add(&mut j.job.skipped_users, delta.skipped);
                add(&mut j.job.failed_users, delta.failed);
                j.rows_done += delta.rows();
                j.lease_until = Some(now + LEASE_MS);
                Ok(())
            })
            .await;
        match written {
            Ok(j) => Ok(status_of(&j) != UserImportJobStatusType::Stopping),
            Err(CoreError::PreconditionNotMet(_) | CoreError::ResourceNotFound(_)) => {
                self.lost = true;
                Ok(false)
            }
            Err(e) => Err(e),
        }
    }
}
