//! Progress of long operations through `tracing`: one `info` span per operation (open, scan,
//! write, commit, checkpoint, optimize, vacuum, merge, delete, update), its key figures recorded as
//! span fields, and an `info` event when it ends, so that `RUST_LOG=deltalake=info` shows what a
//! program is doing. Per-batch and per-file events stay at `debug` and `trace`.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use arrow::array::RecordBatch;
use futures::Stream;
use tracing::{Instrument, Span, info};

use crate::error::DeltaResult;

/// A span for the operation `$name` on the table at `$table` (anything `Display`), with empty
/// fields for the figures [`traced`] records: `version`, `files`, `rows`, `bytes`,
/// `duration_ms`.
macro_rules! operation_span {
    ($name:literal, $table:expr) => {
        tracing::info_span!(
            $name,
            table = %$table,
            version = tracing::field::Empty,
            files = tracing::field::Empty,
            rows = tracing::field::Empty,
            bytes = tracing::field::Empty,
            duration_ms = tracing::field::Empty,
        )
    };
}
pub(crate) use operation_span;

/// The key figures of a finished operation; `None` where one does not apply.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Figures {
    /// The table version read or committed.
    pub version: Option<i64>,
    /// Data files read, written or deleted.
    pub files: Option<usize>,
    /// Rows read, written or changed.
    pub rows: Option<usize>,
    /// Bytes read or written.
    pub bytes: Option<u64>,
}

/// Record `figures` and the time since `started` on `span`, and log them at `info` in it.
fn finish(span: &Span, started: Instant, figures: Figures) {
    let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    let Figures {
        version,
        files,
        rows,
        bytes,
    } = figures;
    span.record("version", version)
        .record("files", files)
        .record("rows", rows)
        .record("bytes", bytes)
        .record("duration_ms", duration_ms);
    let operation = span.metadata().map_or("operation", |m| m.name());
    info!(parent: span, version, files, rows, bytes, duration_ms, "{operation} finished");
}

/// Run `work` inside `span`; when it succeeds, record the figures of its output on the span and log
/// them at `info`. A failure is logged at `info` too, with its error and duration.
pub(crate) async fn traced<T>(
    span: Span,
    work: impl Future<Output = DeltaResult<T>>,
    figures: impl FnOnce(&T) -> Figures,
) -> DeltaResult<T> {
    let started = Instant::now();
    let result = work.instrument(span.clone()).await;
    match &result {
        Ok(output) => finish(&span, started, figures(output)),
        Err(e) => {
            let duration_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
            span.record("duration_ms", duration_ms);
            let operation = span.metadata().map_or("operation", |m| m.name());
            info!(parent: &span, error = %e, duration_ms, "{operation} failed");
        }
    }
    result
}

/// A stream of record batches polled inside `span`, which counts the rows and logs the figures
/// when it ends (the `files` and `bytes` it is given, the rows it saw).
pub(crate) struct TracedBatches<S> {
    inner: S,
    span: Span,
    started: Instant,
    figures: Figures,
    done: bool,
}

impl<S> TracedBatches<S> {
    /// Trace `inner`, which reads `files` files of `bytes` bytes in all.
    pub(crate) fn new(inner: S, span: Span, files: usize, bytes: u64) -> Self {
        Self {
            inner,
            span,
            started: Instant::now(),
            figures: Figures {
                files: Some(files),
                rows: Some(0),
                bytes: Some(bytes),
                ..Figures::default()
            },
            done: false,
        }
    }
}

impl<S: Stream<Item = DeltaResult<RecordBatch>> + Unpin> Stream for TracedBatches<S> {
    type Item = DeltaResult<RecordBatch>;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Self::Item>> {
        let this = &mut *self;
        let polled = {
            let _entered = this.span.enter();
            Pin::new(&mut this.inner).poll_next(cx)
        };
        match &polled {
            Poll::Ready(Some(Ok(batch))) => {
                this.figures.rows = Some(this.figures.rows.unwrap_or(0) + batch.num_rows());
            }
            Poll::Ready(None) if !this.done => {
                this.done = true;
                finish(&this.span, this.started, this.figures);
            }
            _ => {}
        }
        polled
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    use arrow::array::{Int64Array, RecordBatch};
    use tracing::field::{Field, Visit};
    use tracing::span::{Attributes, Id, Record};
    use tracing::{Event, Level, Subscriber};
    use tracing_subscriber::Layer;
    use tracing_subscriber::layer::{Context, SubscriberExt};
    use tracing_subscriber::registry::LookupSpan;

    use crate::DeltaTable;

    /// Field values as text, by name.
    #[derive(Debug, Default, Clone)]
    struct Fields(HashMap<String, String>);

    impl Visit for Fields {
        fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
            self.0.insert(field.name().to_string(), format!("{value:?}"));
        }
    }

    /// What the layer saw: spans (name and fields, in creation order) and `info` events (the name
    /// of their span, their fields).
    #[derive(Debug, Default)]
    struct Seen {
        spans: Vec<(Id, &'static str, Fields)>,
        events: Vec<(Option<&'static str>, Fields)>,
    }

    #[derive(Clone, Default)]
    struct Collect(Arc<Mutex<Seen>>);

    impl<S: Subscriber + for<'a> LookupSpan<'a>> Layer<S> for Collect {
        fn on_new_span(&self, attrs: &Attributes<'_>, id: &Id, _: Context<'_, S>) {
            let mut fields = Fields::default();
            attrs.record(&mut fields);
            let mut seen = self.0.lock().unwrap();
            seen.spans.push((id.clone(), attrs.metadata().name(), fields));
        }

        fn on_record(&self, id: &Id, values: &Record<'_>, _: Context<'_, S>) {
            let mut seen = self.0.lock().unwrap();
            if let Some((_, _, fields)) = seen.spans.iter_mut().rev().find(|(i, ..)| i == id) {
                values.record(fields);
            }
        }

        fn on_event(&self, event: &Event<'_>, ctx: Context<'_, S>) {
            if *event.metadata().level() != Level::INFO {
                return;
            }
            let mut fields = Fields::default();
            event.record(&mut fields);
            let span = ctx.event_span(event).map(|s| s.name());
            self.0.lock().unwrap().events.push((span, fields));
        }
    }

    fn batch(values: Vec<i64>) -> RecordBatch {
        RecordBatch::try_from_iter([("n", Arc::new(Int64Array::from(values)) as _)]).unwrap()
    }

    #[tokio::test]
    async fn open_write_and_optimize_report_their_figures() {
        let collect = Collect::default();
        let _guard = tracing::subscriber::set_default(tracing_subscriber::registry().with(collect.clone()));
        let dir = tempfile::tempdir().unwrap();
        let location = dir.path().to_str().unwrap();
        DeltaTable::write(location)
            .with_batches(vec![batch(vec![1, 2, 3])])
            .await
            .unwrap();
        DeltaTable::write(location)
            .with_batches(vec![batch(vec![4, 5])])
            .await
            .unwrap();
        let table = DeltaTable::open(location).await.unwrap();
        let (table, _) = table.optimize().await.unwrap();
        assert_eq!(table.version(), 2);

        let seen = collect.0.lock().unwrap();
        let span = |name: &str, nth: usize| {
            let spans: Vec<&Fields> = seen
                .spans
                .iter()
                .filter(|(_, n, _)| *n == name)
                .map(|(.., f)| f)
                .collect();
            spans
                .get(nth)
                .map(|f| f.0.clone())
                .unwrap_or_else(|| panic!("no span {name} #{nth}: {seen:?}"))
        };
        let field = |fields: &HashMap<String, String>, name: &str| fields.get(name).cloned().unwrap_or_default();
        let second_write = span("write", 1);
        assert_eq!(field(&second_write, "version"), "1");
        assert_eq!(field(&second_write, "files"), "1");
        assert_eq!(field(&second_write, "rows"), "2");
        assert!(field(&second_write, "bytes").parse::<u64>().unwrap() > 0);
        let dir_name = dir.path().file_name().unwrap().to_str().unwrap();
        assert!(field(&second_write, "table").contains(dir_name), "{second_write:?}");
        // The last open is the explicit one (writes open the table they return too).
        let opens = seen.spans.iter().filter(|(_, n, _)| *n == "open").count();
        let open = span("open", opens - 1);
        assert_eq!(field(&open, "version"), "1");
        assert_eq!(field(&open, "files"), "2");
        let optimize = span("optimize", 0);
        assert_eq!(field(&optimize, "version"), "2");
        assert_eq!(field(&optimize, "files"), "3", "one file added, two removed");
        let commits = seen.spans.iter().filter(|(_, n, _)| *n == "commit").count();
        let commit = span("commit", commits - 1);
        assert_eq!(field(&commit, "version"), "2");
        for fields in [&second_write, &open, &optimize, &commit] {
            assert!(field(fields, "duration_ms").parse::<u64>().is_ok(), "{fields:?}");
        }
        // Each ends with an `info` event of its figures, inside its span (the last of each here).
        for (name, version) in [("write", "1"), ("open", "1"), ("optimize", "2")] {
            let finished = format!("{name} finished");
            let event = seen
                .events
                .iter()
                .rev()
                .find(|(span, f)| *span == Some(name) && f.0.get("message") == Some(&finished))
                .unwrap_or_else(|| panic!("no '{finished}' event: {:?}", seen.events));
            assert_eq!(field(&event.1.0, "version"), version);
            assert!(event.1.0.contains_key("duration_ms"));
        }
    }
}
