//! Google Cloud Storage: `object_store` speaks GCS's XML API, which the fake-gcs-server available
//! from the Go module proxy does not serve (it answers uploads with "invalid uploadType"), so the
//! commit's request shapes are checked against a loopback stand-in instead of a real server.

#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    reason = "a test fails by panicking; clippy.toml exempts only #[test] functions, not the helpers here"
)]

mod common;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use common::proxy::{Action, Proxy, Request};
use deltalake::DeltaError;
use deltalake::storage::{open_log_store, table_url};

/// Options for a stand-in at `endpoint`: a service account key without OAuth, so that no token
/// is ever requested (from the metadata server or Google).
fn gcs_options(endpoint: &str) -> HashMap<String, String> {
    let key = serde_json::json!({
        "gcs_base_url": endpoint,
        "disable_oauth": true,
        "client_email": "",
        "private_key": "",
        "private_key_id": "",
    });
    HashMap::from([
        ("GOOGLE_SERVICE_ACCOUNT_KEY".to_string(), key.to_string()),
        ("allow_http".to_string(), "true".to_string()),
    ])
}

#[tokio::test]
async fn commits_are_uploads_on_generation_zero_and_a_taken_version_is_version_exists() {
    let requests: Arc<Mutex<Vec<Request>>> = Arc::default();
    let seen = requests.clone();
    // Upstream is never contacted: every request gets an injected answer.
    let stand_in = Proxy::start(1, move |request| {
        let mut seen = seen.lock().unwrap();
        seen.push(request.clone());
        let puts = seen.iter().filter(|r| r.method == "PUT").count();
        match request.method.as_str() {
            // The first commit is created, the second finds the object (generation 1) there.
            "PUT" if puts == 1 => Action::Fail(200),
            "PUT" => Action::Fail(412),
            // Reading back the existing commit: not ours (empty).
            _ => Action::Fail(200),
        }
    })
    .await;
    let url = table_url("gs://bucket/t").unwrap();
    let store = open_log_store(&url, &gcs_options(&stand_in.endpoint())).unwrap();
    store.write_commit(0, "{\"ours\":1}".into()).await.unwrap();
    let err = store.write_commit(0, "{\"ours\":2}".into()).await.unwrap_err();
    assert!(matches!(err, DeltaError::VersionExists { version: 0, .. }), "{err}");

    let requests = requests.lock().unwrap();
    let puts: Vec<&Request> = requests.iter().filter(|r| r.method == "PUT").collect();
    assert_eq!(puts.len(), 2, "{requests:?}");
    for put in puts {
        // The object name is encoded whole, `/` included.
        let target = percent_encoding::percent_decode_str(&put.target).decode_utf8_lossy();
        assert_eq!(target, "/bucket/t/_delta_log/00000000000000000000.json", "{put:?}");
        assert_eq!(put.header("x-goog-if-generation-match"), Some("0"), "{put:?}");
    }
    // After the conflict the object was read back, to tell a lost answer of ours from theirs.
    assert!(
        requests
            .iter()
            .any(|r| r.method == "GET" && r.target.ends_with("00000000000000000000%2Ejson")),
        "{requests:?}"
    );
}
