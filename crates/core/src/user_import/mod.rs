//! User import (docs/user-import.md): GetCSVHeader; CreateUserImportJob and the presigned URL
//! its CSV is PUT to (served by Gatehouse itself, signed and expiring as S3's are);
//! Start/Stop/Describe/ListUserImportJobs; the run that turns rows into users (runner.rs,
//! rows.rs); and the first sign-in of a user imported with a password hash (hashes.rs). What
//! Cognito does, with sources: docs/design/user-import-cognito-behaviour.md.
//!
//! A job's state lives in the store (`ImportJobRecord`) and changes by compare-and-swap, so
//! any process can answer for it, run it, or resume a run whose process died.

pub(crate) mod csv;
mod hashes;
mod rows;
mod runner;

use std::time::{Duration, SystemTime};

use gatehouse_wire::*;

pub use csv::MAX_FILE_BYTES;
pub use runner::{ImportProgress, ImportSummary};

use crate::store::{ImportJobRecord, UserPoolRecord, UserRecord};
use crate::{ids, passwords, Core, CoreError, Result};

/// How long a job's upload URL works: every real one says `X-Amz-Expires=899`.
const URL_EXPIRES_SECONDS: u64 = 899;
/// A job not started this long after its creation expires (Cognito: 24 to 48 hours).
const EXPIRES_AFTER_MS: i64 = 24 * 3_600_000;
/// Where a job's CSV is PUT: `{public_url}{UPLOAD_PATH}{pool id}/{job id}`.
pub const UPLOAD_PATH: &str = "/_gatehouse/user-import/";
/// The access key id an upload URL's credential names; its secret derives from the server key.
const UPLOAD_KEY_ID: &str = "GATEHOUSEUSERIMPORT";
/// The header Cognito's URL signs: an upload must send it, with this value.
const SSE_HEADER: (&str, &str) = ("x-amz-server-side-encryption", "aws:kms");

/// Imported password hashes checked at once by this process.
static HASH_CHECKS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Statuses of a job that has been started and has not ended.
const ACTIVE: [&str; 3] = ["Pending", "InProgress", "Stopping"];

const STOPPED_MESSAGE: &str = "The Import Job was stopped by the developer.";
const EXPIRED_MESSAGE: &str = "The user import job has expired.";

/// Standard attributes a CSV may carry, in GetCSVHeader's order (`sub` and `identities` are
/// never imported).
const STANDARD_COLUMNS: [&str; 19] = [
    "name",
    "given_name",
    "family_name",
    "middle_name",
    "nickname",
    "preferred_username",
    "profile",
    "picture",
    "website",
    "email",
    "email_verified",
    "gender",
    "birthdate",
    "zoneinfo",
    "locale",
    "phone_number",
    "phone_number_verified",
    "address",
    "updated_at",
];

/// GetCSVHeader: the standard columns, the pool's custom attributes in schema order (a
/// developer-only one as `dev:custom:x`), then `cognito:mfa_enabled`, `cognito:username` and
/// `password_hash`.
pub fn csv_header(pool: &UserPoolType) -> Vec<String> {
    let mut header: Vec<String> = STANDARD_COLUMNS.iter().map(|c| c.to_string()).collect();
    header.extend(
        pool.schema_attributes
            .iter()
            .flatten()
            .filter_map(|a| a.name.clone())
            .filter(|n| {
                n.starts_with(crate::schema::CUSTOM_PREFIX)
                    || n.starts_with(crate::schema::DEV_PREFIX)
            }),
    );
    header.extend(["cognito:mfa_enabled", "cognito:username", "password_hash"].map(String::from));
    header
}

fn not_found(job_id: &str) -> CoreError {
    CoreError::ResourceNotFound(format!("Import job {job_id} does not exist."))
}

fn status_of(j: &ImportJobRecord) -> UserImportJobStatusType {
    j.job
        .status
        .clone()
        .unwrap_or(UserImportJobStatusType::Created)
}

/// Why an upload to a job's URL is refused, as S3 answers (the server writes its XML).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UploadRefusal {
    /// 400 `AuthorizationQueryParametersError`.
    Malformed(String),
    /// 403 `SignatureDoesNotMatch`: not this job's URL, changed, or without the signed header.
    Mismatch,
    /// 403 `AccessDenied` "Request has expired".
    Expired,
    /// 403 `AccessDenied`: the job no longer takes a file (started, stopped, expired, gone).
    Closed,
    /// 400 `EntityTooLarge`.
    TooLarge,
    /// 500 `InternalError`: the store failed.
    Internal,
}

impl Core {
    pub(crate) fn imports(&self) -> &dyn crate::store::ImportStore {
        &*self.store
    }

    pub async fn get_csv_header(&self, req: GetCSVHeaderRequest) -> Result<GetCSVHeaderResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        Ok(GetCSVHeaderResponse {
            user_pool_id: Some(pool.id.clone()),
            csv_header: Some(csv_header(&pool.pool)),
        })
    }

    pub async fn create_user_import_job(
        &self,
        req: CreateUserImportJobRequest,
    ) -> Result<CreateUserImportJobResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let now = self.now_millis();
        let job_id = format!("import-{}", ids::alphanumeric(self.entropy.as_ref(), 10));
        let job = UserImportJobType {
            job_name: Some(req.job_name),
            job_id: Some(job_id.clone()),
            user_pool_id: Some(pool.id.clone()),
            pre_signed_url: Some(self.upload_url(&pool.id, &job_id, now)),
            creation_date: Some(now as f64 / 1000.0),
            status: Some(UserImportJobStatusType::Created),
            cloud_watch_logs_role_arn: Some(req.cloud_watch_logs_role_arn),
            imported_users: Some(0),
            skipped_users: Some(0),
            failed_users: Some(0),
            password_hashing_algorithm: req.password_hashing_algorithm,
            ..Default::default()
        };
        let record = ImportJobRecord {
            pool_id: pool.id.clone(),
            job_id,
            created_at: now,
            version: 1,
            job: job.clone(),
            uploaded: false,
            rows_done: 0,
            lease_until: None,
            run_id: None,
        };
        self.imports().insert_import_job(&record).await?;
        Ok(CreateUserImportJobResponse {
            user_import_job: Some(job),
        })
    }

    pub async fn describe_user_import_job(
        &self,
        req: DescribeUserImportJobRequest,
    ) -> Result<DescribeUserImportJobResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let job = self.import_job(&pool.id, &req.job_id).await?;
        Ok(DescribeUserImportJobResponse {
            user_import_job: Some(job.job),
        })
    }

    /// Newest first; the token is the last job's (CreationDate, JobId).
    pub async fn list_user_import_jobs(
        &self,
        req: ListUserImportJobsRequest,
    ) -> Result<ListUserImportJobsResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        let after = crate::pagination::decode_cursor(req.pagination_token.as_deref())?;
        let limit = req.max_results.clamp(1, 60) as u32;
        let mut rows = self
            .imports()
            .list_import_jobs(
                &pool.id,
                after.as_ref().map(|(at, id)| (*at, id.as_str())),
                limit + 1,
            )
            .await?;
        let token = crate::pagination::next_cursor(&mut rows, limit, |j| (j.created_at, &j.job_id));
        let mut jobs = Vec::with_capacity(rows.len());
        for j in rows {
            jobs.push(self.expire_if_due(j).await?.job);
        }
        Ok(ListUserImportJobsResponse {
            user_import_jobs: Some(jobs),
            pagination_token: token,
        })
    }

    pub async fn start_user_import_job(
        &self,
        req: StartUserImportJobRequest,
    ) -> Result<StartUserImportJobResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        self.import_job(&pool.id, &req.job_id).await?;
        if pool
            .pool
            .auto_verified_attributes
            .as_ref()
            .is_none_or(|a| a.is_empty())
        {
            return Err(CoreError::PreconditionNotMet(format!(
                "User pool {} has no auto verified attributes: imported users could not \
                 verify a recovery address.",
                pool.id
            )));
        }
        // A file can only arrive while the job is Created and only goes when it ends, so a
        // file seen here is the one the run reads.
        let has_file = self
            .imports()
            .has_import_file(&pool.id, &req.job_id)
            .await?;
        let now = self.now_millis();
        let job_id = req.job_id.clone();
        let started = self
            .change_import_job(&pool.id, &req.job_id, |j| {
                if status_of(j) != UserImportJobStatusType::Created {
                    return Err(CoreError::PreconditionNotMet(format!(
                        "Import job {job_id} is not in the Created state."
                    )));
                }
                if !has_file {
                    return Err(CoreError::PreconditionNotMet(format!(
                        "No csv file was uploaded for {job_id}"
                    )));
                }
                j.job.status = Some(UserImportJobStatusType::Pending);
                j.job.start_date = Some(now as f64 / 1000.0);
                Ok(())
            })
            .await?;
        self.spawn_import_run(&pool.id, &req.job_id);
        Ok(StartUserImportJobResponse {
            user_import_job: Some(started.job),
        })
    }

    /// A Pending job, or one whose run has no live lease, stops at once; a running one is
    /// asked to (Stopping), and the answer waits a moment for its run to finish the row in
    /// hand, as Cognito's does.
    pub async fn stop_user_import_job(
        &self,
        req: StopUserImportJobRequest,
    ) -> Result<StopUserImportJobResponse> {
        let pool = self.pool(&req.user_pool_id).await?;
        self.import_job(&pool.id, &req.job_id).await?;
        let now = self.now_millis();
        let job_id = req.job_id.clone();
        let mut job = self
            .change_import_job(&pool.id, &req.job_id, |j| {
                let running = j.lease_until.is_some_and(|l| l > now);
                match status_of(j) {
                    UserImportJobStatusType::Pending | UserImportJobStatusType::Inprogress
                        if running =>
                    {
                        j.job.status = Some(UserImportJobStatusType::Stopping);
                    }
                    UserImportJobStatusType::Pending
                    | UserImportJobStatusType::Inprogress
                    | UserImportJobStatusType::Stopping => {
                        end_job(j, UserImportJobStatusType::Stopped, STOPPED_MESSAGE, now);
                    }
                    _ => {
                        return Err(CoreError::PreconditionNotMet(format!(
                            "Import job {job_id} is not running."
                        )))
                    }
                }
                Ok(())
            })
            .await?;
        let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
        while status_of(&job) == UserImportJobStatusType::Stopping
            && tokio::time::Instant::now() < deadline
        {
            tokio::time::sleep(Duration::from_millis(50)).await;
            job = self.import_job(&pool.id, &req.job_id).await?;
        }
        if status_of(&job) == UserImportJobStatusType::Stopped {
            self.imports()
                .delete_import_file(&pool.id, &req.job_id)
                .await?;
        }
        Ok(StopUserImportJobResponse {
            user_import_job: Some(job.job),
        })
    }

    /// Whether a PUT with this query and `x-amz-server-side-encryption` is a valid upload to
    /// the job's URL (S3's presigned-request check), before its body is read: a request
    /// without the URL's signature never gets to send 100 MB.
    pub fn check_import_upload(
        &self,
        pool_id: &str,
        job_id: &str,
        raw_query: &str,
        sse_header: Option<&str>,
    ) -> std::result::Result<(), UploadRefusal> {
        let (host, path, _) = self.upload_location(pool_id, job_id);
        let headers = [(SSE_HEADER.0, sse_header.unwrap_or(""))];
        let target = self.upload_target(&host, &path, &headers);
        gatehouse_sigv4::check_presigned(
            &target,
            raw_query,
            UPLOAD_KEY_ID,
            &self.server_key.upload_credential(),
            system_time(self.now_millis()),
        )
        .map_err(|e| match e {
            gatehouse_sigv4::PresignError::Malformed(m) => UploadRefusal::Malformed(m),
            gatehouse_sigv4::PresignError::Expired => UploadRefusal::Expired,
            gatehouse_sigv4::PresignError::Mismatch => UploadRefusal::Mismatch,
        })
    }

    /// The CSV PUT to a job's URL: checked as S3 checks a presigned request (the signature
    /// over this server's host and path, the signed `x-amz-server-side-encryption`, the
    /// expiry), then kept if the job still takes a file. The ETag S3 would give.
    pub async fn receive_import_file(
        &self,
        pool_id: &str,
        job_id: &str,
        raw_query: &str,
        sse_header: Option<&str>,
        body: &[u8],
    ) -> std::result::Result<String, UploadRefusal> {
        self.check_import_upload(pool_id, job_id, raw_query, sse_header)?;
        if body.len() > MAX_FILE_BYTES {
            return Err(UploadRefusal::TooLarge);
        }
        let internal = |e: crate::StoreError| {
            tracing::warn!(error = %e, "storing an import file failed");
            UploadRefusal::Internal
        };
        let job = match self.import_job(pool_id, job_id).await {
            Ok(job) => job,
            Err(CoreError::ResourceNotFound(_)) => return Err(UploadRefusal::Closed),
            Err(e) => {
                tracing::warn!(error = %e, "reading an import job failed");
                return Err(UploadRefusal::Internal);
            }
        };
        if status_of(&job) != UserImportJobStatusType::Created {
            return Err(UploadRefusal::Closed);
        }
        if !self
            .imports()
            .put_import_file(pool_id, job_id, body)
            .await
            .map_err(internal)?
        {
            return Err(UploadRefusal::Closed);
        }
        // Only a flag for Describe's readers: Start asks the store whether the file is there.
        let _ = self
            .change_import_job(pool_id, job_id, |j| {
                j.uploaded = true;
                Ok(())
            })
            .await;
        let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body);
        Ok(format!("\"{}\"", ids::hex(&digest.as_ref()[..16])))
    }

    /// UpdateUserPool, AddCustomAttributes and DeleteUserPool wait for the pool's running
    /// import to end: its rows are checked against the schema it started with.
    pub(crate) async fn refuse_while_importing(&self, pool_id: &str) -> Result<()> {
        let running = self.imports().import_jobs_with_status(&ACTIVE).await?;
        if running.iter().any(|j| j.pool_id == pool_id) {
            return Err(CoreError::UserImportInProgress(
                "User import job is in progress for this user pool.".into(),
            ));
        }
        Ok(())
    }

    /// Whether `password` is the user's. A user imported with a password hash who has not
    /// signed in since has no SRP verifier yet: the hash is checked (off the async threads, it
    /// is slow by design) and, if right, replaced by a verifier made from `password`, so this
    /// happens once and SRP and device sign-ins work from then on.
    pub(crate) async fn password_is_right(
        &self,
        pool: &UserPoolRecord,
        user: &mut UserRecord,
        password: &str,
    ) -> Result<bool> {
        if let Some(record) = &user.password {
            return Ok(passwords::verify(
                record,
                &pool.id,
                &user.username,
                password,
            ));
        }
        let Some(imported) = user.imported_hash.clone() else {
            return Ok(false);
        };
        let typed = password.to_string();
        let checked = imported.clone();
        // Slow and memory-hard by design (scrypt: 64 MiB a check): a few at a time, whatever
        // the number of sign-ins asking.
        let _permit = HASH_CHECKS
            .acquire()
            .await
            .map_err(|e| CoreError::Internal(format!("password hash check: {e}")))?;
        let right = tokio::task::spawn_blocking(move || hashes::verify(&checked, &typed))
            .await
            .map_err(|e| CoreError::Internal(format!("password hash check: {e}")))?;
        if !right {
            return Ok(false);
        }
        let record =
            passwords::make_record(self.entropy.as_ref(), &pool.id, &user.username, password);
        let updated = self
            .modify_user(pool, &user.username, |u| {
                // Another sign-in may have converted it first: theirs stands.
                if u.imported_hash.as_ref() == Some(&imported) {
                    u.imported_hash = None;
                    u.password = Some(record.clone());
                }
                Ok(())
            })
            .await?;
        *user = updated;
        tracing::info!(pool_id = %pool.id, "an imported password hash became an SRP verifier");
        Ok(true)
    }

    // --- the job record -------------------------------------------------------------------

    /// The job, expired first if it waited too long to start.
    async fn import_job(&self, pool_id: &str, job_id: &str) -> Result<ImportJobRecord> {
        let job = self
            .imports()
            .import_job(pool_id, job_id)
            .await?
            .ok_or_else(|| not_found(job_id))?;
        self.expire_if_due(job).await
    }

    async fn expire_if_due(&self, job: ImportJobRecord) -> Result<ImportJobRecord> {
        let due = job.created_at + EXPIRES_AFTER_MS;
        if status_of(&job) != UserImportJobStatusType::Created || self.now_millis() < due {
            return Ok(job);
        }
        let (pool_id, job_id) = (job.pool_id.clone(), job.job_id.clone());
        let expired = self
            .change_import_job(&pool_id, &job_id, |j| {
                if status_of(j) == UserImportJobStatusType::Created {
                    end_job(j, UserImportJobStatusType::Expired, EXPIRED_MESSAGE, due);
                }
                Ok(())
            })
            .await?;
        // Start may have won the race: then the file is the run's.
        if status_of(&expired) == UserImportJobStatusType::Expired {
            self.imports().delete_import_file(&pool_id, &job_id).await?;
        }
        Ok(expired)
    }

    /// Read-modify-write of a job by compare-and-swap, retried while other writers win.
    async fn change_import_job<F>(
        &self,
        pool_id: &str,
        job_id: &str,
        mut f: F,
    ) -> Result<ImportJobRecord>
    where
        F: FnMut(&mut ImportJobRecord) -> Result<()> + Send,
    {
        let mut rounds = crate::backoff::Rounds::new(self.entropy.as_ref(), 20);
        while rounds.next().await {
            let mut j = self
                .imports()
                .import_job(pool_id, job_id)
                .await?
                .ok_or_else(|| not_found(job_id))?;
            f(&mut j)?;
            j.version += 1;
            if self.imports().update_import_job(&j).await? {
                return Ok(j);
            }
        }
        Err(CoreError::ConcurrentModification(
            "The import job was modified concurrently; retry the request.".into(),
        ))
    }

    // --- the upload URL -------------------------------------------------------------------

    /// The host the URL names, its path, and the scheme and host to put before the path.
    fn upload_location(&self, pool_id: &str, job_id: &str) -> (String, String, String) {
        let base = self.config.public_url.trim_end_matches('/');
        let (scheme, rest) = base.split_once("://").unwrap_or(("http", base));
        let (host, prefix) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, ""),
        };
        (
            host.to_string(),
            format!("{prefix}{UPLOAD_PATH}{pool_id}/{job_id}"),
            format!("{scheme}://{host}"),
        )
    }

    fn upload_target<'a>(
        &'a self,
        host: &'a str,
        path: &'a str,
        headers: &'a [(&'a str, &'a str)],
    ) -> gatehouse_sigv4::PresignTarget<'a> {
        gatehouse_sigv4::PresignTarget {
            method: "PUT",
            host,
            path,
            region: &self.config.region,
            service: "s3",
            headers,
        }
    }

    /// Made once, at creation, and returned as it is by every later read (as Cognito's).
    fn upload_url(&self, pool_id: &str, job_id: &str, now: i64) -> String {
        let (host, path, origin) = self.upload_location(pool_id, job_id);
        let headers = [SSE_HEADER];
        let query = gatehouse_sigv4::presign(
            &self.upload_target(&host, &path, &headers),
            UPLOAD_KEY_ID,
            &self.server_key.upload_credential(),
            system_time(now),
            URL_EXPIRES_SECONDS,
        );
        format!("{origin}{path}?{query}")
    }
}

/// A job's end: its status, message and CompletionDate (the run's lease is let go).
fn end_job(j: &mut ImportJobRecord, status: UserImportJobStatusType, message: &str, at: i64) {
    j.job.status = Some(status);
    j.job.completion_message = Some(message.to_string());
    j.job.completion_date = Some(at as f64 / 1000.0);
    j.lease_until = None;
    j.run_id = None;
}

fn system_time(ms: i64) -> SystemTime {
    SystemTime::UNIX_EPOCH + Duration::from_millis(ms.max(0) as u64)
}
