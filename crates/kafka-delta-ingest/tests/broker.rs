//! End-to-end tests against a real Kafka broker (KRaft, single node): `scripts/test-kafka.sh`
//! starts it and sets `KDI_TEST_BROKERS`. Ignored without it (`cargo test --workspace`).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashMap};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use arrow::array::{Array, AsArray, RecordBatch};
use arrow::datatypes::{Int32Type, Int64Type};
use deltalake::DeltaTable;
use deltalake::bindings::block_on;
use rdkafka::ClientConfig;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::producer::{BaseRecord, DefaultProducerContext, Producer, ThreadedProducer};

const BIN: &str = env!("CARGO_BIN_EXE_kafka-delta-ingest");

fn brokers() -> String {
    std::env::var("KDI_TEST_BROKERS").expect("KDI_TEST_BROKERS: run scripts/test-kafka.sh")
}

/// A fresh topic of 3 partitions and a table with its schema.
struct Fixture {
    topic: String,
    dir: tempfile::TempDir,
}

const SCHEMA: &str = r#"{"fields":[
  {"name":"id","type":"long"},{"name":"name","type":"string"},{"name":"amount","type":"double"},
  {"name":"at","type":"timestamp"},{"name":"kafka_offset","type":"long"},{"name":"kafka_partition","type":"integer"},
  {"name":"kafka_key","type":"string"}]}"#;

impl Fixture {
    fn new(name: &str) -> Self {
        let topic = format!("{name}-{}", std::process::id());
        let admin: AdminClient<DefaultClientContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers())
            .create()
            .unwrap();
        let new = NewTopic::new(&topic, 3, TopicReplication::Fixed(1));
        let results = block_on(admin.create_topics([&new], &AdminOptions::new()))
            .unwrap()
            .unwrap();
        for r in results {
            r.unwrap();
        }
        Fixture {
            topic,
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn table(&self) -> String {
        self.dir.path().join("table").to_str().unwrap().to_string()
    }

    fn dlq(&self) -> String {
        self.dir.path().join("dlq").to_str().unwrap().to_string()
    }

    /// Produce messages with ids `ids`, spread over the 3 partitions by id.
    fn produce(&self, ids: std::ops::Range<i64>) {
        self.produce_raw(ids.map(|id| (id, good(id).into_bytes())));
    }

    fn produce_raw(&self, messages: impl IntoIterator<Item = (i64, Vec<u8>)>) {
        let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
            .set("bootstrap.servers", brokers())
            .set("linger.ms", "5")
            .create()
            .unwrap();
        for (id, payload) in messages {
            let key = format!("k{id}");
            let mut record = BaseRecord::to(&self.topic)
                .payload(&payload)
                .key(&key)
                .partition((id % 3) as i32);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((_, r)) => {
                        record = r;
                        std::thread::sleep(Duration::from_millis(5));
                    }
                }
            }
        }
        producer.flush(Duration::from_secs(30)).unwrap();
    }

    fn command(&self, group: &str, extra: &[&str]) -> Command {
        self.command_for(&self.table(), group, extra)
    }

    /// The daemon writing to the table at `table`.
    fn command_for(&self, table: &str, group: &str, extra: &[&str]) -> Command {
        let mut cmd = Command::new(BIN);
        cmd.args(["ingest", &self.topic, table, "-k", &brokers(), "-g", group, "-a", "app"])
            .args(["--create-table", SCHEMA])
            .args([
                "-t",
                "kafka_offset: kafka.offset",
                "kafka_partition: kafka.partition",
                "kafka_key: kafka.key",
            ])
            .args(extra)
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        cmd
    }

    /// Run to the topic's end and check it succeeded.
    fn ingest_to_end(&self, group: &str, extra: &[&str]) {
        let mut args = vec!["-e", "-l", "2"];
        args.extend_from_slice(extra);
        let status = self.command(group, &args).status().unwrap();
        assert!(status.success(), "ingest failed: {status}");
    }
}

fn good(id: i64) -> String {
    format!(
        r#"{{"id":{id},"name":"n{id}","amount":{}.5,"at":"2024-01-02T03:04:05Z","ignored":[1,2]}}"#,
        id
    )
}

fn read(uri: &str) -> (DeltaTable, Vec<RecordBatch>) {
    read_with(uri, &HashMap::new())
}

/// The table at `uri` opened with storage `options`, and its rows.
fn read_with(uri: &str, options: &HashMap<String, String>) -> (DeltaTable, Vec<RecordBatch>) {
    block_on(async {
        let table = DeltaTable::builder(uri)
            .with_storage_options(options.clone())
            .load()
            .await?;
        let batches = table.scan().build()?.collect().await?;
        Ok::<_, deltalake::DeltaError>((table, batches))
    })
    .unwrap()
    .unwrap()
}

/// id → (partition, offset) of every row, asserting no id appears twice.
fn rows(uri: &str, options: &HashMap<String, String>) -> BTreeMap<i64, (i32, i64)> {
    let (_, batches) = read_with(uri, options);
    let mut out = BTreeMap::new();
    for b in &batches {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let parts = b.column_by_name("kafka_partition").unwrap().as_primitive::<Int32Type>();
        let offsets = b.column_by_name("kafka_offset").unwrap().as_primitive::<Int64Type>();
        let names = b.column_by_name("name").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            assert_eq!(names.value(i), format!("n{}", ids.value(i)));
            let previous = out.insert(ids.value(i), (parts.value(i), offsets.value(i)));
            assert!(previous.is_none(), "id {} written twice", ids.value(i));
        }
    }
    out
}

fn txn_versions(uri: &str, options: &HashMap<String, String>) -> HashMap<String, i64> {
    let (table, _) = read_with(uri, options);
    table
        .snapshot()
        .txns()
        .iter()
        .map(|(k, t)| (k.clone(), t.version))
        .collect()
}

fn assert_exactly(uri: &str, n: i64) {
    assert_exactly_with(uri, n, &HashMap::new());
}

/// Every id below `n` once, at its offset, and the txn versions at the partitions' last offsets.
fn assert_exactly_with(uri: &str, n: i64, options: &HashMap<String, String>) {
    let rows = rows(uri, options);
    assert_eq!(rows.len() as i64, n, "rows in the table");
    assert_eq!(rows.keys().copied().collect::<Vec<_>>(), (0..n).collect::<Vec<_>>());
    // Each partition's offsets are dense from 0 and the stored txn version is the last of them.
    let mut last: HashMap<i32, i64> = HashMap::new();
    for (id, (p, o)) in &rows {
        assert_eq!(*p as i64, id % 3);
        assert_eq!(*o, id / 3, "id {id} at the wrong offset");
        let e = last.entry(*p).or_insert(-1);
        *e = (*e).max(*o);
    }
    let txns = txn_versions(uri, options);
    for (p, o) in last {
        assert_eq!(txns.get(&format!("app-{p}")), Some(&o), "txn of partition {p}");
    }
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn every_message_exactly_once_with_its_values() {
    let f = Fixture::new("values");
    f.produce(0..3000);
    f.ingest_to_end("g-values", &["-m", "700"]);
    assert_exactly(&f.table(), 3000);
    let (table, batches) = read(&f.table());
    let b = &batches[0];
    let amounts = b
        .column_by_name("amount")
        .unwrap()
        .as_primitive::<arrow::datatypes::Float64Type>();
    let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
    assert_eq!(amounts.value(0), ids.value(0) as f64 + 0.5);
    let at = b.column_by_name("at").unwrap();
    assert_eq!(at.null_count(), 0);
    let keys = b.column_by_name("kafka_key").unwrap().as_string::<i32>();
    assert_eq!(keys.value(0), format!("k{}", ids.value(0)));
    // Flushed by count: several commits.
    assert!(table.version() >= 3, "version {}", table.version());
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn a_restart_continues_where_the_table_stops() {
    let f = Fixture::new("restart");
    f.produce(0..600);
    f.ingest_to_end("g-restart", &[]);
    assert_exactly(&f.table(), 600);
    // One flush, so one commit holding the rows and the txn of each partition.
    let (table, _) = read(&f.table());
    assert_eq!(table.version(), 1);
    let commits = block_on(table.commits_after(0)).unwrap().unwrap();
    let txns = commits[0]
        .actions
        .iter()
        .filter(|a| matches!(a, deltalake::protocol::Action::Txn(_)))
        .count();
    assert_eq!(txns, 3);
    f.produce(600..1500);
    // Another group: the start offsets come from the table, not from Kafka's committed offsets.
    f.ingest_to_end("g-restart-2", &[]);
    assert_exactly(&f.table(), 1500);
    // Nothing new: a run changes nothing.
    let version = read(&f.table()).0.version();
    f.ingest_to_end("g-restart-3", &[]);
    assert_eq!(read(&f.table()).0.version(), version);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn seek_offsets_and_auto_offset_reset() {
    let f = Fixture::new("seek");
    f.produce(0..90);
    f.ingest_to_end("g-seek", &["--seek_offsets", r#"{"0":9,"1":19}"#]);
    let got = rows(&f.table(), &HashMap::new());
    // Partition 0 from offset 10, partition 1 from 20, partition 2 from the start.
    let per_partition = |p: i32| got.values().filter(|(q, _)| *q == p).count();
    assert_eq!((per_partition(0), per_partition(1), per_partition(2)), (20, 10, 30));
    assert!(got.values().all(|(p, o)| match p {
        0 => *o >= 10,
        1 => *o >= 20,
        _ => true,
    }));

    let latest = Fixture::new("latest");
    latest.produce(0..30);
    latest.ingest_to_end("g-latest", &["-o", "latest"]);
    assert!(
        !std::path::Path::new(&latest.table()).join("_delta_log").exists()
            || rows(&latest.table(), &HashMap::new()).is_empty()
    );
}

fn kill(child: &mut Child) {
    let _ = Command::new("kill").args(["-9", &child.id().to_string()]).status();
    let _ = child.wait();
}

/// Three workers in one group; at random moments one of them is killed with SIGKILL (mid-write
/// or mid-commit, whatever it was doing) and a new one joins, so partitions move between live
/// workers; at the end every offset must be in the table once.
fn kill_scenario(name: &str, n: i64, rounds: u32, strategy: &str) {
    let f = Fixture::new(name);
    // Half first, the rest while workers are being killed, so that they are always busy.
    let mut produced = n / 2;
    f.produce(0..produced);
    let mut rng = (std::process::id() as u64) | 1;
    let mut next = move |max: u64| {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng % max
    };
    let group = format!("g-{}", f.topic);
    // Dead members leave the group after the session timeout: keep it short.
    let strategy = format!("partition.assignment.strategy={strategy}");
    let args = [
        "-m",
        "100",
        "-l",
        "1",
        "-K",
        "session.timeout.ms=6000",
        "heartbeat.interval.ms=500",
        &strategy,
    ];
    let mut workers: Vec<Child> = (0..3).map(|_| f.command(&group, &args).spawn().unwrap()).collect();
    for round in 0..rounds as i64 {
        let upto = n / 2 + (n - n / 2) * (round + 1) / rounds as i64;
        f.produce(produced..upto);
        produced = upto;
        std::thread::sleep(Duration::from_millis(2000 + next(3000)));
        let victim = next(workers.len() as u64) as usize;
        kill(&mut workers[victim]);
        workers[victim] = f.command(&group, &args).spawn().unwrap();
    }
    for w in &mut workers {
        kill(w);
    }
    let written = rows(&f.table(), &HashMap::new()).len() as i64;
    assert!(written > 0, "the killed workers wrote nothing");
    eprintln!("{name}: the killed workers wrote {written} of {n} rows");
    f.ingest_to_end(&group, &args[4..]);
    assert_exactly(&f.table(), n);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn workers_killed_with_sigkill_lose_and_repeat_nothing() {
    kill_scenario("kill", 30_000, 6, "range");
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn an_ending_worker_waits_for_the_partitions_of_a_member_that_died() {
    // A holds every partition, buffering for 30 s; W joins with -e and gets a share; then A dies
    // with its partitions unwritten. W must not stop at the end of its own share: once A's session
    // times out, A's partitions come to W, and only when they are written may W end.
    let f = Fixture::new("end-wait");
    f.produce(0..300);
    let group = "g-end-wait";
    let session = ["-K", "session.timeout.ms=6000", "heartbeat.interval.ms=500"];
    let mut a = f
        .command(group, &[&["-l", "30"][..], &session].concat())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    let mut w = f
        .command(group, &[&["-e", "-l", "1"][..], &session].concat())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(4));
    kill(&mut a);
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(status) = w.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(90),
            "the ending worker never ended"
        );
        std::thread::sleep(Duration::from_millis(200));
    };
    assert!(status.success(), "{status}");
    assert_exactly(&f.table(), 300);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn ending_workers_sharing_the_topic_end_without_waiting_for_the_latency() {
    // Each has its share at its end and waits for the other's share to be in the table: what they
    // buffered is committed as soon as they are caught up, not after the allowed minute.
    let f = Fixture::new("end-shared");
    f.produce(0..300);
    let started = std::time::Instant::now();
    let mut workers: Vec<Child> = (0..2)
        .map(|_| f.command("g-end-shared", &["-e", "-l", "60"]).spawn().unwrap())
        .collect();
    for w in &mut workers {
        assert!(w.wait().unwrap().success());
    }
    assert!(
        started.elapsed() < Duration::from_secs(45),
        "ended after {:?}",
        started.elapsed()
    );
    assert_exactly(&f.table(), 300);
}

/// The kill test, longer: `KDI_KILL_LOOPS` scenarios of 20 kills each, eager and
/// cooperative-sticky rebalancing in turn (run by name).
#[test]
#[ignore = "a long soak test: run it by name"]
fn soak_kill_loop() {
    let loops: u32 = std::env::var("KDI_KILL_LOOPS").map_or(5, |v| v.parse().unwrap());
    for i in 0..loops {
        let strategy = if i % 2 == 0 { "cooperative-sticky" } else { "range" };
        kill_scenario(&format!("soak{i}"), 60_000, 20, strategy);
    }
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn dead_letters_once_with_their_coordinates() {
    let f = Fixture::new("dlq");
    let mut messages: Vec<(i64, Vec<u8>)> = (0..60).map(|id| (id, good(id).into_bytes())).collect();
    // Malformed JSON and a type mismatch, on partitions 0 and 1.
    messages.push((60, b"{not json".to_vec()));
    messages.push((61, br#"{"id":"sixty-one"}"#.to_vec()));
    f.produce_raw(messages);
    f.ingest_to_end("g-dlq", &["--dlq_table_location", &f.dlq()]);
    let count = |uri: &str| read(uri).1.iter().map(RecordBatch::num_rows).sum::<usize>();
    assert_eq!(count(&f.table()), 60);
    let (_, dead) = read(&f.dlq());
    let dead = arrow::compute::concat_batches(&dead[0].schema(), &dead).unwrap();
    assert_eq!(dead.num_rows(), 2);
    let mut found: Vec<(i32, i64, String)> = (0..2)
        .map(|i| {
            let p = dead
                .column_by_name("kafka_partition")
                .unwrap()
                .as_primitive::<Int32Type>()
                .value(i);
            let o = dead
                .column_by_name("kafka_offset")
                .unwrap()
                .as_primitive::<Int64Type>()
                .value(i);
            let e = dead
                .column_by_name("error")
                .unwrap()
                .as_string::<i32>()
                .value(i)
                .to_string();
            (p, o, e)
        })
        .collect();
    found.sort();
    assert_eq!((found[0].0, found[0].1), (0, 20));
    assert!(found[0].2.contains("malformed"), "{}", found[0].2);
    assert_eq!((found[1].0, found[1].1), (1, 20));
    let base64 = dead.column_by_name("base64_bytes").unwrap();
    let json = dead.column_by_name("json_string").unwrap();
    assert_eq!(
        base64.null_count() + json.null_count(),
        2,
        "one of bytes or JSON per dead letter"
    );

    // Lose the main table (as a crash between the two commits would lose its commit) and read
    // everything again: the DLQ's own txn keeps the dead letters from being written twice.
    std::fs::remove_dir_all(f.table()).unwrap();
    f.ingest_to_end("g-dlq", &["--dlq_table_location", &f.dlq()]);
    assert_eq!(count(&f.table()), 60);
    assert_eq!(count(&f.dlq()), 2);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn takes_over_a_table_fed_by_the_original_daemon() {
    use deltalake::operations::write::WriteBuilder;
    use kafka_delta_ingest::decode::decode_json_lines;
    use kafka_delta_ingest::ingest::parse_schema;

    let f = Fixture::new("takeover");
    f.produce(0..300);
    // What the original leaves: rows of offsets 0..=9 of each partition, and `txn` actions
    // `<app_id>-<partition>` whose version is the last offset written.
    let schema = std::sync::Arc::new(parse_schema(SCHEMA).unwrap().to_arrow().unwrap());
    let mut table: Option<DeltaTable> = None;
    for p in 0..3i64 {
        let lines: Vec<Vec<u8>> = (0..10)
            .map(|o| {
                let id = o * 3 + p;
                let mut v: serde_json::Value = serde_json::from_str(&good(id)).unwrap();
                v["kafka_offset"] = o.into();
                v["kafka_partition"] = p.into();
                v["kafka_key"] = format!("k{id}").into();
                v.to_string().into_bytes()
            })
            .collect();
        let batch = decode_json_lines(&schema, lines.iter().map(Vec::as_slice)).unwrap();
        let builder = match table.take() {
            Some(t) => WriteBuilder::from_table(t),
            None => DeltaTable::write(f.table()),
        };
        let write = builder
            .with_batches(vec![batch])
            .with_app_transaction(format!("app-{p}"), 9);
        table = Some(block_on(write.execute()).unwrap().unwrap());
    }
    f.ingest_to_end("g-takeover", &[]);
    assert_exactly(&f.table(), 300);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn sigterm_flushes_what_is_buffered() {
    let f = Fixture::new("sigterm");
    f.produce(0..900);
    // Nothing would flush for 5 minutes: only the shutdown can commit these rows.
    let mut worker = f.command("g-sigterm", &["-l", "300"]).spawn().unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    std::thread::sleep(Duration::from_secs(4));
    let _ = Command::new("kill").args(["-TERM", &worker.id().to_string()]).status();
    let status = loop {
        if let Some(status) = worker.try_wait().unwrap() {
            break status;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the worker did not stop on SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    assert!(status.success(), "{status}");
    assert_exactly(&f.table(), 900);
}

/// How long after now the table holds `n` rows (20 s at most).
fn visible_after(f: &Fixture, n: usize) -> Duration {
    let since = std::time::Instant::now();
    loop {
        let done = std::path::Path::new(&f.table()).join("_delta_log").exists()
            && rows(&f.table(), &HashMap::new()).len() == n;
        if done || since.elapsed() > Duration::from_secs(20) {
            return since.elapsed();
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// CPU seconds (user and system) of this process's children that have been waited for.
fn children_cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap();
    // Fields after the command's closing parenthesis start at the third (state); cutime and
    // cstime are the 16th and 17th, in clock ticks.
    let fields: Vec<&str> = stat.rsplit_once(')').unwrap().1.split_whitespace().collect();
    let ticks: f64 = fields[13].parse::<f64>().unwrap() + fields[14].parse::<f64>().unwrap();
    let output = Command::new("getconf").arg("CLK_TCK").output().unwrap();
    let per_second: f64 = String::from_utf8(output.stdout).unwrap().trim().parse().unwrap();
    ticks / per_second
}

/// The benchmark (not a pass/fail test): `KDI_BENCH_MESSAGES` 1 KB JSON messages produced first,
/// then read three ways: only consumed (a bare consumer), only parsed (the daemon's JSON decoder
/// into the table's schema, one thread), and ingested to the end by one worker, whose CPU time
/// per message is measured too; then the end-to-end latency of a worker running with `-l 1`.
/// Build with `--release` for real figures (see the README).
#[test]
#[ignore = "a benchmark: run it by name"]
fn bench_one_worker() {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let n: i64 = std::env::var("KDI_BENCH_MESSAGES").map_or(200_000, |v| v.parse().unwrap());
    let f = Fixture::new("bench");
    let pad = "x".repeat(860);
    let messages: Vec<(i64, Vec<u8>)> = (0..n)
        .map(|id| {
            let mut v: serde_json::Value = serde_json::from_str(&good(id)).unwrap();
            v["pad"] = pad.clone().into();
            (id, v.to_string().into_bytes())
        })
        .collect();
    let bytes: usize = messages.iter().map(|(_, m)| m.len()).sum();
    let started = std::time::Instant::now();
    f.produce_raw(messages.iter().cloned());
    eprintln!(
        "produced {n} messages of {} bytes on average in {:.1} s",
        bytes / n as usize,
        started.elapsed().as_secs_f64()
    );

    // Only consumed.
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .set("group.id", "g-bench-raw")
        .set("auto.offset.reset", "earliest")
        .create()
        .unwrap();
    consumer.subscribe(&[&f.topic]).unwrap();
    let started = std::time::Instant::now();
    let mut consumed = 0;
    while consumed < n {
        if let Some(m) = consumer.poll(Duration::from_secs(1)) {
            m.unwrap();
            consumed += 1;
        }
    }
    let consume_rate = n as f64 / started.elapsed().as_secs_f64();

    // Only parsed, into the table's schema, 5000 lines at a time.
    use arrow::datatypes::{DataType, Field, Schema, TimeUnit};
    let schema = std::sync::Arc::new(Schema::new(vec![
        Field::new("id", DataType::Int64, true),
        Field::new("name", DataType::Utf8, true),
        Field::new("amount", DataType::Float64, true),
        Field::new(
            "at",
            DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
            true,
        ),
    ]));
    let started = std::time::Instant::now();
    for chunk in messages.chunks(5000) {
        let batch =
            kafka_delta_ingest::decode::decode_json_lines(&schema, chunk.iter().map(|(_, m)| m.as_slice())).unwrap();
        assert_eq!(batch.num_rows(), chunk.len());
    }
    let parse_rate = n as f64 / started.elapsed().as_secs_f64();

    // Ingested by one worker.
    let cpu_before = children_cpu_seconds();
    let started = std::time::Instant::now();
    f.ingest_to_end("g-bench", &["-m", "100000"]);
    let secs = started.elapsed().as_secs_f64();
    let cpu = children_cpu_seconds() - cpu_before;
    assert_eq!(rows(&f.table(), &HashMap::new()).len() as i64, n);
    let rate = n as f64 / secs;
    eprintln!("only consumed:  {consume_rate:>9.0} messages/s");
    eprintln!("only parsed:    {parse_rate:>9.0} messages/s (one thread)");
    eprintln!(
        "ingested:       {rate:>9.0} messages/s ({:.2}x consumed-only), {:.1} µs CPU a message ({:.0} messages per CPU-second)",
        rate / consume_rate,
        cpu * 1e6 / n as f64,
        n as f64 / cpu
    );

    // End-to-end latency: produced, then visible in the table, with -l 1.
    let f = Fixture::new("bench-latency");
    let mut worker = f.command("g-bench-latency", &["-l", "1"]).spawn().unwrap();
    std::thread::sleep(Duration::from_secs(3));
    f.produce_raw(messages.iter().take(1000).cloned());
    let latency = visible_after(&f, 1000);
    kill(&mut worker);
    eprintln!(
        "latency:        {:.2} s from produced to visible, with an allowed latency of 1 s",
        latency.as_secs_f64()
    );
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn flushes_by_latency_and_by_size() {
    // By latency: nothing else would flush, and the rows are visible within the allowed second.
    let f = Fixture::new("latency");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let addr = format!("127.0.0.1:{port}");
    let mut worker = f
        .command("g-latency", &["-l", "1", "--metrics-addr", &addr])
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(3));
    f.produce(0..300);
    let seen = visible_after(&f, 300);
    let metrics = http_get(&addr);
    kill(&mut worker);
    assert_exactly(&f.table(), 300);
    assert!(
        metrics.contains("\nkafka_delta_ingest_rows_written_total 300\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("\nkafka_delta_ingest_messages_consumed_total 300\n"),
        "{metrics}"
    );
    assert!(seen < Duration::from_secs(4), "visible after {seen:?}");

    // By size: about 120 bytes a message, a flush every 6 KB.
    let f = Fixture::new("size");
    f.produce(0..1500);
    f.ingest_to_end("g-size", &["-b", "6000", "-m", "100000"]);
    assert_exactly(&f.table(), 1500);
    let version = read(&f.table()).0.version();
    assert!(version >= 20, "{version} commits");
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn filter_key_and_headers() {
    use rdkafka::message::{Header, OwnedHeaders};
    let f = Fixture::new("filter");
    let producer: ThreadedProducer<DefaultProducerContext> = ClientConfig::new()
        .set("bootstrap.servers", brokers())
        .create()
        .unwrap();
    for id in 0..30i64 {
        let (payload, key) = (good(id), format!("k{id}"));
        let headers = OwnedHeaders::new().insert(Header {
            key: "source",
            value: Some(&format!("s{}", id % 2)),
        });
        let record = BaseRecord::to(&f.topic)
            .payload(&payload)
            .key(&key)
            .partition((id % 3) as i32)
            .headers(headers);
        producer.send(record).map_err(|(e, _)| e).unwrap();
    }
    producer.flush(Duration::from_secs(30)).unwrap();
    // The header lands in `name`; only even ids pass the filter.
    f.ingest_to_end(
        "g-filter",
        &["-t", "name: kafka.headers.source", "--filter", "name == 's0'"],
    );
    let (_, batches) = read(&f.table());
    let mut ids = Vec::new();
    for b in &batches {
        let id = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let name = b.column_by_name("name").unwrap().as_string::<i32>();
        let key = b.column_by_name("kafka_key").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            assert_eq!(name.value(i), "s0");
            assert_eq!(key.value(i), format!("k{}", id.value(i)));
            ids.push(id.value(i));
        }
    }
    ids.sort();
    assert_eq!(ids, (0..30).filter(|i| i % 2 == 0).collect::<Vec<_>>());
}

fn http_get(addr: &str) -> String {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(addr).unwrap();
    stream.write_all(b"GET /metrics HTTP/1.1\r\nhost: x\r\n\r\n").unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
    response
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn a_full_buffer_pauses_the_partitions() {
    let f = Fixture::new("pause");
    f.produce(0..600);
    // About 120 bytes a message: 8 KB hold ~70 messages, far fewer than a batch.
    let args = ["-e", "-l", "30", "-m", "100000", "--max-buffer-bytes", "8000"];
    let output = f
        .command("g-pause", &args)
        .env("RUST_LOG", "kafka_delta_ingest=info")
        .stderr(Stdio::piped())
        .output()
        .unwrap();
    assert!(output.status.success());
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("back-pressure") && log.contains("paused=true"),
        "never paused"
    );
    assert!(log.contains("paused=false"), "never resumed");
    assert_exactly(&f.table(), 600);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn ends_at_latest_offsets_with_an_idle_partition() {
    let f = Fixture::new("idle");
    // Nothing for partition 2 (ids ≡ 2 mod 3 go there).
    f.produce_raw((0..90).filter(|id| id % 3 != 2).map(|id| (id, good(id).into_bytes())));
    let started = std::time::Instant::now();
    f.ingest_to_end("g-idle", &[]);
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "-e waited {:?}",
        started.elapsed()
    );
    let got = rows(&f.table(), &HashMap::new());
    assert_eq!(got.len(), 60);
    assert!(got.values().all(|(p, _)| *p != 2));
    assert!(!txn_versions(&f.table(), &HashMap::new()).contains_key("app-2"));
}

/// moto (S3 and DynamoDB) on a free port of 127.0.0.1, killed on drop: the server
/// `scripts/setup-services.sh` installs (`DELTA_TEST_MOTO_SERVER`).
struct Moto {
    child: Child,
    endpoint: String,
}

impl Moto {
    fn start() -> Self {
        let program = std::env::var("DELTA_TEST_MOTO_SERVER").expect(
            "DELTA_TEST_MOTO_SERVER: run `eval \"$(./scripts/setup-services.sh)\"` (scripts/test-kafka.sh does)",
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let moto = Moto {
            child,
            endpoint: format!("http://127.0.0.1:{port}"),
        };
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        while block_on(reqwest::get(format!("{}/moto-api/", moto.endpoint)))
            .unwrap()
            .is_err()
        {
            assert!(std::time::Instant::now() < deadline, "moto did not start");
            std::thread::sleep(Duration::from_millis(200));
        }
        moto
    }

    fn create_bucket(&self, bucket: &str) {
        let put = reqwest::Client::new().put(format!("{}/{bucket}", self.endpoint)).send();
        assert!(block_on(put).unwrap().unwrap().status().is_success());
    }

    /// The storage options of its S3, with the DynamoDB log store on `log_table`.
    fn options(&self, log_table: &str) -> HashMap<String, String> {
        [
            ("AWS_ENDPOINT_URL", self.endpoint.as_str()),
            ("AWS_ALLOW_HTTP", "true"),
            ("AWS_REGION", "us-east-1"),
            ("AWS_ACCESS_KEY_ID", "test"),
            ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
            ("AWS_S3_LOCKING_PROVIDER", "dynamodb"),
            ("DELTA_DYNAMO_TABLE_NAME", log_table),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn an_s3_table_with_the_dynamodb_log_store() {
    let moto = Moto::start();
    moto.create_bucket("ingest");
    let options = moto.options("ingest_log");
    let f = Fixture::new("s3");
    f.produce(0..900);
    let uri = "s3://ingest/events";
    // Credentials and endpoints from the environment, as a deployment passes them.
    for run in 0..2 {
        let status = f
            .command_for(uri, "g-s3", &["-e", "-l", "2", "-m", "400"])
            .envs(&options)
            .status()
            .unwrap();
        assert!(status.success(), "run {run}: {status}");
    }
    assert_exactly_with(uri, 900, &options);
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn schema_evolution_adds_the_messages_new_fields() {
    let f = Fixture::new("evolve");
    let with_extra = |id: i64| {
        let extra = if id < 30 {
            String::new()
        } else {
            format!(r#","color":"c{id}","size":{id},"dims":{{"w":1.5}},"gone":null"#)
        };
        format!(r#"{{"id":{id},"name":"n{id}","amount":1.5,"at":"2024-01-02T03:04:05Z"{extra}}}"#).into_bytes()
    };
    // Without the flag new fields are ignored; with it, they become columns.
    f.produce_raw((0..30).map(|id| (id, with_extra(id))));
    f.ingest_to_end("g-evolve", &[]);
    f.produce_raw((30..60).map(|id| (id, with_extra(id))));
    f.ingest_to_end("g-evolve-2", &[]);
    let (table, _) = read(&f.table());
    assert!(table.snapshot().schema().field("color").is_none());
    f.produce_raw((60..90).map(|id| (id, with_extra(id))));
    f.ingest_to_end("g-evolve-3", &["--schema-evolution"]);
    let (table, batches) = read(&f.table());
    let schema = table.snapshot().schema();
    let type_of = |name: &str| serde_json::to_value(&schema.field(name).unwrap().data_type).unwrap();
    assert_eq!(type_of("color"), "string");
    assert_eq!(type_of("size"), "long");
    assert_eq!(type_of("dims")["fields"][0]["name"], "w");
    assert!(schema.field("gone").is_none(), "a field only ever null has no type yet");
    let mut colors = BTreeMap::new();
    for b in &batches {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let color = b.column_by_name("color").unwrap().as_string::<i32>();
        for i in 0..b.num_rows() {
            colors.insert(ids.value(i), color.is_valid(i).then(|| color.value(i).to_string()));
        }
    }
    assert_eq!(colors.len(), 90, "every message once");
    assert_eq!(colors[&75], Some("c75".to_string()));
    assert_eq!(colors[&45], None, "written before the column existed");
    assert_eq!(colors[&10], None);
}

const AVRO_SCHEMA: &str = r#"{"type": "record", "name": "Event", "fields": [
  {"name": "id", "type": "long"}, {"name": "name", "type": "string"},
  {"name": "amount", "type": ["null", "double"]},
  {"name": "at", "type": {"type": "long", "logicalType": "timestamp-micros"}}]}"#;

/// An Avro `long` (zig-zag, then 7 bits a byte).
fn avro_long(out: &mut Vec<u8>, n: i64) {
    let mut z = ((n << 1) ^ (n >> 63)) as u64;
    while z >= 0x80 {
        out.push((z as u8 & 0x7f) | 0x80);
        z >>= 7;
    }
    out.push(z as u8);
}

/// The Avro datum (of AVRO_SCHEMA) of message `id`.
fn avro_datum(id: i64) -> Vec<u8> {
    let mut out = Vec::new();
    avro_long(&mut out, id);
    let name = format!("n{id}");
    avro_long(&mut out, name.len() as i64);
    out.extend_from_slice(name.as_bytes());
    avro_long(&mut out, 1); // the union's double branch
    out.extend_from_slice(&(id as f64 + 0.5).to_le_bytes());
    avro_long(&mut out, 1_704_164_645_000_000);
    out
}

/// An Avro object container file holding the datum of `id` (null codec).
fn avro_container(id: i64) -> Vec<u8> {
    let mut out = b"Obj\x01".to_vec();
    avro_long(&mut out, 1);
    for text in ["avro.schema", AVRO_SCHEMA] {
        avro_long(&mut out, text.len() as i64);
        out.extend_from_slice(text.as_bytes());
    }
    avro_long(&mut out, 0);
    let sync = [9u8; 16];
    out.extend_from_slice(&sync);
    let datum = avro_datum(id);
    avro_long(&mut out, 1);
    avro_long(&mut out, datum.len() as i64);
    out.extend_from_slice(&datum);
    out.extend_from_slice(&sync);
    out
}

#[test]
#[ignore = "needs a Kafka broker: scripts/test-kafka.sh"]
fn avro_with_a_schema_file_or_embedded_schemas() {
    // Datums of a schema file.
    let f = Fixture::new("avro-datum");
    let path = f.dir.path().join("event.avsc");
    std::fs::write(&path, AVRO_SCHEMA).unwrap();
    f.produce_raw((0..300).map(|id| (id, avro_datum(id))));
    f.ingest_to_end("g-avro-datum", &["--avro", path.to_str().unwrap()]);
    assert_exactly(&f.table(), 300);
    let (_, batches) = read(&f.table());
    for b in &batches {
        let ids = b.column_by_name("id").unwrap().as_primitive::<Int64Type>();
        let amounts = b
            .column_by_name("amount")
            .unwrap()
            .as_primitive::<arrow::datatypes::Float64Type>();
        let at = b.column_by_name("at").unwrap();
        let at = at.as_primitive::<arrow::datatypes::TimestampMicrosecondType>();
        for i in 0..b.num_rows() {
            assert_eq!(amounts.value(i), ids.value(i) as f64 + 0.5);
            assert_eq!(at.value(i), 1_704_164_645_000_000);
        }
    }

    // Each message an object container file with its schema (`--avro` alone).
    let f = Fixture::new("avro-container");
    f.produce_raw((0..300).map(|id| (id, avro_container(id))));
    f.ingest_to_end("g-avro-container", &["--avro"]);
    assert_exactly(&f.table(), 300);
}
