//! A loopback HTTP/1.1 proxy that injects faults in front of a test server: answer 500, delay,
//! forward and then drop the response, or hold a request forever, as a rule decides per request.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// What the proxy does with one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Forward it and return the answer.
    Forward,
    /// Forward it while no other `Exclusive` request is in flight (serialises a server's
    /// request handling, e.g. to make moto's DynamoDB conditional writes atomic as DynamoDB's are).
    Exclusive,
    /// Answer this status (with an empty body) without forwarding.
    Fail(u16),
    /// Wait, then forward.
    Delay(Duration),
    /// Forward it (the server applies it), then close the connection without answering.
    DropResponse,
    /// Never answer (the request is not forwarded).
    Hold,
}

/// The start of a request, as the rule sees it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `GET`, `PUT`, ...
    pub method: String,
    /// The path with its query.
    pub target: String,
    /// Lower-case header names with their values.
    pub headers: Vec<(String, String)>,
}

impl Request {
    /// The value of header `name` (lower case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

type Rule = dyn Fn(&Request) -> Action + Send + Sync;

/// A running proxy; stops when dropped.
pub struct Proxy {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Every request seen, as `METHOD target -> action`.
    pub log: Arc<Mutex<Vec<String>>>,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Proxy {
    /// `http://127.0.0.1:PORT`.
    pub fn endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Proxy to `upstream_port`, doing what `rule` says with each request.
    pub async fn start(upstream_port: u16, rule: impl Fn(&Request) -> Action + Send + Sync + 'static) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let log = Arc::new(Mutex::new(Vec::new()));
        let rule: Arc<Rule> = Arc::new(rule);
        let task_log = log.clone();
        let exclusive = Arc::new(tokio::sync::Mutex::new(()));
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let (rule, log, exclusive) = (rule.clone(), task_log.clone(), exclusive.clone());
                tokio::spawn(async move {
                    let _ = serve(client, upstream_port, rule.as_ref(), &log, &exclusive).await;
                });
            }
        });
        Self { port, log, task }
    }
}

/// One request per connection: the answer always says `connection: close`.
async fn serve(
    mut client: TcpStream,
    upstream_port: u16,
    rule: &Rule,
    log: &Mutex<Vec<String>>,
    exclusive: &tokio::sync::Mutex<()>,
) -> std::io::Result<()> {
    let (head, body) = read_request(&mut client).await?;
    let request = parse_head(&head);
    let action = rule(&request);
    if action != Action::Exclusive {
        log.lock()
            .unwrap()
            .push(format!("{} {} -> {action:?}", request.method, request.target));
    }
    match action {
        Action::Fail(status) => {
            // With the headers object stores expect of an object's answer, so a test can stand in
            // for a server.
            let answer = format!(
                "HTTP/1.1 {status} Injected\r\ncontent-length: 0\r\netag: \"1\"\r\nx-goog-generation: 1\r\n\
                 last-modified: Tue, 01 Dec 2026 00:00:00 GMT\r\nconnection: close\r\n\r\n"
            );
            client.write_all(answer.as_bytes()).await?;
        }
        Action::Hold => {
            tokio::time::sleep(Duration::from_secs(3600)).await;
        }
        Action::Exclusive => {
            let answer = {
                let _turn = exclusive.lock().await;
                forward(&head, &body, upstream_port).await?
            };
            client.write_all(&close_after(&answer)).await?;
        }
        Action::Forward | Action::Delay(_) | Action::DropResponse => {
            if let Action::Delay(delay) = action {
                tokio::time::sleep(delay).await;
            }
            let answer = forward(&head, &body, upstream_port).await?;
            if action != Action::DropResponse {
                client.write_all(&close_after(&answer)).await?;
            }
        }
    }
    client.shutdown().await
}

async fn read_request(stream: &mut TcpStream) -> std::io::Result<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    let end = loop {
        if let Some(pos) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break pos + 4;
        }
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            return Err(std::io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let length: usize = parse_head(&head)
        .header("content-length")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    let mut body = buf[end..].to_vec();
    while body.len() < length {
        let n = stream.read(&mut chunk).await?;
        if n == 0 {
            break;
        }
        body.extend_from_slice(&chunk[..n]);
    }
    Ok((head, body))
}

fn parse_head(head: &str) -> Request {
    let mut lines = head.split("\r\n");
    let mut first = lines.next().unwrap_or_default().split(' ');
    let method = first.next().unwrap_or_default().to_string();
    let target = first.next().unwrap_or_default().to_string();
    let headers = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    Request {
        method,
        target,
        headers,
    }
}

/// Send the request upstream on a fresh connection that the server closes after answering.
async fn forward(head: &str, body: &[u8], upstream_port: u16) -> std::io::Result<Vec<u8>> {
    let mut upstream = TcpStream::connect(("127.0.0.1", upstream_port)).await?;
    let head: String = head
        .trim_end_matches("\r\n")
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    upstream
        .write_all(format!("{head}connection: close\r\n\r\n").as_bytes())
        .await?;
    upstream.write_all(body).await?;
    let mut answer = Vec::new();
    upstream.read_to_end(&mut answer).await?;
    Ok(answer)
}

/// The answer with `connection: close` in place of any connection header.
fn close_after(answer: &[u8]) -> Vec<u8> {
    let Some(end) = answer.windows(4).position(|w| w == b"\r\n\r\n") else {
        return answer.to_vec();
    };
    let head = String::from_utf8_lossy(&answer[..end]);
    let mut out: String = head
        .split("\r\n")
        .filter(|l| !l.to_ascii_lowercase().starts_with("connection:"))
        .map(|l| format!("{l}\r\n"))
        .collect();
    out.push_str("connection: close\r\n\r\n");
    let mut bytes = out.into_bytes();
    bytes.extend_from_slice(&answer[end + 4..]);
    bytes
}
