//! S3 against a real local server (moto, started per test on a free 127.0.0.1 port): commits by
//! conditional put and by the DynamoDB log store, the read and write conformance subset, many
//! writer processes at once, and faults (500s, lost responses, a writer stopped mid-commit).

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashMap;
use std::future::IntoFuture;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

use common::cloud::{self, batch, check_every_version, open, rows};
use common::proxy::{Action, Proxy};
use common::services::{self, Server};
use deltalake::storage::{DynamoLogStore, open_log_store, table_url};
use deltalake::{DeltaError, DeltaTable};
use object_store::ObjectStoreExt;

/// Options of the DynamoDB log store, with a table name of its own.
fn dynamo(moto: &Server, table: &str) -> HashMap<String, String> {
    services::s3_options(
        moto,
        &[
            ("AWS_S3_LOCKING_PROVIDER", "dynamodb"),
            ("DELTA_DYNAMO_TABLE_NAME", table),
        ],
    )
}

async fn moto_with_bucket(bucket: &str) -> Server {
    let moto = services::moto().await;
    services::create_bucket(&moto, bucket).await;
    moto
}

/// The writer process of the concurrent writer tests below: not a test itself, `spawn_writer`
/// starts it with `--ignored`.
#[tokio::test]
#[ignore = "child process of the concurrent writer tests; run by common::cloud::spawn_writer"]
async fn child_writer() {
    cloud::child_writer().await;
}

#[tokio::test]
async fn read_conformance_subset_on_s3() {
    let moto = moto_with_bucket("reads").await;
    cloud::read_conformance("s3://reads/tables", &services::s3_options(&moto, &[])).await;
}

#[tokio::test]
async fn write_round_trip_with_conditional_put() {
    let moto = moto_with_bucket("writes").await;
    let options = services::s3_options(&moto, &[]);
    let latest = cloud::write_round_trip("s3://writes/t", &options).await;
    // `s3a://` names the same objects.
    let table = open("s3a://writes/t", &options).await;
    assert_eq!(table.version(), latest);
}

#[tokio::test]
async fn write_round_trip_with_the_dynamodb_log_store() {
    let moto = moto_with_bucket("writes").await;
    let options = dynamo(&moto, "round_trip_log");
    let latest = cloud::write_round_trip("s3://writes/t", &options).await;
    // Every commit has a complete entry in DynamoDB, keyed as Delta Spark keys them.
    let url = table_url("s3://writes/t").unwrap();
    let store = dynamo_store(&url, &options);
    for version in 0..=latest {
        let entry = store.entry(version).await.unwrap().expect("an entry per commit");
        assert!(entry.complete, "version {version} incomplete");
        assert_eq!(entry.file_name, format!("{version:020}.json"));
        assert!(
            entry.temp_path.starts_with(&format!(".tmp/{version:020}.json.")),
            "{}",
            entry.temp_path
        );
    }
    assert!(store.entry(latest + 1).await.unwrap().is_none());
}

fn dynamo_store(url: &url::Url, options: &HashMap<String, String>) -> DynamoLogStore {
    let s3 = deltalake::storage::StorageOptions::from_map(options);
    let (object_store, commits) = deltalake::storage::s3::build(url, &s3).unwrap();
    let deltalake::storage::s3::S3Commits::DynamoDb(dynamo) = commits else {
        panic!("not a DynamoDB store");
    };
    let root = object_store::path::Path::from_url_path(url.path()).unwrap();
    DynamoLogStore::new(object_store, url.clone(), root, *dynamo).unwrap()
}

#[tokio::test]
async fn four_processes_fifty_commits_each_with_conditional_put() {
    let moto = moto_with_bucket("busy").await;
    let options = services::s3_options(&moto, &[]);
    cloud::concurrent_writers("child_writer", "s3://busy/t", &options, 4, 50).await;
}

/// moto checks DynamoDB conditions but not atomically under concurrent requests (real DynamoDB
/// does): its DynamoDB requests go through a proxy that serialises them.
#[tokio::test]
async fn four_processes_fifty_commits_each_with_the_dynamodb_log_store() {
    let moto = moto_with_bucket("busy").await;
    let serialised = Proxy::start(moto.port, |_| Action::Exclusive).await;
    let mut options = dynamo(&moto, "busy_log");
    options.insert("AWS_ENDPOINT_URL_DYNAMODB".into(), serialised.endpoint());
    cloud::concurrent_writers("child_writer", "s3://busy/t", &options, 4, 50).await;
}

#[tokio::test]
async fn disabled_conditional_put_needs_a_lock_or_an_explicit_unsafe_opt_in() {
    let moto = moto_with_bucket("plain").await;
    let disabled = services::s3_options(&moto, &[("AWS_CONDITIONAL_PUT", "disabled")]);
    let err = DeltaTable::write("s3://plain/t")
        .with_storage_options(disabled)
        .with_batches(vec![batch("a", 1)])
        .await
        .unwrap_err();
    assert!(
        matches!(err, DeltaError::InvalidArgument(_)) && err.to_string().contains("AWS_S3_ALLOW_UNSAFE_RENAME"),
        "{err}"
    );
    let unsafe_single_writer = services::s3_options(
        &moto,
        &[
            ("AWS_CONDITIONAL_PUT", "disabled"),
            ("AWS_S3_ALLOW_UNSAFE_RENAME", "true"),
        ],
    );
    for n in 0..3 {
        DeltaTable::write("s3://plain/t")
            .with_storage_options(unsafe_single_writer.clone())
            .with_batches(vec![batch("a", n)])
            .await
            .unwrap();
    }
    assert_eq!(check_every_version("s3://plain/t", &unsafe_single_writer).await, 2);
    // A version that exists is still refused (the check before the put).
    let store = open_log_store(&table_url("s3://plain/t").unwrap(), &unsafe_single_writer).unwrap();
    let err = store.write_commit(2, "{}".into()).await.unwrap_err();
    assert!(matches!(err, DeltaError::VersionExists { version: 2, .. }), "{err}");
}

#[tokio::test]
async fn unknown_options_and_schemes_are_refused_by_name() {
    let err = DeltaTable::builder("s3://b/t")
        .with_storage_options(HashMap::from([("AWS_REGOIN".to_string(), "x".to_string())]))
        .load()
        .await
        .unwrap_err();
    assert!(err.to_string().contains("aws_regoin"), "{err}");
    let err = DeltaTable::open("ftp://host/t").await.unwrap_err();
    assert!(err.to_string().contains("unsupported storage scheme 'ftp'"), "{err}");
}

#[tokio::test]
async fn credentials_never_appear_in_debug_output_or_errors() {
    let secret = "wJalrXUtnFEMI-very-secret-key";
    // Nothing listens on this port: the error comes from the network, after retries.
    let port = services::free_port();
    let options = HashMap::from([
        ("AWS_ENDPOINT_URL".to_string(), format!("http://127.0.0.1:{port}")),
        ("AWS_ALLOW_HTTP".to_string(), "true".to_string()),
        ("AWS_ACCESS_KEY_ID".to_string(), "AKIDEXAMPLE".to_string()),
        ("AWS_SECRET_ACCESS_KEY".to_string(), secret.to_string()),
        ("AWS_SESSION_TOKEN".to_string(), format!("{secret}-token")),
        ("AWS_S3_LOCKING_PROVIDER".to_string(), "dynamodb".to_string()),
        ("timeout".to_string(), "1s".to_string()),
    ]);
    let builder = DeltaTable::builder("s3://bucket/t").with_storage_options(options.clone());
    let shown = format!("{builder:?}");
    assert!(shown.contains("AKIDEXAMPLE") || shown.contains("redacted"), "{shown}");
    assert!(!shown.contains(secret), "{shown}");
    let store = builder.build_log_store().unwrap();
    assert!(!format!("{store:?}").contains(secret));
    let err = tokio::time::timeout(Duration::from_secs(120), builder.load())
        .await
        .expect("retries are bounded")
        .unwrap_err();
    let text = format!("{err} {err:?}");
    assert!(text.contains("s3://bucket/t") || text.contains("127.0.0.1"), "{text}");
    assert!(!text.contains(secret), "{text}");
}

/// A proxy in front of moto: the first put of each of commits 1, 2 and 3 answers 500, loses its
/// response (the put landed), or is slower than the client's timeout (and lands later); every
/// commit lands exactly once, none is reported as a conflict.
#[tokio::test]
async fn server_errors_lost_responses_and_slow_answers_never_duplicate_a_commit() {
    let moto = moto_with_bucket("faults").await;
    let seen: Arc<[AtomicUsize; 4]> = Arc::default();
    let counts = seen.clone();
    let proxy = Proxy::start(moto.port, move |request| {
        let commit =
            (1..=3).find(|v| request.method == "PUT" && request.target.contains(&format!("/_delta_log/{v:020}.json")));
        let Some(v) = commit else {
            return Action::Forward;
        };
        let first = counts[v].fetch_add(1, Ordering::SeqCst) == 0;
        match (v, first) {
            (1, true) => Action::Fail(500),
            (2, true) => Action::DropResponse,
            // Longer than the client's timeout: the put lands after the client gave up on it.
            (3, true) => Action::Delay(Duration::from_secs(5)),
            _ => Action::Forward,
        }
    })
    .await;
    let mut options = services::s3_options(&moto, &[("timeout", "2s")]);
    options.insert("AWS_ENDPOINT_URL".into(), proxy.endpoint());
    for n in 0..4 {
        DeltaTable::write("s3://faults/t")
            .with_storage_options(options.clone())
            .with_batches(vec![batch("w", n)])
            .await
            .unwrap_or_else(|e| panic!("commit {n}: {e}"));
    }
    assert_eq!(check_every_version("s3://faults/t", &options).await, 3);
    let log = proxy.log.lock().unwrap().clone();
    assert!(log.iter().any(|l| l.ends_with("Fail(500)")), "{log:?}");
    assert!(log.iter().any(|l| l.ends_with("DropResponse")), "{log:?}");
    assert!(log.iter().any(|l| l.ends_with("Delay(5s)")), "{log:?}");
}

/// A writer stopped after its DynamoDB entry was put but before the copy to `N.json`: the next
/// reader completes the commit, and the next writer commits after it.
#[tokio::test]
async fn a_commit_left_incomplete_in_dynamodb_is_completed_by_the_next_reader() {
    let moto = moto_with_bucket("crash").await;
    let options = dynamo(&moto, "crash_log");
    DeltaTable::write("s3://crash/t")
        .with_storage_options(options.clone())
        .with_batches(vec![batch("w", 0)])
        .await
        .unwrap();
    // The doomed writer goes through a proxy that, once its PutItem went through, never answers again.
    let entry_put = Arc::new(AtomicBool::new(false));
    let flag = entry_put.clone();
    let proxy = Proxy::start(moto.port, move |request| {
        if flag.load(Ordering::SeqCst) {
            return Action::Hold;
        }
        if request.header("x-amz-target") == Some("DynamoDB_20120810.PutItem") {
            flag.store(true, Ordering::SeqCst);
        }
        Action::Forward
    })
    .await;
    let mut doomed_options = options.clone();
    doomed_options.insert("AWS_ENDPOINT_URL".into(), proxy.endpoint());
    let doomed = tokio::spawn(
        DeltaTable::write("s3://crash/t")
            .with_storage_options(doomed_options)
            .with_batches(vec![batch("w", 1)])
            .into_future(),
    );
    for _ in 0..600 {
        if entry_put.load(Ordering::SeqCst) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(entry_put.load(Ordering::SeqCst), "the writer never put its entry");
    tokio::time::sleep(Duration::from_millis(500)).await;
    doomed.abort();
    assert!(doomed.await.unwrap_err().is_cancelled());

    let url = table_url("s3://crash/t").unwrap();
    let store = dynamo_store(&url, &options);
    let entry = store.entry(1).await.unwrap().unwrap();
    assert!(!entry.complete, "the stopped writer must not have completed its commit");
    assert!(!object_exists(&options, "t/_delta_log/00000000000000000001.json").await);

    let table = open("s3://crash/t", &options).await;
    assert_eq!(table.version(), 1, "the reader completes the commit");
    assert_eq!(rows(&table).await, [("w".into(), 0), ("w".into(), 1)]);
    assert!(store.entry(1).await.unwrap().unwrap().complete);
    DeltaTable::write("s3://crash/t")
        .with_storage_options(options.clone())
        .with_batches(vec![batch("w", 2)])
        .await
        .unwrap();
    assert_eq!(check_every_version("s3://crash/t", &options).await, 2);
}

async fn object_exists(options: &HashMap<String, String>, key: &str) -> bool {
    let mut plain = options.clone();
    plain.remove("AWS_S3_LOCKING_PROVIDER");
    let store = open_log_store(&table_url("s3://crash/").unwrap(), &plain).unwrap();
    store.object_store().head(&key.into()).await.is_ok()
}
