//! The DynamoDB log store for S3 (and S3-compatible stores without conditional put), compatible
//! with Delta Spark's `S3DynamoDBLogStore`, so both can write one table.
//!
//! One item per commit, keyed by `tablePath` (hash key, the table URI without trailing slash) and
//! `fileName` (range key, e.g. `00000000000000000007.json`), with `tempPath` (the temporary file,
//! relative to `_delta_log`: `.tmp/00000000000000000007.json.<uuid>`), `complete` (`"true"` or
//! `"false"`) and, once complete, `expireTime` (epoch seconds, for DynamoDB's time to live).
//!
//! A commit of version N: write the temporary file, put the item with `complete = "false"` on
//! condition that it does not exist (the atomic step: the first writer wins), copy the temporary
//! file to `N.json`, mark the item complete. A writer stopped after the put leaves an incomplete
//! item: the next reader (listing the log) or writer (committing N + 1) finishes the copy.

mod client;

use std::sync::Arc;

use bytes::Bytes;
use futures::FutureExt;
use futures::future::BoxFuture;
use futures::stream::BoxStream;
use object_store::path::Path;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use serde_json::{Value, json};
use tokio::sync::OnceCell;
use tracing::{debug, info, warn};
use url::Url;

use client::s;
pub use client::{AwsCredentials, CallError, DynamoClient};

use crate::error::{DeltaError, DeltaResult};
use crate::storage::options::StorageOptions;
use crate::storage::{LogStore, ObjectFileReader, ObjectLogStore, commit_file_name};

/// Settings of the DynamoDB log store, from the storage options.
#[derive(Debug, Clone, PartialEq)]
pub struct DynamoOptions {
    /// `DELTA_DYNAMO_TABLE_NAME` (default `delta_log`).
    pub table_name: String,
    /// `AWS_ENDPOINT_URL_DYNAMODB`, else `AWS_ENDPOINT_URL`, else the regional AWS endpoint.
    pub endpoint: Url,
    /// `AWS_REGION` (default `us-east-1`).
    pub region: String,
    /// `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`.
    pub credentials: AwsCredentials,
    /// `DELTA_DYNAMO_CREATE_TABLE` (default true): create the table (pay per request, with
    /// time to live on `expireTime`) when it does not exist.
    pub create_table: bool,
    /// `DELTA_DYNAMO_TTL_SECONDS` (default one day): how long complete entries are kept.
    pub ttl_seconds: u64,
}

impl DynamoOptions {
    /// The storage options read by the DynamoDB log store (not passed to the S3 store).
    pub const KEYS: [&'static str; 4] = [
        "delta_dynamo_table_name",
        "aws_endpoint_url_dynamodb",
        "delta_dynamo_create_table",
        "delta_dynamo_ttl_seconds",
    ];

    /// The settings in `options`.
    pub fn new(options: &StorageOptions) -> DeltaResult<Self> {
        let region = options
            .get_any(&["aws_region", "aws_default_region"])
            .unwrap_or("us-east-1")
            .to_string();
        let endpoint = match options.get_any(&["aws_endpoint_url_dynamodb", "aws_endpoint_url", "aws_endpoint"]) {
            Some(endpoint) => endpoint.to_string(),
            None => format!("https://dynamodb.{region}.amazonaws.com"),
        };
        let endpoint = Url::parse(&endpoint)
            .map_err(|e| DeltaError::InvalidArgument(format!("invalid DynamoDB endpoint: {e}")))?;
        let (Some(access_key_id), Some(secret_access_key)) =
            (options.get("aws_access_key_id"), options.get("aws_secret_access_key"))
        else {
            return Err(DeltaError::InvalidArgument(
                "the DynamoDB log store needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".into(),
            ));
        };
        let ttl_seconds = match options.get("delta_dynamo_ttl_seconds") {
            Some(ttl) => ttl
                .parse()
                .map_err(|_| DeltaError::InvalidArgument("DELTA_DYNAMO_TTL_SECONDS must be a number".into()))?,
            None => 86_400,
        };
        Ok(Self {
            table_name: options
                .get("delta_dynamo_table_name")
                .unwrap_or("delta_log")
                .to_string(),
            endpoint,
            region,
            credentials: AwsCredentials {
                access_key_id: access_key_id.to_string(),
                secret_access_key: secret_access_key.to_string(),
                session_token: options.get_any(&["aws_session_token", "aws_token"]).map(str::to_string),
            },
            create_table: options.get("delta_dynamo_create_table").is_none()
                || options.flag("delta_dynamo_create_table")?,
            ttl_seconds,
        })
    }
}

/// The entry of one commit in the DynamoDB table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitEntry {
    /// The commit file name, e.g. `00000000000000000007.json`.
    pub file_name: String,
    /// The temporary file, relative to `_delta_log`.
    pub temp_path: String,
    /// Whether the commit file has been written.
    pub complete: bool,
}

impl CommitEntry {
    fn from_item(item: &Value) -> DeltaResult<Self> {
        let field = |name: &str| {
            item[name]["S"]
                .as_str()
                .map(str::to_string)
                .ok_or_else(|| DeltaError::InvalidLog {
                    path: "DynamoDB log store".into(),
                    version: None,
                    reason: format!("entry without string attribute '{name}': {item}"),
                })
        };
        Ok(Self {
            file_name: field("fileName")?,
            temp_path: field("tempPath")?,
            complete: field("complete")? == "true",
        })
    }
}

/// A log store whose commits are made atomic by a DynamoDB table; data and log files stay in S3.
#[derive(Debug)]
pub struct DynamoLogStore {
    files: ObjectLogStore,
    client: DynamoClient,
    options: DynamoOptions,
    table_path: String,
    table_ready: Arc<OnceCell<()>>,
}

impl DynamoLogStore {
    /// A log store over the S3 `store` of the table at `root_url`.
    pub fn new(
        store: Arc<dyn ObjectStore>,
        root_url: Url,
        root_path: Path,
        options: DynamoOptions,
    ) -> DeltaResult<Self> {
        let client = DynamoClient::new(
            options.endpoint.clone(),
            options.region.clone(),
            options.credentials.clone(),
        )?;
        // The entries' key, also in messages and logs: never with a password of the table URI.
        let mut without_password = root_url.clone();
        let _ = without_password.set_password(None);
        let table_path = without_password.as_str().trim_end_matches('/').to_string();
        Ok(Self {
            files: ObjectLogStore::new(store, root_url, root_path),
            client,
            options,
            table_path,
            table_ready: Arc::default(),
        })
    }

    /// The entry of `version`, if any.
    pub async fn entry(&self, version: i64) -> DeltaResult<Option<CommitEntry>> {
        self.ensure_table().await?;
        let request = json!({
            "TableName": self.options.table_name,
            "Key": self.key(&commit_file_name(version)),
            "ConsistentRead": true,
        });
        let answer = self.call("GetItem", &request).await?;
        answer.get("Item").map(CommitEntry::from_item).transpose()
    }

    /// The entry of the latest version, if any.
    pub async fn latest_entry(&self) -> DeltaResult<Option<CommitEntry>> {
        self.ensure_table().await?;
        let request = json!({
            "TableName": self.options.table_name,
            "KeyConditionExpression": "tablePath = :path",
            "ExpressionAttributeValues": { ":path": s(&self.table_path) },
            "ScanIndexForward": false,
            "Limit": 1,
            "ConsistentRead": true,
        });
        let answer = self.call("Query", &request).await?;
        answer["Items"]
            .as_array()
            .and_then(|items| items.first())
            .map(CommitEntry::from_item)
            .transpose()
    }

    /// Finish an incomplete commit: copy its temporary file to the commit file, mark it complete.
    async fn repair(&self, entry: &CommitEntry) -> DeltaResult<()> {
        if entry.complete {
            return Ok(());
        }
        info!(table = %self.table_path, file = %entry.file_name, "completing a commit left incomplete");
        let log = self.files.log_path();
        let target = log.clone().join(entry.file_name.as_str());
        let temp = Path::from_iter(log.parts().chain(Path::from(entry.temp_path.as_str()).parts()));
        match self.files.object_store().head(&target).await {
            Ok(_) => {}
            Err(object_store::Error::NotFound { .. }) => self.files.object_store().copy(&temp, &target).await?,
            Err(e) => return Err(e.into()),
        }
        self.mark_complete(&entry.file_name).await
    }

    async fn mark_complete(&self, file_name: &str) -> DeltaResult<()> {
        let expire = chrono::Utc::now().timestamp() + i64::try_from(self.options.ttl_seconds).unwrap_or(i64::MAX / 2);
        let request = json!({
            "TableName": self.options.table_name,
            "Key": self.key(file_name),
            "UpdateExpression": "SET complete = :true, expireTime = :expire",
            "ExpressionAttributeValues": { ":true": s("true"), ":expire": { "N": expire.to_string() } },
        });
        self.call("UpdateItem", &request).await.map(|_| ())
    }

    fn key(&self, file_name: &str) -> Value {
        json!({ "tablePath": s(&self.table_path), "fileName": s(file_name) })
    }

    async fn call(&self, operation: &str, request: &Value) -> DeltaResult<Value> {
        self.client
            .call(operation, request)
            .await
            .map_err(|e| self.error(operation, &e))
    }

    fn error(&self, operation: &str, error: &CallError) -> DeltaError {
        DeltaError::InvalidLog {
            path: format!("DynamoDB table {} for {}", self.options.table_name, self.table_path),
            version: None,
            reason: format!("{operation} failed: {error}"),
        }
    }

    /// Check once that the DynamoDB table exists; create it when allowed.
    async fn ensure_table(&self) -> DeltaResult<()> {
        self.table_ready
            .get_or_try_init(|| self.prepare_table())
            .await
            .map(|_| ())
    }

    async fn prepare_table(&self) -> DeltaResult<()> {
        let name = &self.options.table_name;
        let describe = json!({ "TableName": name });
        match self.client.call("DescribeTable", &describe).await {
            Ok(answer) if answer["Table"]["TableStatus"] == "ACTIVE" => return Ok(()),
            Ok(_) => {}
            Err(e) if e.is("ResourceNotFoundException") && self.options.create_table => {
                info!(table = %name, "creating the DynamoDB log table");
                let create = json!({
                    "TableName": name,
                    "AttributeDefinitions": [
                        { "AttributeName": "tablePath", "AttributeType": "S" },
                        { "AttributeName": "fileName", "AttributeType": "S" },
                    ],
                    "KeySchema": [
                        { "AttributeName": "tablePath", "KeyType": "HASH" },
                        { "AttributeName": "fileName", "KeyType": "RANGE" },
                    ],
                    "BillingMode": "PAY_PER_REQUEST",
                });
                match self.client.call("CreateTable", &create).await {
                    Ok(_) => {}
                    // Another writer is creating it.
                    Err(e) if e.is("ResourceInUseException") => {}
                    Err(e) => return Err(self.error("CreateTable", &e)),
                }
            }
            Err(e) if e.is("ResourceNotFoundException") => {
                return Err(DeltaError::InvalidArgument(format!(
                    "DynamoDB table {name} does not exist (DELTA_DYNAMO_CREATE_TABLE is false)"
                )));
            }
            Err(e) => return Err(self.error("DescribeTable", &e)),
        }
        for attempt in 1..=60 {
            let answer = self.call("DescribeTable", &describe).await?;
            if answer["Table"]["TableStatus"] == "ACTIVE" {
                let ttl = json!({
                    "TableName": name,
                    "TimeToLiveSpecification": { "AttributeName": "expireTime", "Enabled": true },
                });
                if let Err(e) = self.client.call("UpdateTimeToLive", &ttl).await {
                    // Already enabled by a concurrent creator, or not allowed: entries then stay.
                    debug!(table = %name, error = %e, "time to live not enabled");
                }
                return Ok(());
            }
            tokio::time::sleep(crate::storage::backoff(attempt.min(8))).await;
        }
        Err(DeltaError::InvalidArgument(format!(
            "DynamoDB table {name} did not become active"
        )))
    }

    async fn commit(&self, version: i64, body: Bytes) -> DeltaResult<()> {
        self.ensure_table().await?;
        let exists = || DeltaError::VersionExists {
            uri: self.table_path.clone(),
            version,
        };
        if version > 0
            && let Some(previous) = self.entry(version - 1).await?
        {
            self.repair(&previous).await?;
        }
        let file_name = commit_file_name(version);
        let log = self.files.log_path();
        let target = log.clone().join(file_name.as_str());
        match self.files.object_store().head(&target).await {
            Ok(_) => return Err(exists()),
            Err(object_store::Error::NotFound { .. }) => {}
            Err(e) => return Err(e.into()),
        }
        let temp_path = format!(".tmp/{file_name}.{}", uuid::Uuid::new_v4());
        let temp = Path::from_iter(log.parts().chain(Path::from(temp_path.as_str()).parts()));
        self.files.object_store().put(&temp, PutPayload::from(body)).await?;
        let mut item = self.key(&file_name);
        item["tempPath"] = s(&temp_path);
        item["complete"] = s("false");
        let put = json!({
            "TableName": self.options.table_name,
            "Item": item,
            "ConditionExpression": "attribute_not_exists(fileName)",
        });
        match self.client.call("PutItem", &put).await {
            Ok(_) => {}
            Err(e) if e.is("ConditionalCheckFailedException") => {
                // Another writer's entry, or ours when a retried put found the first one applied.
                match self.entry(version).await? {
                    Some(entry) if entry.temp_path == temp_path => {
                        debug!(version, "the DynamoDB put's response was lost but it landed");
                    }
                    _ => {
                        let _ = self.files.object_store().delete(&temp).await;
                        return Err(exists());
                    }
                }
            }
            Err(e) => return Err(self.error("PutItem", &e)),
        }
        let entry = CommitEntry {
            file_name,
            temp_path,
            complete: false,
        };
        if let Err(e) = self.repair(&entry).await {
            // The entry is in: the commit is ours, and the next reader or writer completes it.
            warn!(version, error = %e, "commit recorded but not yet copied; it will be completed later");
        }
        Ok(())
    }
}

impl LogStore for DynamoLogStore {
    fn object_store(&self) -> &Arc<dyn ObjectStore> {
        self.files.object_store()
    }

    fn root_url(&self) -> &Url {
        self.files.root_url()
    }

    fn root_path(&self) -> &Path {
        self.files.root_path()
    }

    fn write_commit(&self, version: i64, body: Bytes) -> BoxFuture<'_, DeltaResult<()>> {
        self.commit(version, body).boxed()
    }

    /// Completes an incomplete latest commit first, so that readers see every committed version.
    fn list_log(&self, offset: Option<&str>) -> BoxFuture<'_, DeltaResult<Vec<ObjectMeta>>> {
        let offset = offset.map(str::to_string);
        async move {
            if let Some(latest) = self.latest_entry().await? {
                self.repair(&latest).await?;
            }
            self.files.list_log(offset.as_deref()).await
        }
        .boxed()
    }

    fn read_log_files(&self, files: Vec<Path>) -> BoxStream<'_, object_store::Result<Bytes>> {
        self.files.read_log_files(files)
    }

    fn file_reader(&self, location: Path, size: Option<u64>) -> ObjectFileReader {
        self.files.file_reader(location, size)
    }
}
