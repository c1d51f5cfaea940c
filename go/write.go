package deltalake

/*
#include <stdlib.h>
#include "deltalake.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/cdata"
)

// SaveMode is what a write does with a table's existing rows.
type SaveMode string

// The save modes.
const (
	// ModeAppend adds the rows (the default).
	ModeAppend SaveMode = "append"
	// ModeOverwrite replaces the rows (those matching WriteOptions.Predicate, when given).
	ModeOverwrite SaveMode = "overwrite"
	// ModeError fails when the table exists.
	ModeError SaveMode = "error"
	// ModeIgnore writes nothing when the table exists.
	ModeIgnore SaveMode = "ignore"
)

// SchemaMode is how a write's schema may change the table's.
type SchemaMode string

// The schema modes.
const (
	// SchemaStrict requires the data's schema to match (the default).
	SchemaStrict SchemaMode = ""
	// SchemaMerge adds the data's new columns to the table.
	SchemaMerge SchemaMode = "merge"
	// SchemaOverwrite replaces the schema (with ModeOverwrite).
	SchemaOverwrite SchemaMode = "overwrite"
)

// WriteOptions configures Write and Create.
type WriteOptions struct {
	// Mode is ModeAppend when empty. Create accepts ModeError (the default) and ModeIgnore.
	Mode SaveMode
	// SchemaMode is SchemaStrict when empty.
	SchemaMode SchemaMode
	// PartitionBy names the partition columns of a new table.
	PartitionBy []string
	// Configuration holds the table properties of a new table (delta.appendOnly, ...).
	Configuration map[string]string
	// Predicate, with ModeOverwrite, replaces only the rows matching this SQL filter.
	Predicate string
	// Name and Description of a new table.
	Name, Description string
	// Compression is the Parquet codec: snappy (default), zstd, gzip, lz4, brotli, uncompressed.
	Compression string
	// TargetFileSize rolls to a new file at about this many bytes (0: the default).
	TargetFileSize int
	// MaxRowGroupSize bounds the rows of a Parquet row group (0: the default).
	MaxRowGroupSize int
	// CustomMetadata is added to the commit's commitInfo (a "userMetadata" entry becomes
	// commitInfo.userMetadata).
	CustomMetadata map[string]any
	// StorageOptions for the object store (Write and Create only).
	StorageOptions map[string]string
}

// toC fills the C options; the strings live in args.
func (o *WriteOptions) toC(args *cStrings) (C.DeltaWriteOptions, error) {
	var c C.DeltaWriteOptions
	c.mode = args.optional(string(o.Mode))
	c.schema_mode = args.optional(string(o.SchemaMode))
	c.partition_by = args.list(o.PartitionBy)
	c.partition_by_len = C.size_t(len(o.PartitionBy))
	c.configuration_keys, c.configuration_values, c.configuration_len = args.pairs(o.Configuration)
	c.predicate = args.optional(o.Predicate)
	c.name = args.optional(o.Name)
	c.description = args.optional(o.Description)
	c.compression = args.optional(o.Compression)
	c.target_file_size = C.size_t(max(o.TargetFileSize, 0))
	c.max_row_group_size = C.size_t(max(o.MaxRowGroupSize, 0))
	if o.CustomMetadata != nil {
		text, err := json.Marshal(o.CustomMetadata)
		if err != nil {
			return c, &Error{Kind: KindInvalidArgument, Message: "custom metadata: " + err.Error()}
		}
		c.custom_metadata_json = args.str(string(text))
	}
	return c, nil
}

// exportReader hands reader to f as a C stream, which the library takes (and releases). The
// caller keeps its own reference to reader.
func exportReader(reader array.RecordReader, f func(stream *C.struct_ArrowArrayStream) error) error {
	if reader == nil {
		return &Error{Kind: KindInvalidArgument, Message: "the record reader is nil"}
	}
	stream := (*cdata.CArrowArrayStream)(C.calloc(1, C.sizeof_struct_ArrowArrayStream))
	defer C.free(unsafe.Pointer(stream))
	reader.Retain()
	cdata.ExportRecordReader(reader, stream)
	cStream := (*C.struct_ArrowArrayStream)(unsafe.Pointer(stream))
	err := f(cStream)
	// A call that failed before taking the stream leaves it to us.
	if cStream.release != nil {
		cdata.ReleaseCArrowArrayStream(stream)
	}
	return err
}

// Write writes the batches of reader to the table at uri, creating the table when there is none,
// and returns the version committed. The batches cross to Rust without a copy; the reader is
// read to its end (or until an error) and the caller still releases it.
func Write(ctx context.Context, uri string, reader array.RecordReader, options WriteOptions) (int64, error) {
	var args cStrings
	defer args.free()
	cURI := args.str(uri)
	keys, values, n := args.pairs(options.StorageOptions)
	cOptions, err := options.toC(&args)
	if err != nil {
		return 0, err
	}
	var handle *C.DeltaTableHandle
	err = exportReader(reader, func(stream *C.struct_ArrowArrayStream) error {
		return call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
			return C.delta_write(cURI, keys, values, n, stream, &cOptions, cancel, &handle)
		})
	})
	if err != nil {
		return 0, err
	}
	table := newTable(handle)
	defer table.Close()
	return table.Version()
}

// Write appends (or, with ModeOverwrite, overwrites) the batches of reader to this table, reusing
// its loaded snapshot, moves the table to the new version and returns it. StorageOptions are
// ignored (the table's are used).
func (t *Table) Write(ctx context.Context, reader array.RecordReader, options WriteOptions) (int64, error) {
	var args cStrings
	defer args.free()
	cOptions, err := options.toC(&args)
	if err != nil {
		return 0, err
	}
	var version C.int64_t
	err = t.with(func(h *C.DeltaTableHandle) error {
		return exportReader(reader, func(stream *C.struct_ArrowArrayStream) error {
			return call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
				return C.delta_table_write(h, stream, &cOptions, cancel, &version)
			})
		})
	})
	return int64(version), err
}

// Create creates an empty table at uri with the columns of schema (and PartitionBy,
// Configuration, Name, Description, CustomMetadata and StorageOptions from options) and opens it.
func Create(ctx context.Context, uri string, schema *arrow.Schema, options WriteOptions) (*Table, error) {
	if schema == nil {
		return nil, &Error{Kind: KindInvalidArgument, Message: "the schema is nil"}
	}
	var args cStrings
	defer args.free()
	cURI := args.str(uri)
	keys, values, n := args.pairs(options.StorageOptions)
	cOptions, err := options.toC(&args)
	if err != nil {
		return nil, err
	}
	cSchema := (*cdata.CArrowSchema)(C.calloc(1, C.sizeof_struct_ArrowSchema))
	defer C.free(unsafe.Pointer(cSchema))
	cdata.ExportArrowSchema(schema, cSchema)
	defer cdata.ReleaseCArrowSchema(cSchema)
	var handle *C.DeltaTableHandle
	err = call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus {
		return C.delta_create(cURI, keys, values, n, (*C.struct_ArrowSchema)(unsafe.Pointer(cSchema)), &cOptions,
			cancel, &handle)
	})
	if err != nil {
		return nil, err
	}
	return newTable(handle), nil
}
