//! Local servers for the cloud storage tests (moto for S3 and DynamoDB, Azurite),
//! each started on a free 127.0.0.1 port by the test that needs it and killed when dropped.
//! `scripts/setup-services.sh` installs them and exports their paths; a test whose server is
//! missing fails with a message saying so.

use std::collections::HashMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A server process, killed on drop.
pub struct Server {
    child: Child,
    /// Its port on 127.0.0.1.
    pub port: u16,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// The server binary named by `var`, or a failure explaining how to get it.
fn binary(var: &str) -> PathBuf {
    let path = std::env::var(var).unwrap_or_else(|_| {
        panic!("{var} is not set: run `eval \"$(./scripts/setup-services.sh)\"` (scripts/test.sh does) to install the test servers")
    });
    let path = PathBuf::from(path);
    assert!(
        path.exists(),
        "{var}={} does not exist: rerun ./scripts/setup-services.sh",
        path.display()
    );
    path
}

/// Wait until `ready` (an HTTP request to the server) succeeds.
async fn wait_ready(name: &str, server: &mut Server, path: &str) {
    let client = reqwest::Client::new();
    let url = format!("{}{path}", server.endpoint());
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        if client.get(&url).send().await.is_ok() {
            return;
        }
        if let Ok(Some(status)) = server.child.try_wait() {
            panic!("{name} exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "{name} did not start on port {}",
            server.port
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

/// Start `program` with `args`; a watchdog kills it if this test process dies without dropping
/// the [`Server`] (a test killed by a timeout leaves no server behind).
fn spawn(program: PathBuf, args: &[String], port: u16, dir: tempfile::TempDir) -> Server {
    let watchdog = format!(
        "( while kill -0 {} 2>/dev/null; do sleep 1; done; kill $$ ) & exec \"$0\" \"$@\"",
        std::process::id()
    );
    let child = Command::new("sh")
        .arg("-c")
        .arg(watchdog)
        .arg(program)
        .args(args)
        // Servers may write files where they run (Azurite does): in their own directory.
        .current_dir(dir.path())
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("cannot start the test server");
    Server { child, port, _dir: dir }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|a| a.to_string()).collect()
}

/// moto (S3 and DynamoDB) on a free port.
pub async fn moto() -> Server {
    let port = free_port();
    let args = strings(&["-H", "127.0.0.1", "-p", &port.to_string()]);
    let mut server = spawn(
        binary("DELTA_TEST_MOTO_SERVER"),
        &args,
        port,
        tempfile::tempdir().unwrap(),
    );
    wait_ready("moto", &mut server, "/moto-api/").await;
    server
}

/// Azurite's blob service on a free port (in memory).
pub async fn azurite() -> Server {
    let port = free_port();
    let dir = tempfile::tempdir().unwrap();
    let args = strings(&[
        "--disableTelemetry",
        "--loose",
        "--skipApiVersionCheck",
        "--inMemoryPersistence",
        "--blobHost",
        "127.0.0.1",
        "--blobPort",
        &port.to_string(),
        "--queuePort",
        &free_port().to_string(),
        "--tablePort",
        &free_port().to_string(),
    ]);
    let mut server = spawn(binary("DELTA_TEST_AZURITE"), &args, port, dir);
    wait_ready("Azurite", &mut server, "/devstoreaccount1?comp=list").await;
    server
}

/// Create an S3 bucket on moto.
pub async fn create_bucket(moto: &Server, bucket: &str) {
    let response = reqwest::Client::new()
        .put(format!("{}/{bucket}", moto.endpoint()))
        .send()
        .await
        .unwrap();
    assert!(
        response.status().is_success(),
        "creating bucket {bucket}: {}",
        response.status()
    );
}

/// Storage options for moto's S3 (and DynamoDB), over `extra`.
pub fn s3_options(moto: &Server, extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut options: HashMap<String, String> = [
        ("AWS_ENDPOINT_URL", moto.endpoint().as_str()),
        ("AWS_ALLOW_HTTP", "true"),
        ("AWS_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "test"),
        ("AWS_SECRET_ACCESS_KEY", "test-secret-key"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    options.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    options
}

/// The emulator account's well-known key (published in Azurite's documentation).
pub const AZURITE_KEY: &str =
    "Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==";

/// Create a blob container on Azurite, signing the request with the emulator account's key
/// (Shared Key, computed by Python's standard library).
pub fn create_container(azurite: &Server, container: &str) {
    let script = r#"
import base64, hmac, hashlib, sys, urllib.request
from email.utils import formatdate
endpoint, container, key = sys.argv[1:4]
account = "devstoreaccount1"
date = formatdate(usegmt=True)
version = "2021-08-06"
to_sign = "PUT\n\n\n\n\napplication/octet-stream\n\n\n\n\n\n\n" + f"x-ms-date:{date}\nx-ms-version:{version}\n" + f"/{account}/{account}/{container}\nrestype:container"
signature = base64.b64encode(hmac.new(base64.b64decode(key), to_sign.encode(), hashlib.sha256).digest()).decode()
request = urllib.request.Request(f"{endpoint}/{account}/{container}?restype=container", method="PUT", data=b"",
    headers={"Content-Type": "application/octet-stream", "x-ms-date": date, "x-ms-version": version, "Authorization": f"SharedKey {account}:{signature}"})
urllib.request.urlopen(request)
"#;
    let status = Command::new("python3")
        .args(["-c", script, &azurite.endpoint(), container, AZURITE_KEY])
        .status()
        .unwrap();
    assert!(status.success(), "creating container {container} on Azurite failed");
}

/// Storage options for Azurite.
pub fn azure_options(extra: &[(&str, &str)]) -> HashMap<String, String> {
    let mut options: HashMap<String, String> = [("AZURE_STORAGE_USE_EMULATOR", "true")]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    options.extend(extra.iter().map(|(k, v)| (k.to_string(), v.to_string())));
    options
}

/// Point the Azure emulator settings of this process at `azurite` (object_store reads the
/// emulator's address from `AZURITE_BLOB_STORAGE_URL` only). Call it before any store is opened.
pub fn use_azurite(azurite: &Server) {
    // SAFETY: the Azure test binary sets it once, before any other thread reads the environment.
    unsafe { std::env::set_var("AZURITE_BLOB_STORAGE_URL", azurite.endpoint()) };
}
