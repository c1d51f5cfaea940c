//! Counters of the daemon, served in the Prometheus text format (`--metrics-addr`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tracing::warn;

use crate::error::IngestError;

/// The counters (monotonic) and gauges of one worker.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Messages received from Kafka.
    pub messages_consumed: AtomicU64,
    /// Rows committed to the table.
    pub rows_written: AtomicU64,
    /// Messages set aside as dead letters.
    pub dead_letters: AtomicU64,
    /// Delta commits that landed.
    pub commits: AtomicU64,
    /// Batches dropped and read again (conflicts, failed writes).
    pub batches_retried: AtomicU64,
    /// Messages buffered now.
    pub buffered_messages: AtomicU64,
}

impl Metrics {
    /// Add `n` to a counter.
    pub fn add(counter: &AtomicU64, n: u64) {
        counter.fetch_add(n, Ordering::Relaxed);
    }

    /// The Prometheus text exposition of the metrics.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let rows: [(&str, &str, &str, &AtomicU64); 6] = [
            (
                "messages_consumed_total",
                "counter",
                "Messages received from Kafka.",
                &self.messages_consumed,
            ),
            (
                "rows_written_total",
                "counter",
                "Rows committed to the Delta table.",
                &self.rows_written,
            ),
            (
                "dead_letters_total",
                "counter",
                "Messages set aside as dead letters.",
                &self.dead_letters,
            ),
            ("commits_total", "counter", "Delta commits that landed.", &self.commits),
            (
                "batches_retried_total",
                "counter",
                "Batches dropped and read again.",
                &self.batches_retried,
            ),
            (
                "buffered_messages",
                "gauge",
                "Messages buffered, not yet written.",
                &self.buffered_messages,
            ),
        ];
        for (name, kind, help, value) in rows {
            let name = format!("kafka_delta_ingest_{name}");
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {}\n",
                value.load(Ordering::Relaxed)
            ));
        }
        out
    }
}

/// Bind `addr` and answer every HTTP request on it with the metrics.
pub async fn serve(addr: &str, metrics: Arc<Metrics>) -> Result<(), IngestError> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| IngestError::Config(format!("--metrics-addr {addr}: {e}")))?;
    tokio::spawn(async move {
        loop {
            let (mut socket, _) = match listener.accept().await {
                Ok(s) => s,
                Err(e) => {
                    warn!(error = %e, "metrics endpoint");
                    continue;
                }
            };
            let body = metrics.render();
            tokio::spawn(async move {
                let mut request = [0u8; 2048];
                let _ = socket.read(&mut request).await;
                let response = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: text/plain; version=0.0.4\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(response.as_bytes()).await;
            });
        }
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        Metrics::add(&m.rows_written, 42);
        let text = m.render();
        assert!(
            text.contains("# TYPE kafka_delta_ingest_rows_written_total counter\n"),
            "{text}"
        );
        assert!(text.contains("\nkafka_delta_ingest_rows_written_total 42\n"), "{text}");
        assert!(text.contains("\nkafka_delta_ingest_buffered_messages 0\n"), "{text}");
    }
}
