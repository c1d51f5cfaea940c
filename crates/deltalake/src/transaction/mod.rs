//! Transactions: turning a set of actions into the next version of a table, atomically, with
//! conflict detection against concurrent writers and retries with backoff.

mod conflict;
mod custom_metadata;

use std::borrow::Cow;
use std::collections::HashMap;

use bytes::Bytes;
use serde_json::{Map, Value};
use tracing::{debug, warn};

use conflict::OurChanges;
pub use conflict::{MatchingFiles, ReadScope};
pub use custom_metadata::check_custom_metadata;

use crate::error::{DeltaError, DeltaResult};
use crate::log::{read_commits, write_checkpoint};
use crate::protocol::actions::serialize_actions;
use crate::protocol::table_config::APPEND_ONLY;
use crate::protocol::{Action, CommitInfo, Protocol, TableConfig, TableFeature, Txn};
use crate::snapshot::Snapshot;
use crate::storage::{LogStore, backoff};

/// The name of this engine in `commitInfo.engineInfo`.
pub const ENGINE_INFO: &str = concat!("deltalake-rs/", env!("CARGO_PKG_VERSION"));

/// What a commit does, as recorded in `commitInfo`.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation {
    /// The operation name (`CREATE TABLE`, `WRITE`, `DELETE`, ...).
    pub name: String,
    /// Its parameters.
    pub parameters: Map<String, Value>,
}

impl Operation {
    /// An operation with parameters.
    pub fn new(name: impl Into<String>, parameters: Map<String, Value>) -> Self {
        Self {
            name: name.into(),
            parameters,
        }
    }
}

/// Settings of a commit that are not its actions.
#[derive(Debug, Clone)]
pub struct CommitProperties {
    /// How many times to try before giving up (default 15).
    pub max_attempts: u32,
    /// Free-form metadata recorded as `commitInfo.userMetadata`.
    pub user_metadata: Option<String>,
    /// Extra fields merged into `commitInfo`.
    pub extra_info: Map<String, Value>,
    /// Checkpoint the new version when it is a multiple of `delta.checkpointInterval` (default true).
    pub auto_checkpoint: bool,
}

impl Default for CommitProperties {
    fn default() -> Self {
        Self {
            max_attempts: 15,
            user_metadata: None,
            extra_info: Map::new(),
            auto_checkpoint: true,
        }
    }
}

/// The outcome of a successful commit.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommitResult {
    /// The version created.
    pub version: i64,
    /// How many attempts it took.
    pub attempts: u32,
    /// Whether the version was checkpointed automatically after the commit.
    pub checkpointed: bool,
}

/// Builds and commits one transaction.
///
/// ```no_run
/// # async fn example(table: &deltalake::DeltaTable, add: deltalake::protocol::Add) -> deltalake::DeltaResult<()> {
/// use deltalake::transaction::{CommitBuilder, Operation};
/// let result = CommitBuilder::new(Operation::new("WRITE", Default::default()))
///     .with_actions(vec![deltalake::protocol::Action::Add(add)])
///     .commit(table.log_store().as_ref(), Some(table.snapshot()))
///     .await?;
/// println!("committed version {}", result.version);
/// # Ok(()) }
/// ```
#[derive(Debug, Clone)]
pub struct CommitBuilder {
    operation: Operation,
    actions: Vec<Action>,
    scope: ReadScope,
    metrics: Map<String, Value>,
    properties: CommitProperties,
}

impl CommitBuilder {
    /// A transaction performing `operation`.
    pub fn new(operation: Operation) -> Self {
        Self {
            operation,
            actions: Vec::new(),
            scope: ReadScope::Nothing,
            metrics: Map::new(),
            properties: CommitProperties::default(),
        }
    }

    /// Add actions (adds, removes, metadata, ...); `commitInfo` is written by the builder.
    pub fn with_actions(mut self, actions: impl IntoIterator<Item = Action>) -> Self {
        self.actions.extend(actions);
        self
    }

    /// Declare what the transaction read (default: nothing, a blind append).
    pub fn with_read_scope(mut self, scope: ReadScope) -> Self {
        self.scope = scope;
        self
    }

    /// Operation metrics for `commitInfo.operationMetrics`.
    pub fn with_metrics(mut self, metrics: Map<String, Value>) -> Self {
        self.metrics = metrics;
        self
    }

    /// Retries, user metadata and extra commit information.
    pub fn with_properties(mut self, properties: CommitProperties) -> Self {
        self.properties = properties;
        self
    }

    /// Record that application `app_id` committed its transaction `version` (idempotent writes):
    /// the commit fails with [`DeltaError::TransactionAlreadyCommitted`] if the table already holds
    /// that version or a newer one for the application.
    pub fn with_app_transaction(mut self, app_id: impl Into<String>, version: i64) -> Self {
        let last_updated = Some(chrono::Utc::now().timestamp_millis());
        self.actions.push(Action::Txn(Txn {
            app_id: app_id.into(),
            version,
            last_updated,
        }));
        self
    }

    /// Commit on top of `snapshot` (`None` creates the table: version 0).
    ///
    /// Every commit passes the table's rules here, whatever the operation: the protocol (the
    /// table's and any new one) must be writable by this crate, and a commit that removes data
    /// files (`remove` with `dataChange`) is refused on an append-only table.
    pub async fn commit(self, store: &dyn LogStore, snapshot: Option<&Snapshot>) -> DeltaResult<CommitResult> {
        let span = crate::telemetry::operation_span!("commit", store.redacted_url());
        let files = (self.actions.iter())
            .filter(|a| matches!(a, Action::Add(_) | Action::Remove(_)))
            .count();
        let attempts = self.attempts(store, snapshot);
        crate::telemetry::traced(span, attempts, |r| crate::telemetry::Figures {
            version: Some(r.version),
            files: Some(files),
            ..Default::default()
        })
        .await
    }

    /// The commit itself, attempt after attempt, inside the span of [`Self::commit`].
    async fn attempts(self, store: &dyn LogStore, snapshot: Option<&Snapshot>) -> DeltaResult<CommitResult> {
        let read_version = snapshot.map_or(-1, Snapshot::version);
        check_custom_metadata(&self.properties.extra_info)?;
        self.check_table_rules(store, snapshot)?;
        if let Some(snapshot) = snapshot {
            self.check_app_transactions(snapshot)?;
        }
        let ict_enabled = self.protocol(snapshot).is_some_and(|p| {
            self.configuration(snapshot)
                .is_enabled(p, TableFeature::InCommitTimestamps)
        });
        let changes = OurChanges::new(&self.scope, &self.actions);
        let mut previous_timestamp = snapshot.map_or(i64::MIN, Snapshot::timestamp);
        let mut version = read_version + 1;
        let txn_id = uuid::Uuid::new_v4().to_string();
        let mut last_error = String::new();
        for attempt in 1..=self.properties.max_attempts.max(1) {
            let body = self.body(
                read_version,
                ict_enabled.then(|| now_after(previous_timestamp)),
                &txn_id,
            )?;
            match store.write_commit(version, body).await {
                Ok(()) => {
                    debug!(version, attempt, operation = %self.operation.name, "committed");
                    let checkpointed =
                        self.properties.auto_checkpoint && self.checkpoint_if_due(store, snapshot, version).await;
                    return Ok(CommitResult {
                        version,
                        attempts: attempt,
                        checkpointed,
                    });
                }
                Err(DeltaError::VersionExists { .. }) if read_version < 0 => {
                    return Err(DeltaError::TableExists {
                        uri: store.root_url().to_string(),
                    });
                }
                Err(DeltaError::VersionExists { .. }) => {
                    // Someone else committed first: check every commit we missed, then try after them.
                    let winners = read_commits(store, version, None).await?;
                    for winner in &winners {
                        changes.check(winner.version, &winner.actions)?;
                        previous_timestamp = previous_timestamp.max(winner.timestamp);
                    }
                    let next = winners.last().map_or(version + 1, |w| w.version + 1);
                    last_error = format!("version {version} was taken; {} concurrent commit(s)", winners.len());
                    warn!(version, next, attempt, "concurrent commit, retrying");
                    version = next;
                    tokio::time::sleep(backoff(attempt)).await;
                }
                Err(e) => return Err(e),
            }
        }
        Err(DeltaError::CommitFailed {
            attempts: self.properties.max_attempts,
            reason: last_error,
        })
    }

    fn check_app_transactions(&self, snapshot: &Snapshot) -> DeltaResult<()> {
        for action in &self.actions {
            if let Action::Txn(t) = action
                && let Some(committed) = snapshot.txn(&t.app_id)
                && committed.version >= t.version
            {
                return Err(DeltaError::TransactionAlreadyCommitted {
                    app_id: t.app_id.clone(),
                    version: t.version,
                    committed: committed.version,
                });
            }
        }
        Ok(())
    }

    /// Writability and append-only: see [`CommitBuilder::commit`]. Append-only is the rule of
    /// the table read, as in Delta on Spark.
    fn check_table_rules(&self, store: &dyn LogStore, snapshot: Option<&Snapshot>) -> DeltaResult<()> {
        let uri = store.root_url().as_str();
        for protocol in snapshot.map(Snapshot::protocol).into_iter().chain(self.new_protocol()) {
            protocol.ensure_writable(uri)?;
        }
        let removes_data = self
            .actions
            .iter()
            .any(|a| matches!(a, Action::Remove(r) if r.data_change));
        if removes_data && snapshot.is_some_and(|s| s.is_feature_enabled(TableFeature::AppendOnly)) {
            return Err(DeltaError::InvalidArgument(format!(
                "table {uri} is append-only ({APPEND_ONLY}): {} cannot remove data from it",
                self.operation.name
            )));
        }
        Ok(())
    }

    /// The table configuration after this commit: that of the metadata being committed, or else the table's.
    fn configuration<'a>(&self, snapshot: Option<&'a Snapshot>) -> Cow<'a, TableConfig> {
        let new_metadata = self.actions.iter().find_map(|a| match a {
            Action::Metadata(m) => Some(&m.configuration),
            _ => None,
        });
        match (new_metadata, snapshot) {
            (Some(configuration), _) => Cow::Owned(TableConfig::new(configuration)),
            (None, Some(snapshot)) => Cow::Borrowed(snapshot.table_config()),
            (None, None) => Cow::Owned(TableConfig::default()),
        }
    }

    /// The protocol being committed, if any.
    fn new_protocol(&self) -> Option<&Protocol> {
        self.actions.iter().find_map(|a| match a {
            Action::Protocol(p) => Some(p),
            _ => None,
        })
    }

    /// The protocol after this commit: the one being committed, or else the table's.
    fn protocol<'a>(&'a self, snapshot: Option<&'a Snapshot>) -> Option<&'a Protocol> {
        self.new_protocol().or_else(|| snapshot.map(Snapshot::protocol))
    }

    /// After committing `version` on top of `snapshot`: checkpoint it when it is a multiple of
    /// `delta.checkpointInterval`. The new snapshot is `snapshot` advanced by the commits since.
    /// A failure is logged and reported as `false`: the commit itself has succeeded.
    async fn checkpoint_if_due(&self, store: &dyn LogStore, snapshot: Option<&Snapshot>, version: i64) -> bool {
        let interval = match self.configuration(snapshot).checkpoint_interval() {
            Ok(interval) => interval,
            Err(e) => {
                warn!(version, error = %e, "no automatic checkpoint");
                return false;
            }
        };
        if version == 0 || version % interval != 0 {
            return false;
        }
        let result = async {
            let next = match snapshot {
                Some(s) if s.version() < version => s.advance_to_committed(store, version).await?,
                _ => Snapshot::load(store, Some(version)).await?,
            };
            write_checkpoint(store, &next).await
        }
        .await;
        match result {
            Ok(_) => true,
            Err(e) => {
                warn!(version, error = %e, "automatic checkpoint failed; the commit stands");
                false
            }
        }
    }

    fn body(&self, read_version: i64, in_commit_timestamp: Option<i64>, txn_id: &str) -> DeltaResult<Bytes> {
        let now = chrono::Utc::now().timestamp_millis();
        let mut other = self.properties.extra_info.clone();
        other.insert("txnId".into(), Value::from(txn_id));
        // `userMetadata` given among the extra fields fills the named field (never both: a
        // duplicate key makes the commit unreadable).
        let extra_user_metadata = other
            .remove("userMetadata")
            .and_then(|v| v.as_str().map(str::to_string));
        let user_metadata = self.properties.user_metadata.clone().or(extra_user_metadata);
        let is_blind_append = self.scope == ReadScope::Nothing
            && self
                .actions
                .iter()
                .all(|a| matches!(a, Action::Add(_) | Action::Txn(_) | Action::CommitInfo(_)));
        let info = CommitInfo {
            timestamp: Some(in_commit_timestamp.unwrap_or(now)),
            in_commit_timestamp,
            operation: Some(self.operation.name.clone()),
            operation_parameters: Some(self.operation.parameters.clone().into_iter().collect::<HashMap<_, _>>()),
            read_version: (read_version >= 0).then_some(read_version),
            isolation_level: Some("Serializable".into()),
            is_blind_append: Some(is_blind_append),
            operation_metrics: Some(self.metrics.clone().into_iter().collect()),
            engine_info: Some(ENGINE_INFO.into()),
            user_metadata,
            other,
        };
        let mut actions = Vec::with_capacity(self.actions.len() + 1);
        actions.push(Action::CommitInfo(info));
        actions.extend(
            self.actions
                .iter()
                .filter(|a| !matches!(a, Action::CommitInfo(_)))
                .cloned(),
        );
        Ok(Bytes::from(serialize_actions(&actions)?))
    }
}

/// The current time in milliseconds, but strictly after `previous` (in-commit timestamps increase).
fn now_after(previous: i64) -> i64 {
    chrono::Utc::now().timestamp_millis().max(previous.saturating_add(1))
}
