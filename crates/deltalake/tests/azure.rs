//! Azure Blob Storage against a real local server (Azurite, started on a free 127.0.0.1 port):
//! the read and write conformance subset and many writer processes at once.
//!
//! object_store takes the emulator's address from the `AZURITE_BLOB_STORAGE_URL` environment
//! variable only, so one test starts one Azurite and runs every scenario in turn.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use common::cloud;
use common::services;
use deltalake::DeltaTable;

/// The writer process of the concurrent writer test below: not a test itself, `spawn_writer`
/// starts it with `--ignored`.
#[tokio::test]
#[ignore = "child process of the concurrent writer tests; run by common::cloud::spawn_writer"]
async fn child_writer() {
    cloud::child_writer().await;
}

#[tokio::test]
async fn azure_reads_writes_and_concurrent_writers_on_azurite() {
    let azurite = services::azurite().await;
    services::use_azurite(&azurite);
    services::create_container(&azurite, "delta");
    let options = services::azure_options(&[]);

    cloud::read_conformance("az://delta/tables", &options).await;
    let latest = cloud::write_round_trip("abfs://delta/round-trip", &options).await;
    // The other spellings of the same location open the same table.
    for alias in [
        "az://delta/round-trip",
        "azure://delta/round-trip",
        "abfss://delta/round-trip",
    ] {
        let table = cloud::open(alias, &options).await;
        assert_eq!(table.version(), latest, "{alias}");
    }
    // A version that exists is refused by the conditional create.
    let url = deltalake::storage::table_url("az://delta/round-trip").unwrap();
    let store = deltalake::storage::open_log_store(&url, &options).unwrap();
    let err = store.write_commit(latest, "{}".into()).await.unwrap_err();
    assert!(matches!(err, deltalake::DeltaError::VersionExists { .. }), "{err}");

    cloud::concurrent_writers("child_writer", "az://delta/busy", &options, 4, 50).await;
    let table = DeltaTable::builder("az://delta/busy")
        .with_storage_options(options.clone())
        .load()
        .await
        .unwrap();
    assert_eq!(table.version(), 200);
}
