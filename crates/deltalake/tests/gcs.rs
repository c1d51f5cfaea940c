//! Google Cloud Storage against a real local server (fake-gcs-server, started on a free
//! 127.0.0.1 port): the read and write conformance subset, the conditional create
//! (`ifGenerationMatch=0`), and many writer processes at once.

mod common;

use std::collections::HashMap;

use common::cloud;
use common::services::{self, Server};

#[tokio::test]
async fn child_writer() {
    cloud::child_writer().await;
}

/// Options for fake-gcs-server: its address, no credentials.
fn gcs_options(server: &Server) -> HashMap<String, String> {
    HashMap::from([
        ("GOOGLE_BASE_URL".to_string(), server.endpoint()),
        ("GOOGLE_SKIP_SIGNATURE".to_string(), "true".to_string()),
        ("allow_http".to_string(), "true".to_string()),
    ])
}

#[tokio::test]
async fn read_conformance_subset_on_gcs() {
    let server = services::fake_gcs(&["reads"]).await;
    cloud::read_conformance("gs://reads/tables", &gcs_options(&server)).await;
}

#[tokio::test]
async fn write_round_trip_and_conditional_create_on_gcs() {
    let server = services::fake_gcs(&["writes"]).await;
    let options = gcs_options(&server);
    let latest = cloud::write_round_trip("gs://writes/t", &options).await;
    let url = deltalake::storage::table_url("gs://writes/t").unwrap();
    let store = deltalake::storage::open_log_store(&url, &options).unwrap();
    let err = store.write_commit(latest, "{}".into()).await.unwrap_err();
    assert!(matches!(err, deltalake::DeltaError::VersionExists { .. }), "{err}");
}

#[tokio::test]
async fn four_processes_fifty_commits_each_on_gcs() {
    let server = services::fake_gcs(&["busy"]).await;
    cloud::concurrent_writers("child_writer", "gs://busy/t", &gcs_options(&server), 4, 50).await;
}
