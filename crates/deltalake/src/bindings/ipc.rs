//! Arrow IPC bytes in and out, for hosts without the Arrow C data interface (Node's
//! `apache-arrow`, or any caller that moves Arrow data as bytes).

use std::io::Cursor;

use arrow::array::RecordBatch;
use arrow::buffer::Buffer;
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::{FileReader, StreamDecoder};
use arrow::ipc::writer::StreamWriter;
use bytes::Bytes;
use futures::{Stream, StreamExt};

use crate::error::{DeltaError, DeltaResult};
use crate::scan::RecordBatchStream;

/// The magic bytes that open an Arrow IPC file (as opposed to a stream).
const FILE_MAGIC: &[u8] = b"ARROW1";

/// Encodes batches as the messages of one Arrow IPC stream, a chunk of bytes per call; the chunks
/// concatenated are a complete stream.
pub struct IpcEncoder {
    writer: StreamWriter<Vec<u8>>,
}

impl std::fmt::Debug for IpcEncoder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IpcEncoder").finish_non_exhaustive()
    }
}

impl IpcEncoder {
    /// An encoder of batches of `schema`, and the first chunk: the schema message.
    pub fn new(schema: &SchemaRef) -> DeltaResult<(Self, Bytes)> {
        let mut writer = StreamWriter::try_new(Vec::new(), schema)?;
        let head = std::mem::take(writer.get_mut());
        Ok((Self { writer }, head.into()))
    }

    /// The bytes of one batch (and of the dictionaries it needs).
    pub fn encode(&mut self, batch: &RecordBatch) -> DeltaResult<Bytes> {
        self.writer.write(batch)?;
        Ok(std::mem::take(self.writer.get_mut()).into())
    }

    /// The end-of-stream marker.
    pub fn finish(mut self) -> DeltaResult<Bytes> {
        self.writer.finish()?;
        Ok(std::mem::take(self.writer.get_mut()).into())
    }
}

/// `stream` as Arrow IPC stream bytes: the schema message, one chunk per batch, the end marker.
pub fn ipc_chunks(schema: SchemaRef, stream: RecordBatchStream) -> impl Stream<Item = DeltaResult<Bytes>> + Send {
    enum State {
        Start(SchemaRef, RecordBatchStream),
        Batches(Box<IpcEncoder>, RecordBatchStream),
        Done,
    }
    futures::stream::unfold(State::Start(schema, stream), |state| async move {
        match state {
            State::Start(schema, stream) => Some(match IpcEncoder::new(&schema) {
                Ok((encoder, head)) => (Ok(head), State::Batches(Box::new(encoder), stream)),
                Err(e) => (Err(e), State::Done),
            }),
            State::Batches(mut encoder, mut stream) => match stream.next().await {
                Some(Ok(batch)) => Some(match encoder.encode(&batch) {
                    Ok(bytes) => (Ok(bytes), State::Batches(encoder, stream)),
                    Err(e) => (Err(e), State::Done),
                }),
                Some(Err(e)) => Some((Err(e), State::Done)),
                None => Some((encoder.finish(), State::Done)),
            },
            State::Done => None,
        }
    })
}

/// Decodes an Arrow IPC stream pushed in chunks of any size (as they arrive from the host).
#[derive(Debug, Default)]
pub struct IpcDecoder {
    decoder: StreamDecoder,
}

impl IpcDecoder {
    /// A decoder waiting for the schema message.
    pub fn new() -> Self {
        Self::default()
    }

    /// The schema, once its message was pushed.
    pub fn schema(&self) -> Option<SchemaRef> {
        self.decoder.schema()
    }

    /// Decode `chunk`, returning the batches it completes.
    pub fn push(&mut self, chunk: Bytes) -> DeltaResult<Vec<RecordBatch>> {
        let mut buffer = Buffer::from(chunk);
        let mut batches = Vec::new();
        while !buffer.is_empty() {
            match self.decoder.decode(&mut buffer).map_err(invalid)? {
                Some(batch) => batches.push(batch),
                None if buffer.is_empty() => break,
                None => {}
            }
        }
        Ok(batches)
    }

    /// Check that the stream ended on a message boundary.
    pub fn finish(mut self) -> DeltaResult<()> {
        self.decoder.finish().map_err(invalid)
    }
}

/// The schema and batches of a whole Arrow IPC buffer, in the stream or the file format.
pub fn read_ipc(bytes: Bytes) -> DeltaResult<(SchemaRef, Vec<RecordBatch>)> {
    if bytes.starts_with(FILE_MAGIC) {
        let reader = FileReader::try_new(Cursor::new(bytes), None).map_err(invalid)?;
        let schema = reader.schema();
        let batches = reader.collect::<Result<Vec<_>, _>>().map_err(invalid)?;
        return Ok((schema, batches));
    }
    let mut decoder = IpcDecoder::new();
    let batches = decoder.push(bytes)?;
    let schema = decoder
        .schema()
        .ok_or_else(|| DeltaError::InvalidArgument("the Arrow IPC data holds no schema".into()))?;
    decoder.finish()?;
    Ok((schema, batches))
}

fn invalid(err: arrow::error::ArrowError) -> DeltaError {
    DeltaError::InvalidArgument(format!("invalid Arrow IPC data: {err}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow::array::{Int64Array, StringArray};
    use arrow::datatypes::{DataType, Field, Schema};
    use futures::TryStreamExt;

    use super::*;
    use crate::bindings::block_on;

    fn batch(ids: &[i64]) -> RecordBatch {
        let schema = Arc::new(Schema::new(vec![
            Field::new("id", DataType::Int64, false),
            Field::new("name", DataType::Utf8, true),
        ]));
        let names: StringArray = ids.iter().map(|i| Some(format!("n{i}"))).collect();
        RecordBatch::try_new(schema, vec![Arc::new(Int64Array::from(ids.to_vec())), Arc::new(names)]).unwrap()
    }

    #[test]
    fn chunks_concatenate_to_a_stream_that_decodes_in_any_split() {
        let batches = vec![batch(&[1, 2, 3]), batch(&[]), batch(&[4])];
        let stream = futures::stream::iter(batches.clone().into_iter().map(Ok)).boxed();
        let chunks: Vec<Bytes> = block_on(ipc_chunks(batches[0].schema(), stream).try_collect())
            .unwrap()
            .unwrap();
        assert_eq!(chunks.len(), 5);
        let whole: Vec<u8> = chunks.concat();
        let (schema, read) = read_ipc(whole.clone().into()).unwrap();
        assert_eq!(schema, batches[0].schema());
        assert_eq!(read, batches);
        // Pushed seven bytes at a time, as a socket might deliver them.
        let mut decoder = IpcDecoder::new();
        let mut read = Vec::new();
        for piece in whole.chunks(7) {
            read.extend(decoder.push(Bytes::copy_from_slice(piece)).unwrap());
        }
        decoder.finish().unwrap();
        assert_eq!(read, batches);
    }

    #[test]
    fn reads_the_file_format_and_rejects_garbage() {
        let b = batch(&[5, 6]);
        let mut writer = arrow::ipc::writer::FileWriter::try_new(Vec::new(), &b.schema()).unwrap();
        writer.write(&b).unwrap();
        writer.finish().unwrap();
        let bytes = writer.into_inner().unwrap();
        assert_eq!(read_ipc(bytes.into()).unwrap().1, vec![b]);
        let err = read_ipc(Bytes::from_static(b"not arrow at all")).unwrap_err();
        assert_eq!(err.kind(), crate::error::ErrorKind::InvalidArgument);
        assert!(read_ipc(Bytes::new()).is_err());
    }
}
