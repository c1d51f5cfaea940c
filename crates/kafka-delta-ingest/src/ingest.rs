//! The writing side: buffers messages per partition, flushes by latency, count or bytes, and
//! commits the rows of all the partitions of a flush at once, with a `txn` action per partition
//! (`<app_id>-<partition>`, version = last offset) so that the table holds the offsets it has,
//! exactly once.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use arrow::array::RecordBatch;
use arrow::datatypes::SchemaRef;
use deltalake::operations::write::WriteBuilder;
use deltalake::protocol::schema::{StructField, StructType};
use deltalake::{DeltaError, DeltaTable};
use tokio::sync::mpsc;
use tracing::{info, warn};

use crate::cli::IngestOptions;
use crate::consumer::{self, BufferGauge, Command, Event, OffsetLookup};
use crate::decode::{DeadLetter, Decoding, Message, dead_letter_schema, decode_json_lines};
use crate::error::IngestError;
use crate::metrics::Metrics;
use crate::transform::Transformer;

/// The stored versions (last offsets written) of `partitions` under `app_id` in the table at
/// `uri`; a missing table has none.
pub async fn stored_offsets(uri: &str, app_id: &str, partitions: &[i32]) -> Result<HashMap<i32, i64>, IngestError> {
    let table = match open_if_exists(uri).await? {
        Some(t) => t,
        None => return Ok(HashMap::new()),
    };
    Ok(partitions
        .iter()
        .filter_map(|p| table.snapshot().txn(&txn_app_id(app_id, *p)).map(|t| (*p, t.version)))
        .collect())
}

/// `<app_id>-<partition>`, the original daemon's layout.
pub fn txn_app_id(app_id: &str, partition: i32) -> String {
    format!("{app_id}-{partition}")
}

async fn open_if_exists(uri: &str) -> Result<Option<DeltaTable>, IngestError> {
    match DeltaTable::open(uri).await {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == deltalake::error::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e.into()),
    }
}

#[derive(Default)]
struct Partition {
    /// The version the table holds for this partition, as far as this worker knows.
    committed: Option<i64>,
    messages: Vec<Message>,
    bytes: usize,
    /// A seek is on its way: messages are dropped until it lands.
    resetting: bool,
}

struct Dlq {
    uri: String,
    transformer: Transformer,
}

struct Writer {
    options: IngestOptions,
    table: DeltaTable,
    decoding: Arc<Decoding>,
    dlq: Option<Dlq>,
    parts: HashMap<i32, Partition>,
    oldest: Option<Instant>,
    count: usize,
    bytes: usize,
    commands: std_mpsc::Sender<Command>,
    metrics: Arc<Metrics>,
    gauge: Arc<BufferGauge>,
}

/// Run the daemon until the topic's end (`-e`), `shutdown`, or a fatal error.
pub async fn run(options: IngestOptions, shutdown: Arc<AtomicBool>) -> Result<(), IngestError> {
    let table = open_or_create(&options).await?;
    catch_up_checkpoint(&table).await;
    let schema: SchemaRef = table.snapshot().arrow_schema().clone();
    let transformer = Arc::new(Transformer::new(&options.transforms, options.filter.as_deref())?);
    let dlq = match &options.dlq_table_uri {
        Some(uri) => Some(Dlq {
            uri: uri.clone(),
            transformer: Transformer::new(&options.dlq_transforms, None)?,
        }),
        None => None,
    };
    let metrics = Arc::new(Metrics::default());
    if let Some(addr) = &options.metrics_addr {
        crate::metrics::serve(addr, metrics.clone()).await?;
    }
    // Bytes are bounded by the gauge; the slots bound the count of small messages.
    let capacity = (options.max_buffer_bytes / 256).clamp(1024, 1 << 20);
    let (events_tx, mut events) = mpsc::channel(capacity);
    let (commands, commands_rx) = std_mpsc::channel();
    let (uri, app_id) = (options.table_uri.clone(), options.app_id.clone());
    let lookup: OffsetLookup =
        Arc::new(move |partitions: &[i32]| deltalake::bindings::block_on(stored_offsets(&uri, &app_id, partitions))?);
    let gauge = Arc::new(BufferGauge {
        bytes: 0.into(),
        max: options.max_buffer_bytes,
    });
    let poller = consumer::start(&options, lookup, events_tx, commands_rx, gauge.clone())?;
    let mut writer = Writer {
        decoding: Arc::new(Decoding {
            schema,
            transformer,
            gzip: options.decompress_gzip,
            format: options.format.clone(),
        }),
        options,
        table,
        dlq,
        parts: HashMap::new(),
        oldest: None,
        count: 0,
        bytes: 0,
        commands,
        metrics,
        gauge,
    };
    let result = writer.drive(&mut events, &shutdown, &poller.failed).await;
    poller.stop.store(true, Ordering::SeqCst);
    // The polling thread may wait on a revoke acknowledgement or a full channel: let it go.
    drop(events);
    drop(writer);
    let _ = tokio::task::spawn_blocking(move || poller.handle.join()).await;
    result
}

/// The version of the table's last checkpoint (`_delta_log/_last_checkpoint`), -1 without one.
async fn last_checkpoint(table: &DeltaTable) -> Result<i64, IngestError> {
    let store = table.log_store();
    let path = store.log_path().join("_last_checkpoint");
    let bytes = match object_store::ObjectStoreExt::get(store.object_store().as_ref(), &path).await {
        Ok(found) => found.bytes().await.map_err(DeltaError::from)?,
        Err(object_store::Error::NotFound { .. }) => return Ok(-1),
        Err(e) => return Err(DeltaError::from(e).into()),
    };
    let value: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| IngestError::Internal(format!("invalid _last_checkpoint: {e}")))?;
    Ok(value.get("version").and_then(serde_json::Value::as_i64).unwrap_or(-1))
}

/// A worker that died between a commit at a multiple of `delta.checkpointInterval` and its
/// checkpoint left the table without it: write it now (at the current version).
async fn catch_up_checkpoint(table: &DeltaTable) {
    let due = match table.snapshot().table_config().checkpoint_interval() {
        Ok(interval) if interval > 0 => table.version() / interval * interval,
        _ => return,
    };
    let result = async {
        if due > 0 && last_checkpoint(table).await? < due {
            let written = table.create_checkpoint().await?;
            info!(version = table.version(), ?written, "caught up a missed checkpoint");
        }
        Ok::<_, IngestError>(())
    };
    if let Err(e) = result.await {
        warn!(error = %e, "no catch-up checkpoint");
    }
}

async fn open_or_create(options: &IngestOptions) -> Result<DeltaTable, IngestError> {
    if let Some(table) = open_if_exists(&options.table_uri).await? {
        return Ok(table);
    }
    let Some(schema) = &options.create_table_schema else {
        return Err(IngestError::Config(format!(
            "no Delta table at {}: create it first, or pass --create-table with its schema",
            options.table_uri
        )));
    };
    let schema = parse_schema(schema)?;
    match DeltaTable::create(&options.table_uri)
        .with_schema(schema)
        .execute()
        .await
    {
        Ok(t) => Ok(t),
        // Another worker created it first.
        Err(DeltaError::TableExists { .. }) => Ok(DeltaTable::open(&options.table_uri).await?),
        Err(e) => Err(e.into()),
    }
}

/// A Delta schema (`{"type":"struct","fields":[...]}`) or an Arrow-style `{"fields": [...]}` with
/// Delta type names.
pub fn parse_schema(text: &str) -> Result<StructType, IngestError> {
    let mut value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| IngestError::Config(format!("invalid schema JSON: {e}")))?;
    if let serde_json::Value::Object(map) = &mut value {
        map.entry("type").or_insert_with(|| "struct".into());
        if let Some(serde_json::Value::Array(fields)) = map.get_mut("fields") {
            for f in fields.iter_mut().filter_map(|f| f.as_object_mut()) {
                f.entry("nullable").or_insert(true.into());
                f.entry("metadata").or_insert_with(|| serde_json::json!({}));
            }
        }
    }
    StructType::from_json(&value.to_string()).map_err(|e| IngestError::Config(format!("invalid schema: {e}")))
}

impl Writer {
    async fn drive(
        &mut self,
        events: &mut mpsc::Receiver<Event>,
        shutdown: &AtomicBool,
        failed: &AtomicBool,
    ) -> Result<(), IngestError> {
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        loop {
            if failed.load(Ordering::SeqCst) {
                return Err(IngestError::Internal("the Kafka consumer stopped on an error".into()));
            }
            if shutdown.load(Ordering::SeqCst) {
                info!("shutting down: flushing what is buffered");
                return self.flush().await;
            }
            tokio::select! {
                event = events.recv() => match event {
                    None => return self.flush().await,
                    Some(Event::End) => {
                        info!("end of the topic reached: flushing and stopping");
                        return self.flush().await;
                    }
                    Some(event) => self.handle(event).await?,
                },
                _ = tick.tick() => {}
            }
            if self.due() {
                self.flush().await?;
            }
        }
    }

    fn due(&self) -> bool {
        self.count >= self.options.max_messages_per_batch
            || self.bytes >= self.options.min_bytes_per_file
            || self.bytes >= self.options.max_buffer_bytes / 2
            || self.oldest.is_some_and(|t| t.elapsed() >= self.options.allowed_latency)
    }

    async fn handle(&mut self, event: Event) -> Result<(), IngestError> {
        match event {
            Event::Message(m) => {
                Metrics::add(&self.metrics.messages_consumed, 1);
                let size = m.size();
                let Some(part) = self.parts.get_mut(&m.meta.partition) else {
                    self.gauge.release(size);
                    return Ok(());
                };
                if part.resetting || part.committed.is_some_and(|c| m.meta.offset <= c) {
                    self.gauge.release(size);
                    return Ok(());
                }
                part.bytes += size;
                part.messages.push(m);
                self.count += 1;
                self.bytes += size;
                self.oldest.get_or_insert_with(Instant::now);
                self.metrics
                    .buffered_messages
                    .store(self.count as u64, Ordering::Relaxed);
            }
            Event::Assigned(assigned) => {
                for (p, committed) in assigned {
                    let old = self.parts.insert(
                        p,
                        Partition {
                            committed,
                            ..Default::default()
                        },
                    );
                    self.forget(old);
                }
            }
            Event::Revoked(partitions, ack) => {
                for p in partitions {
                    let old = self.parts.remove(&p);
                    self.forget(old);
                }
                let _ = ack.send(());
            }
            Event::Reset(p) => {
                if let Some(part) = self.parts.get_mut(&p) {
                    part.resetting = false;
                }
            }
            Event::CaughtUp if self.count > 0 => self.flush().await?,
            Event::CaughtUp | Event::End => {}
        }
        Ok(())
    }

    /// Drop a partition's buffer from the totals.
    fn forget(&mut self, old: Option<Partition>) {
        if let Some(old) = old {
            self.count -= old.messages.len();
            self.bytes -= old.bytes;
            self.gauge.release(old.bytes);
        }
        if self.count == 0 {
            self.oldest = None;
        }
    }

    /// Move a partition back to what the table holds, dropping its buffer; without a stored or
    /// given offset, back to `first`, the first offset of the dropped batch.
    async fn reseek(&mut self, p: i32, first: i64) {
        let stored = match self.table.refresh().await {
            Ok(_) => self
                .table
                .snapshot()
                .txn(&txn_app_id(&self.options.app_id, p))
                .map(|t| t.version),
            Err(e) => {
                warn!(error = %e, "cannot refresh the table; retrying later");
                tokio::time::sleep(Duration::from_secs(1)).await;
                self.parts.get(&p).and_then(|part| part.committed)
            }
        };
        let target = stored
            .or_else(|| self.options.seek_offsets.get(&p).copied())
            .map_or(first, |v| v + 1);
        if let Some(part) = self.parts.get_mut(&p) {
            part.committed = stored;
            part.resetting = true;
        }
        info!(partition = p, offset = target, "seeking back to the table's offset");
        Metrics::add(&self.metrics.batches_retried, 1);
        let _ = self.commands.send(Command::Seek(p, target));
    }

    async fn flush(&mut self) -> Result<(), IngestError> {
        let mut ready = Vec::new();
        let mut released = HashMap::new();
        for (p, part) in &mut self.parts {
            if !part.messages.is_empty() {
                ready.push((*p, std::mem::take(&mut part.messages)));
                let bytes = std::mem::take(&mut part.bytes);
                released.insert(*p, bytes);
            }
        }
        (self.count, self.bytes, self.oldest) = (0, 0, None);
        self.metrics
            .buffered_messages
            .store(0, std::sync::atomic::Ordering::Relaxed);
        ready.sort_by_key(|(p, _)| *p);
        // Gunzip and transform, then parse and convert, on the blocking pool: partitions in
        // parallel. With --schema-evolution, the new fields are added to the table in between.
        let evolving = self.options.schema_evolution;
        let prepared = ready.into_iter().map(|(p, messages)| {
            let decoding = self.decoding.clone();
            tokio::task::spawn_blocking(move || {
                let prepared = decoding.prepare_all(&messages);
                let fields = evolving.then(|| decoding.new_fields(&prepared));
                (p, messages, prepared, fields)
            })
        });
        let prepared = futures::future::try_join_all(prepared)
            .await
            .map_err(|e| IngestError::Internal(e.to_string()))?;
        if evolving {
            self.evolve(
                prepared
                    .iter()
                    .filter_map(|(p, _, _, fields)| Some((*p, fields.as_ref()?))),
            )
            .await;
        }
        let decoded = prepared.into_iter().map(|(p, messages, prepared, _)| {
            let decoding = self.decoding.clone();
            tokio::task::spawn_blocking(move || {
                let first = messages.first().map_or(0, |m| m.meta.offset);
                let last = messages.last().map_or(-1, |m| m.meta.offset);
                ((p, first, last), decoding.decode(&messages, prepared))
            })
        });
        let decoded = futures::future::join_all(decoded).await;
        let mut batches = Vec::new();
        for result in decoded {
            let ((p, first, last), result) = result.map_err(|e| IngestError::Internal(e.to_string()))?;
            match result {
                Ok(d) => {
                    if self.write_dead_letters((p, first, last), d.dead).await {
                        batches.push(((p, first, last), d.batch));
                    }
                }
                Err(e) => {
                    warn!(partition = p, error = %e, "cannot convert the messages");
                    self.reseek(p, first).await;
                }
            }
        }
        self.commit(batches).await;
        // Committed or dropped: either way these bytes are no longer held.
        self.gauge.release(released.into_values().sum());
        Ok(())
    }

    /// `--schema-evolution`: add the new `fields` each partition's messages have (or why they
    /// could not be typed) to the table as nullable columns, and decode with the table's schema
    /// as it is now (another worker may have added some).
    async fn evolve<'a>(
        &mut self,
        fields: impl Iterator<Item = (i32, &'a Result<Vec<arrow::datatypes::Field>, arrow::error::ArrowError>)>,
    ) {
        let mut found: Vec<&arrow::datatypes::Field> = Vec::new();
        for (p, fields) in fields {
            match fields {
                Ok(fields) => {
                    for field in fields {
                        if !found.iter().any(|f| f.name().eq_ignore_ascii_case(field.name())) {
                            found.push(field);
                        }
                    }
                }
                Err(e) => warn!(partition = p, error = %e, "no schema evolution: the new fields' types conflict"),
            }
        }
        let columns: Vec<StructField> = found
            .iter()
            .filter_map(|f| match StructField::try_from_arrow(f) {
                Ok(column) => Some(column),
                Err(e) => {
                    warn!(field = f.name(), error = %e, "field not added to the table");
                    None
                }
            })
            .collect();
        if !columns.is_empty() {
            let names: Vec<&str> = columns.iter().map(|c| c.name.as_str()).collect();
            info!(?names, "adding the messages' new fields to the table");
            let added = self.table.alter().add_columns(columns).await;
            match added {
                Ok(table) => self.table = table,
                // Another worker may have added them first: the refresh below shows it.
                Err(e) => warn!(error = %e, "new columns not added"),
            }
        }
        if let Err(e) = self.table.refresh().await {
            warn!(error = %e, "cannot refresh the table's schema");
        }
        let schema = self.table.snapshot().arrow_schema().clone();
        if schema != self.decoding.schema {
            self.decoding = Arc::new(Decoding {
                schema,
                ..self.decoding.as_ref().clone()
            });
        }
    }

    /// Write a partition's dead letters (when there is a dead-letter table); false when they could
    /// not be, the partition then being read again.
    async fn write_dead_letters(&mut self, (p, first, last): (i32, i64, i64), dead: Vec<DeadLetter>) -> bool {
        if dead.is_empty() {
            return true;
        }
        Metrics::add(&self.metrics.dead_letters, dead.len() as u64);
        let Some(dlq) = &self.dlq else {
            for d in &dead {
                warn!(partition = p, offset = d.meta.offset, error = %d.error, "message skipped (no dead letter table)");
            }
            return true;
        };
        match dlq.write(&txn_app_id(&self.options.app_id, p), last, dead).await {
            Ok(()) => true,
            Err(e) => {
                warn!(partition = p, error = %e, "dead letters not written; reading the batch again");
                self.reseek(p, first).await;
                false
            }
        }
    }

    /// Commit the partitions' batches (each covering offsets `first..=last`) in one commit, with
    /// a `txn` per partition. A partition another writer moved is dropped and read again; when
    /// the commit fails, all are.
    async fn commit(&mut self, batches: Vec<((i32, i64, i64), RecordBatch)>) {
        if batches.is_empty() {
            return;
        }
        if let Err(e) = self.table.refresh().await {
            warn!(error = %e, "cannot refresh the table; reading the batches again");
            for ((p, first, _), _) in batches {
                self.reseek(p, first).await;
            }
            return;
        }
        let mut kept = Vec::with_capacity(batches.len());
        for ((p, first, last), batch) in batches {
            let stored = self
                .table
                .snapshot()
                .txn(&txn_app_id(&self.options.app_id, p))
                .map(|t| t.version);
            let expected = self.parts.get(&p).and_then(|part| part.committed);
            if stored == expected {
                kept.push(((p, first, last), batch));
            } else {
                warn!(
                    partition = p,
                    ?stored,
                    ?expected,
                    "another writer moved this partition; dropping the batch"
                );
                self.reseek(p, first).await;
            }
        }
        if kept.is_empty() {
            return;
        }
        let rows: usize = kept.iter().map(|(_, b)| b.num_rows()).sum();
        let mut write = WriteBuilder::from_table(self.table.clone());
        for ((p, _, last), _) in &kept {
            write = write.with_app_transaction(txn_app_id(&self.options.app_id, *p), *last);
        }
        let (ranges, batches): (Vec<_>, Vec<_>) = kept.into_iter().unzip();
        match write.with_batches(batches).execute().await {
            Ok(table) => {
                let offsets: Vec<(i32, i64)> = ranges.iter().map(|(p, _, last)| (*p, *last)).collect();
                info!(?offsets, rows, version = table.version(), "committed");
                self.table = table;
                Metrics::add(&self.metrics.commits, 1);
                Metrics::add(&self.metrics.rows_written, rows as u64);
                for (p, last) in &offsets {
                    if let Some(part) = self.parts.get_mut(p) {
                        part.committed = Some(*last);
                    }
                }
                let next = offsets.into_iter().map(|(p, last)| (p, last + 1)).collect();
                let _ = self.commands.send(Command::CommitOffsets(next));
            }
            Err(e) => {
                warn!(error = %e, "commit failed; reading the batches again");
                if e.kind() != deltalake::error::ErrorKind::CommitConflict {
                    tokio::time::sleep(Duration::from_secs(1)).await;
                }
                for (p, first, _) in ranges {
                    self.reseek(p, first).await;
                }
            }
        }
    }
}

impl Dlq {
    /// Write dead letters of one partition with its own `txn` (version = the batch's last offset),
    /// skipping those a previous run already wrote.
    async fn write(&self, app_id: &str, last: i64, mut dead: Vec<DeadLetter>) -> Result<(), IngestError> {
        let table = open_if_exists(&self.uri).await?;
        let stored = table.as_ref().and_then(|t| t.snapshot().txn(app_id)).map(|t| t.version);
        if let Some(stored) = stored {
            dead.retain(|d| d.meta.offset > stored);
        }
        if dead.is_empty() {
            return Ok(());
        }
        let schema = table
            .as_ref()
            .map_or_else(dead_letter_schema, |t| t.snapshot().arrow_schema().clone());
        let mut lines = Vec::with_capacity(dead.len());
        for d in &dead {
            let row = self
                .transformer
                .apply(d.to_json(), &d.meta)
                .map_err(|e| IngestError::Config(format!("dead letter transform: {e}")))?;
            if let Some(row) = row {
                lines.push(row.to_string().into_bytes());
            }
        }
        let batch = decode_json_lines(&schema, lines.iter().map(Vec::as_slice))?;
        let builder = match table {
            Some(t) => WriteBuilder::from_table(t),
            None => DeltaTable::write(&self.uri),
        };
        match builder
            .with_batches(vec![batch])
            .with_app_transaction(app_id, last)
            .execute()
            .await
        {
            Ok(_) | Err(DeltaError::TransactionAlreadyCommitted { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use deltalake::transaction::CommitProperties;

    #[test]
    fn a_missed_checkpoint_is_caught_up() {
        let dir = tempfile::tempdir().unwrap();
        let uri = dir.path().to_str().unwrap().to_string();
        let run = async {
            let batch = RecordBatch::try_from_iter([(
                "id",
                Arc::new(arrow::array::Int64Array::from(vec![1, 2])) as arrow::array::ArrayRef,
            )])
            .unwrap();
            // As a worker killed before its checkpoint leaves it: version 2, interval 2, none.
            let skip = CommitProperties {
                auto_checkpoint: false,
                ..Default::default()
            };
            let configuration = HashMap::from([("delta.checkpointInterval".to_string(), "2".to_string())]);
            let mut table = DeltaTable::write(&uri)
                .with_batches(vec![batch.clone()])
                .with_configuration(configuration)
                .await?;
            for _ in 0..2 {
                table = WriteBuilder::from_table(table)
                    .with_batches(vec![batch.clone()])
                    .with_commit_properties(skip.clone())
                    .await?;
            }
            assert_eq!(table.version(), 2);
            assert_eq!(last_checkpoint(&table).await.unwrap(), -1);
            catch_up_checkpoint(&table).await;
            assert_eq!(last_checkpoint(&table).await.unwrap(), 2);
            Ok::<_, DeltaError>(())
        };
        deltalake::bindings::block_on(run).unwrap().unwrap();
    }
}
