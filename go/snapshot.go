package deltalake

/*
#include <stdlib.h>
#include "deltalake.h"
*/
import "C"

import (
	"context"
	"runtime"
	"sync"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
)

// Snapshot is one version of a table, held still: its reads see that version whatever the Table
// it came from does next (Update, writes, Close). It is immutable and safe for concurrent use.
// Close it when done; a finalizer frees a forgotten one.
type Snapshot struct {
	mu      sync.RWMutex
	handle  *C.DeltaSnapshotHandle
	cleanup runtime.Cleanup
}

// Snapshot holds the table's loaded version still.
func (t *Table) Snapshot() (*Snapshot, error) {
	var handle *C.DeltaSnapshotHandle
	err := t.with(func(h *C.DeltaTableHandle) error {
		return callNow(func() C.DeltaStatus { return C.delta_table_snapshot(h, &handle) })
	})
	if err != nil {
		return nil, err
	}
	s := &Snapshot{handle: handle}
	s.cleanup = runtime.AddCleanup(s, func(h *C.DeltaSnapshotHandle) { C.delta_snapshot_free(h) }, handle)
	return s, nil
}

// Close frees the snapshot. Closing again does nothing; other methods then return ErrClosed.
// Readers returned by Scan stay valid.
func (s *Snapshot) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle != nil {
		s.cleanup.Stop()
		C.delta_snapshot_free(s.handle)
		s.handle = nil
	}
	return nil
}

// with runs f with the live handle (ErrClosed after Close); Close waits for it.
func (s *Snapshot) with(f func(h *C.DeltaSnapshotHandle) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.handle == nil {
		return ErrClosed
	}
	return f(s.handle)
}

// Version is the snapshot's version.
func (s *Snapshot) Version() (int64, error) {
	var version C.int64_t
	err := s.with(func(h *C.DeltaSnapshotHandle) error {
		return callNow(func() C.DeltaStatus { return C.delta_snapshot_version(h, &version) })
	})
	return int64(version), err
}

// Schema is the snapshot's schema as Arrow.
func (s *Snapshot) Schema() (*arrow.Schema, error) {
	var schema *arrow.Schema
	err := s.with(func(h *C.DeltaSnapshotHandle) error {
		var err error
		schema, err = importSchema(func(out *C.struct_ArrowSchema) C.DeltaStatus { return C.delta_snapshot_schema(h, out) })
		return err
	})
	return schema, err
}

// Files lists the snapshot's active files; with a predicate (a SQL filter), only those that may
// hold matching rows.
func (s *Snapshot) Files(predicate string) ([]File, error) {
	var reader array.RecordReader
	err := s.with(func(h *C.DeltaSnapshotHandle) error {
		var args cStrings
		defer args.free()
		cPredicate := args.optional(predicate)
		var err error
		reader, err = importStream(context.Background(), func(out *C.struct_ArrowArrayStream) error {
			return callNow(func() C.DeltaStatus { return C.delta_snapshot_files(h, cPredicate, out) })
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	return readFiles(reader)
}

// Scan reads the snapshot's version as Arrow record batches, as Table.Scan does.
func (s *Snapshot) Scan(ctx context.Context, options ScanOptions) (array.RecordReader, error) {
	var reader array.RecordReader
	err := s.with(func(h *C.DeltaSnapshotHandle) error {
		var args cStrings
		defer args.free()
		columns := args.list(options.Columns)
		predicate := args.optional(options.Predicate)
		var scan *C.DeltaScanHandle
		err := callNow(func() C.DeltaStatus {
			return C.delta_snapshot_scan(h, columns, C.size_t(len(options.Columns)), predicate, &scan)
		})
		if err != nil {
			return err
		}
		defer C.delta_scan_free(scan)
		reader, err = importStream(ctx, func(out *C.struct_ArrowArrayStream) error {
			return callNow(func() C.DeltaStatus { return C.delta_scan_execute(scan, out) })
		})
		return err
	})
	return reader, err
}
