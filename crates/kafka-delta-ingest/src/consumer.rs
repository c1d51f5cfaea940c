//! The polling side: a thread of its own that owns the Kafka consumer, resolves each assigned
//! partition's start offset from the table, and hands messages to the writer through a bounded
//! channel, so polling never waits for a write.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc as std_mpsc;
use std::time::{Duration, Instant};

use rdkafka::config::{ClientConfig, RDKafkaLogLevel};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer, ConsumerContext, RebalanceProtocol};
use rdkafka::error::KafkaError;
use rdkafka::message::{Headers, Message as _};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::types::RDKafkaRespErr;
use rdkafka::{ClientContext, Timestamp};
use tokio::sync::mpsc;
use tracing::{debug, info, warn};

use crate::cli::{AutoOffsetReset, IngestOptions};
use crate::decode::Message;
use crate::error::IngestError;
use crate::transform::MessageMeta;

/// What the polling thread tells the writer, in order.
#[derive(Debug)]
pub enum Event {
    /// A message.
    Message(Message),
    /// Partitions assigned, with the table's stored version (last offset written) of each.
    Assigned(Vec<(i32, Option<i64>)>),
    /// Partitions revoked: drop their buffers, then acknowledge.
    Revoked(Vec<i32>, std_mpsc::Sender<()>),
    /// A partition was moved back (after a commit conflict): messages from now on follow the seek.
    Reset(i32),
    /// The assigned partitions reached their latest offsets but others of the topic have not
    /// (`-e`): commit what is buffered now, so that other workers waiting on it can end too.
    CaughtUp,
    /// Every partition reached its latest offset (`-e`).
    End,
}

/// What the writer asks of the polling thread.
#[derive(Debug)]
pub enum Command {
    /// Move a partition to this offset.
    Seek(i32, i64),
    /// Commit these next offsets to the group.
    CommitOffsets(Vec<(i32, i64)>),
}

/// Reads the stored version of partitions: `<app_id>-<partition>` in the table's `txn` actions.
pub type OffsetLookup = Arc<dyn Fn(&[i32]) -> Result<HashMap<i32, i64>, IngestError> + Send + Sync>;

struct Context {
    topic: String,
    seek_offsets: HashMap<i32, i64>,
    reset: AutoOffsetReset,
    lookup: OffsetLookup,
    events: mpsc::Sender<Event>,
    failed: Arc<AtomicBool>,
    /// Partitions assigned since the polling loop last looked: their end, if seen before, is
    /// no longer known (they start again from the table's offsets).
    assigned: std::sync::Mutex<Vec<i32>>,
}

impl ClientContext for Context {
    fn error(&self, error: KafkaError, reason: &str) {
        // Reaching a partition's end is how `-e` knows it is done, not an error.
        let eof = rdkafka::error::RDKafkaErrorCode::PartitionEOF;
        if !matches!(error, KafkaError::PartitionEOF(_)) && error.rdkafka_error_code() != Some(eof) {
            warn!(%error, reason, "kafka");
        }
    }
}

impl ConsumerContext for Context {
    fn rebalance(&self, consumer: &BaseConsumer<Self>, err: RDKafkaRespErr, tpl: &mut TopicPartitionList) {
        let cooperative = matches!(consumer.rebalance_protocol(), RebalanceProtocol::Cooperative);
        let partitions: Vec<i32> = tpl.elements().iter().map(|e| e.partition()).collect();
        match err {
            RDKafkaRespErr::RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS => {
                let stored = match (self.lookup)(&partitions) {
                    Ok(stored) => stored,
                    Err(e) => {
                        // Without the table's offsets nothing can be written safely: stop.
                        warn!(error = %e, "cannot read the stored offsets; stopping");
                        self.failed.store(true, Ordering::SeqCst);
                        return;
                    }
                };
                for &p in &partitions {
                    let offset = match (stored.get(&p), self.seek_offsets.get(&p)) {
                        (Some(v), _) | (None, Some(v)) => Offset::Offset(v + 1),
                        (None, None) => match self.reset {
                            AutoOffsetReset::Earliest => Offset::Beginning,
                            AutoOffsetReset::Latest => Offset::End,
                        },
                    };
                    info!(partition = p, ?offset, "assigned");
                    if let Err(e) = tpl.set_partition_offset(&self.topic, p, offset) {
                        warn!(error = %e, "cannot set the start offset");
                    }
                }
                self.assigned
                    .lock()
                    .unwrap_or_else(std::sync::PoisonError::into_inner)
                    .extend(&partitions);
                let assigned = partitions.iter().map(|p| (*p, stored.get(p).copied())).collect();
                if self.events.blocking_send(Event::Assigned(assigned)).is_err() {
                    return;
                }
                let result = if cooperative {
                    consumer.incremental_assign(tpl)
                } else {
                    consumer.assign(tpl)
                };
                if let Err(e) = result {
                    warn!(error = %e, "assign failed");
                }
            }
            _ => {
                let (ack, acked) = std_mpsc::channel();
                if self
                    .events
                    .blocking_send(Event::Revoked(partitions.clone(), ack))
                    .is_ok()
                {
                    // The writer finishes any commit in flight before acknowledging, so the next
                    // owner of these partitions reads the table after it.
                    let _ = acked.recv();
                }
                info!(?partitions, "revoked");
                let result = if cooperative {
                    consumer.incremental_unassign(tpl)
                } else {
                    consumer.unassign()
                };
                if let Err(e) = result {
                    warn!(error = %e, "unassign failed");
                }
            }
        }
    }
}

/// The consumer configuration of the options.
fn client_config(options: &IngestOptions) -> ClientConfig {
    let mut config = ClientConfig::new();
    config
        .set("bootstrap.servers", &options.brokers)
        .set("group.id", &options.consumer_group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set(
            "auto.offset.reset",
            match options.auto_offset_reset {
                AutoOffsetReset::Earliest => "earliest",
                AutoOffsetReset::Latest => "latest",
            },
        )
        .set_log_level(RDKafkaLogLevel::Warning);
    for (var, key) in [
        ("KAFKA_DELTA_INGEST_CERT", "ssl.certificate.location"),
        ("KAFKA_DELTA_INGEST_KEY", "ssl.key.location"),
        ("KAFKA_DELTA_INGEST_CA", "ssl.ca.location"),
    ] {
        if let Ok(path) = std::env::var(var) {
            config.set("security.protocol", "SSL").set(key, path);
        }
    }
    if let Ok(scram) = std::env::var("KAFKA_DELTA_INGEST_SCRAM_JSON")
        && let Ok(serde_json::Value::Object(fields)) = serde_json::from_str::<serde_json::Value>(&scram)
    {
        config
            .set("security.protocol", "SASL_SSL")
            .set("sasl.mechanisms", "SCRAM-SHA-512");
        for (k, key) in [("username", "sasl.username"), ("password", "sasl.password")] {
            if let Some(v) = fields.get(k).and_then(|v| v.as_str()) {
                config.set(key, v);
            }
        }
    }
    for (k, v) in &options.kafka_settings {
        config.set(k, v);
    }
    config
}

/// Bytes of payloads between polling and their commit, shared by the two sides: above the
/// bound the polling thread pauses its partitions (it keeps polling, so it stays in the group),
/// and resumes them below half of it.
#[derive(Debug)]
pub struct BufferGauge {
    /// Bytes held now.
    pub bytes: std::sync::atomic::AtomicUsize,
    /// The bound.
    pub max: usize,
}

impl BufferGauge {
    /// Count `n` more bytes.
    pub fn add(&self, n: usize) {
        self.bytes.fetch_add(n, Ordering::SeqCst);
    }

    /// Count `n` bytes released.
    pub fn release(&self, n: usize) {
        // Never below zero, whatever the order of the two sides.
        let _ = self
            .bytes
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |b| Some(b.saturating_sub(n)));
    }

    fn held(&self) -> usize {
        self.bytes.load(Ordering::SeqCst)
    }
}

/// The polling thread, started.
pub struct Poller {
    /// Ask it to stop (SIGTERM, or the writer ending).
    pub stop: Arc<AtomicBool>,
    /// Set when it stopped on an error.
    pub failed: Arc<AtomicBool>,
    /// Its thread.
    pub handle: std::thread::JoinHandle<()>,
}

/// Subscribe and start polling on a thread of its own.
pub fn start(
    options: &IngestOptions,
    lookup: OffsetLookup,
    events: mpsc::Sender<Event>,
    commands: std_mpsc::Receiver<Command>,
    gauge: Arc<BufferGauge>,
) -> Result<Poller, IngestError> {
    let stop = Arc::new(AtomicBool::new(false));
    let failed = Arc::new(AtomicBool::new(false));
    let context = Context {
        topic: options.topic.clone(),
        seek_offsets: options.seek_offsets.clone(),
        reset: options.auto_offset_reset,
        lookup,
        events: events.clone(),
        failed: failed.clone(),
        assigned: Default::default(),
    };
    let consumer: BaseConsumer<Context> = client_config(options).create_with_context(context)?;
    consumer.subscribe(&[&options.topic])?;
    let topic = options.topic.clone();
    let end = options.end_at_latest_offsets;
    let (stop2, failed2) = (stop.clone(), failed.clone());
    let handle = std::thread::Builder::new()
        .name("kafka-poll".into())
        .spawn(move || {
            let channels = Channels {
                events,
                commands,
                gauge,
            };
            poll_loop(&consumer, &topic, end, &channels, &stop2, &failed2)
        })
        .map_err(|e| IngestError::Internal(format!("cannot start the polling thread: {e}")))?;
    Ok(Poller { stop, failed, handle })
}

fn meta_of(topic: &str, m: &rdkafka::message::BorrowedMessage<'_>) -> MessageMeta {
    let (timestamp_ms, timestamp_type) = match m.timestamp() {
        Timestamp::NotAvailable => (None, 0),
        Timestamp::CreateTime(t) => (Some(t), 1),
        Timestamp::LogAppendTime(t) => (Some(t), 2),
    };
    let headers = m.headers().map_or_else(Vec::new, |h| {
        h.iter()
            .map(|h| {
                (
                    h.key.to_string(),
                    h.value.map(|v| String::from_utf8_lossy(v).into_owned()),
                )
            })
            .collect()
    });
    MessageMeta {
        topic: topic.to_string(),
        partition: m.partition(),
        offset: m.offset(),
        timestamp_ms,
        timestamp_type,
        key: m.key().map(|k| String::from_utf8_lossy(k).into_owned()),
        headers,
    }
}

struct Channels {
    events: mpsc::Sender<Event>,
    commands: std_mpsc::Receiver<Command>,
    gauge: Arc<BufferGauge>,
}

fn poll_loop(
    consumer: &BaseConsumer<Context>,
    topic: &str,
    end: bool,
    channels: &Channels,
    stop: &AtomicBool,
    failed: &AtomicBool,
) {
    let Channels {
        events,
        commands,
        gauge,
    } = channels;
    let mut paused = false;
    let mut at_end: HashSet<i32> = HashSet::new();
    let mut ended = false;
    let mut last_end_check = Instant::now();
    let mut caught_up = false;
    while !stop.load(Ordering::SeqCst) && !failed.load(Ordering::SeqCst) {
        while let Ok(command) = commands.try_recv() {
            match command {
                Command::Seek(p, offset) => {
                    if let Err(e) = consumer.seek(topic, p, Offset::Offset(offset), Duration::from_secs(10)) {
                        warn!(partition = p, error = %e, "seek failed");
                    }
                    at_end.remove(&p);
                    if events.blocking_send(Event::Reset(p)).is_err() {
                        return;
                    }
                }
                Command::CommitOffsets(offsets) => {
                    let mut tpl = TopicPartitionList::new();
                    for (p, o) in offsets {
                        let _ = tpl.add_partition_offset(topic, p, Offset::Offset(o));
                    }
                    if let Err(e) = consumer.commit(&tpl, CommitMode::Sync) {
                        warn!(error = %e, "committing offsets to Kafka failed (the table keeps them)");
                    }
                }
            }
        }
        let held = gauge.held();
        let toggle = if paused { held < gauge.max / 2 } else { held > gauge.max };
        if toggle && let Ok(assignment) = consumer.assignment() {
            let result = if paused {
                consumer.resume(&assignment)
            } else {
                consumer.pause(&assignment)
            };
            match result {
                Ok(()) => {
                    paused = !paused;
                    info!(paused, held, "back-pressure");
                }
                Err(e) => warn!(error = %e, "pause/resume failed"),
            }
        }
        if ended {
            // Only the writer's last commands are served now.
            std::thread::sleep(Duration::from_millis(20));
            continue;
        }
        match consumer.poll(Duration::from_millis(100)) {
            None => {}
            Some(Ok(m)) => {
                at_end.remove(&m.partition());
                caught_up = false;
                let message = Message {
                    meta: meta_of(topic, &m),
                    payload: m.payload().map(<[u8]>::to_vec),
                };
                gauge.add(message.size());
                if events.blocking_send(Event::Message(message)).is_err() {
                    return;
                }
            }
            Some(Err(KafkaError::PartitionEOF(p))) => {
                at_end.insert(p);
            }
            Some(Err(e)) => warn!(error = %e, "kafka"),
        }
        for p in consumer
            .context()
            .assigned
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .drain(..)
        {
            at_end.remove(&p);
        }
        if end
            && last_end_check.elapsed() >= Duration::from_millis(500)
            && let Ok(assignment) = consumer.assignment()
        {
            last_end_check = Instant::now();
            let assigned: HashSet<i32> = assignment.elements().iter().map(|e| e.partition()).collect();
            if !assigned.is_empty() && assigned.is_subset(&at_end) {
                if others_done(consumer, topic, &assigned) {
                    info!("every partition is at its latest offset");
                    let _ = events.blocking_send(Event::End);
                    ended = true;
                } else if !caught_up {
                    debug!("the assigned partitions are at their end; others of the topic are not yet");
                    caught_up = true;
                    if events.blocking_send(Event::CaughtUp).is_err() {
                        return;
                    }
                }
            }
        }
    }
    consumer.unsubscribe();
}

/// Whether every partition of `topic` outside `assigned` has been written to its end by the
/// group: the table's stored offset has reached the partition's high watermark, or it is empty.
/// A worker told to end at the latest offsets must not stop while partitions are still held by
/// members that died: once their session times out, those come to it.
fn others_done(consumer: &BaseConsumer<Context>, topic: &str, assigned: &HashSet<i32>) -> bool {
    let timeout = Duration::from_secs(5);
    let Ok(metadata) = consumer.fetch_metadata(Some(topic), timeout) else {
        return false;
    };
    let Some(described) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return false;
    };
    let others: Vec<i32> = (described.partitions().iter().map(|p| p.id()))
        .filter(|p| !assigned.contains(p))
        .collect();
    if others.is_empty() {
        return true;
    }
    let Ok(stored) = (consumer.context().lookup)(&others) else {
        return false;
    };
    others.iter().all(|p| {
        let Ok((low, high)) = consumer.fetch_watermarks(topic, *p, timeout) else {
            return false;
        };
        high <= low || stored.get(p).is_some_and(|last| last + 1 >= high)
    })
}
