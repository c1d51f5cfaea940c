package deltalake

/*
#include <stdlib.h>
#include "deltalake.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
)

// Table is a Delta table loaded at some version. It is safe for concurrent use: scans and reads
// may run from many goroutines, and the methods that move it to another version (LoadVersion,
// Update, the operations) replace its snapshot atomically. Close it when done; a finalizer frees
// a forgotten one.
type Table struct {
	mu      sync.RWMutex
	handle  *C.DeltaTableHandle
	cleanup runtime.Cleanup
}

// OpenOption configures Open.
type OpenOption func(*openConfig)

type openConfig struct {
	version        *int64
	timestamp      *time.Time
	storageOptions map[string]string
}

// WithVersion loads the given version instead of the latest.
func WithVersion(version int64) OpenOption {
	return func(c *openConfig) { c.version = &version }
}

// WithTimestamp loads the latest version committed at or before t.
func WithTimestamp(t time.Time) OpenOption {
	return func(c *openConfig) { c.timestamp = &t }
}

// WithStorageOptions passes options to the object store (credentials, endpoints, ...), with the
// keys the deltalake Python package accepts (AWS_REGION, AWS_ENDPOINT_URL, ...).
func WithStorageOptions(options map[string]string) OpenOption {
	return func(c *openConfig) { c.storageOptions = options }
}

// Open loads the Delta table at uri (a local path or a URL such as s3://bucket/table).
func Open(ctx context.Context, uri string, options ...OpenOption) (*Table, error) {
	var config openConfig
	for _, option := range options {
		option(&config)
	}
	var args cStrings
	defer args.free()
	cURI := args.str(uri)
	keys, values, n := args.pairs(config.storageOptions)
	var version, timestamp C.int64_t
	hasVersion, hasTimestamp := config.version != nil, config.timestamp != nil
	if hasVersion {
		version = C.int64_t(*config.version)
	}
	if hasTimestamp {
		timestamp = C.int64_t(config.timestamp.UnixMilli())
	}
	var handle *C.DeltaTableHandle
	err := call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_table_open(cURI, keys, values, n, C.bool(hasVersion), version, C.bool(hasTimestamp),
			timestamp, cancel, &handle)
	})
	if err != nil {
		return nil, err
	}
	return newTable(handle), nil
}

// Exists reports whether a Delta table is at uri.
func Exists(ctx context.Context, uri string, options ...OpenOption) (bool, error) {
	var config openConfig
	for _, option := range options {
		option(&config)
	}
	var args cStrings
	defer args.free()
	cURI := args.str(uri)
	keys, values, n := args.pairs(config.storageOptions)
	var exists C.bool
	err := call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_table_exists(cURI, keys, values, n, cancel, &exists)
	})
	return bool(exists), err
}

func newTable(handle *C.DeltaTableHandle) *Table {
	t := &Table{handle: handle}
	t.cleanup = runtime.AddCleanup(t, func(h *C.DeltaTableHandle) { C.delta_table_free(h) }, handle)
	return t
}

// Close frees the table. Closing again does nothing; other methods then return ErrClosed.
// Readers returned by Scan stay valid.
func (t *Table) Close() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.handle != nil {
		t.cleanup.Stop()
		C.delta_table_free(t.handle)
		t.handle = nil
	}
	return nil
}

// with runs f with the live handle (ErrClosed after Close); Close waits for it.
func (t *Table) with(f func(h *C.DeltaTableHandle) error) error {
	t.mu.RLock()
	defer t.mu.RUnlock()
	if t.handle == nil {
		return ErrClosed
	}
	return f(t.handle)
}

// Version is the loaded version.
func (t *Table) Version() (int64, error) {
	var version C.int64_t
	err := t.with(func(h *C.DeltaTableHandle) error {
		return callNow(func() C.DeltaStatus { return C.delta_table_version(h, &version) })
	})
	return int64(version), err
}

// Schema is the table's schema as Arrow.
func (t *Table) Schema() (*arrow.Schema, error) {
	var schema *arrow.Schema
	err := t.with(func(h *C.DeltaTableHandle) error {
		var err error
		schema, err = importSchema(func(out *C.struct_ArrowSchema) C.DeltaStatus { return C.delta_table_schema(h, out) })
		return err
	})
	return schema, err
}

// importSchema imports the Arrow C schema get writes.
func importSchema(get func(out *C.struct_ArrowSchema) C.DeltaStatus) (*arrow.Schema, error) {
	out := (*cdata.CArrowSchema)(C.calloc(1, C.sizeof_struct_ArrowSchema))
	defer C.free(unsafe.Pointer(out))
	if err := callNow(func() C.DeltaStatus { return get((*C.struct_ArrowSchema)(unsafe.Pointer(out))) }); err != nil {
		return nil, err
	}
	defer cdata.ReleaseCArrowSchema(out)
	return cdata.ImportCArrowSchema(out)
}

// document returns one of the JSON documents of the loaded version.
func (t *Table) document(get func(h *C.DeltaTableHandle, out **C.char) C.DeltaStatus) (string, error) {
	var text string
	err := t.with(func(h *C.DeltaTableHandle) error {
		var out *C.char
		if err := callNow(func() C.DeltaStatus { return get(h, &out) }); err != nil {
			return err
		}
		text = takeString(out)
		return nil
	})
	return text, err
}

// SchemaJSON is the schema as Delta's JSON schema ({"type":"struct","fields":[...]}).
func (t *Table) SchemaJSON() (string, error) {
	return t.document(func(h *C.DeltaTableHandle, out **C.char) C.DeltaStatus {
		return C.delta_table_schema_json(h, out)
	})
}

// Metadata is the metadata action of the loaded version.
type Metadata struct {
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Description      string            `json:"description"`
	PartitionColumns []string          `json:"partitionColumns"`
	Configuration    map[string]string `json:"configuration"`
	CreatedTime      int64             `json:"createdTime"`
}

// Metadata returns the metadata of the loaded version.
func (t *Table) Metadata() (Metadata, error) {
	var m Metadata
	text, err := t.document(func(h *C.DeltaTableHandle, out **C.char) C.DeltaStatus {
		return C.delta_table_metadata_json(h, out)
	})
	if err == nil {
		err = json.Unmarshal([]byte(text), &m)
	}
	return m, err
}

// Protocol is the protocol action of the loaded version.
type Protocol struct {
	MinReaderVersion int      `json:"minReaderVersion"`
	MinWriterVersion int      `json:"minWriterVersion"`
	ReaderFeatures   []string `json:"readerFeatures"`
	WriterFeatures   []string `json:"writerFeatures"`
}

// Protocol returns the protocol of the loaded version.
func (t *Table) Protocol() (Protocol, error) {
	var p Protocol
	text, err := t.document(func(h *C.DeltaTableHandle, out **C.char) C.DeltaStatus {
		return C.delta_table_protocol_json(h, out)
	})
	if err == nil {
		err = json.Unmarshal([]byte(text), &p)
	}
	return p, err
}

// Commit is the commit information of one version.
type Commit struct {
	Version             int64          `json:"version"`
	Timestamp           int64          `json:"timestamp"`
	Operation           string         `json:"operation"`
	OperationParameters map[string]any `json:"operationParameters"`
	OperationMetrics    map[string]any `json:"operationMetrics"`
	UserMetadata        string         `json:"userMetadata"`
	ClientVersion       string         `json:"clientVersion"`
	// Info holds every field of the commit information, those above included.
	Info map[string]any `json:"-"`
}

// History returns the commit information of the newest limit versions (all when limit is 0) up
// to the loaded one, newest first.
func (t *Table) History(ctx context.Context, limit int) ([]Commit, error) {
	var text string
	err := t.with(func(h *C.DeltaTableHandle) error {
		var out *C.char
		err := call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
			return C.delta_table_history_json(h, C.size_t(max(limit, 0)), cancel, &out)
		})
		if err == nil {
			text = takeString(out)
		}
		return err
	})
	if err != nil {
		return nil, err
	}
	var commits []Commit
	if err := json.Unmarshal([]byte(text), &commits); err != nil {
		return nil, err
	}
	var infos []map[string]any
	if err := json.Unmarshal([]byte(text), &infos); err != nil {
		return nil, err
	}
	for i := range commits {
		commits[i].Info = infos[i]
	}
	return commits, nil
}

// reload moves the table to another version.
func (t *Table) reload(ctx context.Context, f func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken) C.DeltaStatus) error {
	return t.with(func(h *C.DeltaTableHandle) error {
		return call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus { return f(h, cancel) })
	})
}

// LoadVersion moves the table to version.
func (t *Table) LoadVersion(ctx context.Context, version int64) error {
	return t.reload(ctx, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_table_load_version(h, C.int64_t(version), cancel)
	})
}

// LoadTimestamp moves the table to the latest version committed at or before ts.
func (t *Table) LoadTimestamp(ctx context.Context, ts time.Time) error {
	return t.reload(ctx, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_table_load_timestamp(h, C.int64_t(ts.UnixMilli()), cancel)
	})
}

// Update moves the table to the latest version, reading only the commits made since it was
// loaded.
func (t *Table) Update(ctx context.Context) error {
	return t.reload(ctx, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_table_update(h, cancel)
	})
}

// ScanOptions selects what a scan reads.
type ScanOptions struct {
	// Columns to read, in this order (all when nil).
	Columns []string
	// Predicate is a SQL filter ("x > 3 AND y = 'a'"): only matching rows are returned.
	Predicate string
}

// importStream turns the C stream f fills into a RecordReader reading it without copying.
func importStream(ctx context.Context, f func(out *C.struct_ArrowArrayStream) error) (array.RecordReader, error) {
	stream := (*cdata.CArrowArrayStream)(C.calloc(1, C.sizeof_struct_ArrowArrayStream))
	// The reader moves the stream into memory of its own.
	defer C.free(unsafe.Pointer(stream))
	if err := f((*C.struct_ArrowArrayStream)(unsafe.Pointer(stream))); err != nil {
		return nil, err
	}
	reader, err := cdata.ImportCRecordReader(stream, nil)
	if err != nil {
		cdata.ReleaseCArrowArrayStream(stream)
		return nil, fmt.Errorf("deltalake: importing the Arrow stream: %w", err)
	}
	return &contextReader{RecordReader: reader.(array.RecordReader), ctx: ctx}, nil
}

// contextReader stops reading once its context is done.
type contextReader struct {
	array.RecordReader
	ctx context.Context
	err error
}

func (r *contextReader) Next() bool {
	if err := r.ctx.Err(); err != nil {
		r.err = &Error{Kind: KindCancelled, Message: "the scan was cancelled: " + err.Error(), cause: err}
		return false
	}
	return r.RecordReader.Next()
}

func (r *contextReader) Err() error {
	if r.err != nil {
		return r.err
	}
	return r.RecordReader.Err()
}

// Scan reads the loaded version as Arrow record batches: the files are read as the reader asks
// for batches (stopping when ctx is done), and each batch crosses from Rust without a copy.
// Release the reader when done. The reader does not need the Table to stay open.
func (t *Table) Scan(ctx context.Context, options ScanOptions) (array.RecordReader, error) {
	var reader array.RecordReader
	err := t.with(func(h *C.DeltaTableHandle) error {
		var args cStrings
		defer args.free()
		columns := args.list(options.Columns)
		predicate := args.optional(options.Predicate)
		var err error
		reader, err = importStream(ctx, func(out *C.struct_ArrowArrayStream) error {
			return call(ctx, func(*C.DeltaCancelToken) C.DeltaStatus {
				return C.delta_table_scan(h, columns, C.size_t(len(options.Columns)), predicate, out)
			})
		})
		return err
	})
	return reader, err
}

// ChangesOptions selects the range of a change data feed.
type ChangesOptions struct {
	// StartingVersion is the first version read.
	StartingVersion int64
	// EndingVersion is the last version read (the latest when nil).
	EndingVersion *int64
	// StartingTime and EndingTime, when not zero, select the versions by time instead.
	StartingTime, EndingTime time.Time
	// Columns and Predicate as in ScanOptions.
	Columns   []string
	Predicate string
	// AllowOutOfRange reads up to the latest version when the end is past it.
	AllowOutOfRange bool
}

// Changes reads the change data feed of the table (with _change_type, _commit_version and
// _commit_timestamp columns).
func (t *Table) Changes(ctx context.Context, options ChangesOptions) (array.RecordReader, error) {
	var reader array.RecordReader
	err := t.with(func(h *C.DeltaTableHandle) error {
		var args cStrings
		defer args.free()
		columns := args.list(options.Columns)
		predicate := args.optional(options.Predicate)
		var ending C.int64_t
		if options.EndingVersion != nil {
			ending = C.int64_t(*options.EndingVersion)
		}
		startMs, endMs := C.int64_t(-1), C.int64_t(-1)
		if !options.StartingTime.IsZero() {
			startMs = C.int64_t(options.StartingTime.UnixMilli())
		}
		if !options.EndingTime.IsZero() {
			endMs = C.int64_t(options.EndingTime.UnixMilli())
		}
		var err error
		reader, err = importStream(ctx, func(out *C.struct_ArrowArrayStream) error {
			return call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
				return C.delta_table_changes(h, C.int64_t(options.StartingVersion), C.bool(options.EndingVersion != nil),
					ending, startMs, endMs, columns, C.size_t(len(options.Columns)), predicate,
					C.bool(options.AllowOutOfRange), cancel, out)
			})
		})
		return err
	})
	return reader, err
}

// File is one active file of the table.
type File struct {
	// Path relative to the table root, decoded.
	Path string
	// Location is a local path for local tables, else a full URI.
	Location string
	// SizeBytes is the file's size.
	SizeBytes int64
	// PartitionValues by column name; nil values are null partitions.
	PartitionValues map[string]*string
}

// Files lists the active files of the loaded version; with a predicate (a SQL filter), only
// those that may hold matching rows.
func (t *Table) Files(predicate string) ([]File, error) {
	var reader array.RecordReader
	err := t.with(func(h *C.DeltaTableHandle) error {
		var args cStrings
		defer args.free()
		cPredicate := args.optional(predicate)
		var err error
		reader, err = importStream(context.Background(), func(out *C.struct_ArrowArrayStream) error {
			return callNow(func() C.DeltaStatus { return C.delta_table_files(h, cPredicate, out) })
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return readFiles(reader)
}

// readFiles decodes a file list stream (see delta_table_files) and releases it.
func readFiles(reader array.RecordReader) ([]File, error) {
	defer reader.Release()
	var files []File
	for reader.Next() {
		batch := reader.RecordBatch()
		paths := batch.Column(0).(*array.String)
		locations := batch.Column(1).(*array.String)
		sizes := batch.Column(2).(*array.Int64)
		partitions := batch.Column(3).(*array.Map)
		keys := partitions.Keys().(*array.String)
		values := partitions.Items().(*array.String)
		for i := 0; i < int(batch.NumRows()); i++ {
			file := File{
				Path:            strings.Clone(paths.Value(i)),
				Location:        strings.Clone(locations.Value(i)),
				SizeBytes:       sizes.Value(i),
				PartitionValues: map[string]*string{},
			}
			start, end := partitions.ValueOffsets(i)
			for j := start; j < end; j++ {
				var value *string
				if values.IsValid(int(j)) {
					v := strings.Clone(values.Value(int(j)))
					value = &v
				}
				file.PartitionValues[strings.Clone(keys.Value(int(j)))] = value
			}
			files = append(files, file)
		}
	}
	return files, reader.Err()
}
