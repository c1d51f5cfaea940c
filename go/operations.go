package deltalake

/*
#include <stdlib.h>
#include "deltalake.h"
*/
import "C"

import (
	"context"
	"encoding/json"
	"time"
	"unsafe"

	"github.com/apache/arrow-go/v18/arrow/array"
)

// DeleteMetrics are the figures of a Delete.
type DeleteMetrics struct {
	NumDeletedRows          int   `json:"numDeletedRows"`
	NumCopiedRows           int   `json:"numCopiedRows"`
	NumAddedFiles           int   `json:"numAddedFiles"`
	NumRemovedFiles         int   `json:"numRemovedFiles"`
	NumAddedChangeFiles     int   `json:"numAddedChangeFiles"`
	NumDeletionVectorsAdded int   `json:"numDeletionVectorsAdded"`
	ExecutionTimeMs         int64 `json:"executionTimeMs"`
	ScanTimeMs              int64 `json:"scanTimeMs"`
	RewriteTimeMs           int64 `json:"rewriteTimeMs"`
}

// UpdateMetrics are the figures of an UpdateRows.
type UpdateMetrics struct {
	NumUpdatedRows          int   `json:"numUpdatedRows"`
	NumCopiedRows           int   `json:"numCopiedRows"`
	NumAddedFiles           int   `json:"numAddedFiles"`
	NumRemovedFiles         int   `json:"numRemovedFiles"`
	NumAddedChangeFiles     int   `json:"numAddedChangeFiles"`
	NumDeletionVectorsAdded int   `json:"numDeletionVectorsAdded"`
	ExecutionTimeMs         int64 `json:"executionTimeMs"`
	ScanTimeMs              int64 `json:"scanTimeMs"`
	RewriteTimeMs           int64 `json:"rewriteTimeMs"`
}

// MergeMetrics are the figures of a Merge.
type MergeMetrics struct {
	NumSourceRows                   int   `json:"numSourceRows"`
	NumTargetRowsInserted           int   `json:"numTargetRowsInserted"`
	NumTargetRowsUpdated            int   `json:"numTargetRowsUpdated"`
	NumTargetRowsDeleted            int   `json:"numTargetRowsDeleted"`
	NumTargetRowsCopied             int   `json:"numTargetRowsCopied"`
	NumOutputRows                   int   `json:"numOutputRows"`
	NumTargetFilesScanned           int   `json:"numTargetFilesScanned"`
	NumTargetFilesSkippedDuringScan int   `json:"numTargetFilesSkippedDuringScan"`
	NumTargetFilesAdded             int   `json:"numTargetFilesAdded"`
	NumTargetFilesRemoved           int   `json:"numTargetFilesRemoved"`
	NumTargetChangeFilesAdded       int   `json:"numTargetChangeFilesAdded"`
	NumTargetDeletionVectorsAdded   int   `json:"numTargetDeletionVectorsAdded"`
	ExecutionTimeMs                 int64 `json:"executionTimeMs"`
	ScanTimeMs                      int64 `json:"scanTimeMs"`
	RewriteTimeMs                   int64 `json:"rewriteTimeMs"`
}

// FileSizeMetrics summarise the sizes of a set of files.
type FileSizeMetrics struct {
	Min        int64   `json:"min"`
	Max        int64   `json:"max"`
	Avg        float64 `json:"avg"`
	TotalFiles int     `json:"totalFiles"`
	TotalSize  int64   `json:"totalSize"`
}

// OptimizeMetrics are the figures of an Optimize.
type OptimizeMetrics struct {
	NumFilesAdded          int             `json:"numFilesAdded"`
	NumFilesRemoved        int             `json:"numFilesRemoved"`
	FilesAdded             FileSizeMetrics `json:"filesAdded"`
	FilesRemoved           FileSizeMetrics `json:"filesRemoved"`
	PartitionsOptimized    int             `json:"partitionsOptimized"`
	NumBatches             int             `json:"numBatches"`
	TotalConsideredFiles   int             `json:"totalConsideredFiles"`
	TotalFilesSkipped      int             `json:"totalFilesSkipped"`
	PreserveInsertionOrder bool            `json:"preserveInsertionOrder"`
}

// VacuumMetrics are the figures of a Vacuum.
type VacuumMetrics struct {
	DryRun bool `json:"dryRun"`
	// FilesDeleted are the files deleted (or, in a dry run, that would be).
	FilesDeleted []string `json:"filesDeleted"`
}

// RestoreMetrics are the figures of a Restore.
type RestoreMetrics struct {
	NumRestoredFiles       int   `json:"numRestoredFile"`
	NumRemovedFiles        int   `json:"numRemovedFile"`
	RestoredFilesSize      int64 `json:"restoredFilesSize"`
	RemovedFilesSize       int64 `json:"removedFilesSize"`
	NumOfFilesAfterRestore int   `json:"numOfFilesAfterRestore"`
	TableSizeAfterRestore  int64 `json:"tableSizeAfterRestore"`
}

// Checkpoint describes a checkpoint written by CreateCheckpoint (the _last_checkpoint document).
type Checkpoint struct {
	Version int64 `json:"version"`
	Size    int64 `json:"size"`
	Parts   *int  `json:"parts"`
}

// operate runs an operation on the table and decodes its metrics JSON into metrics.
func (t *Table) operate(ctx context.Context, metrics any,
	f func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus) error {
	var text string
	err := t.with(func(h *C.DeltaTableHandle) error {
		var out *C.char
		err := call(ctx, func(cancel *C.DeltaCancelToken) C.DeltaStatus { return f(h, cancel, &out) })
		if err == nil && out != nil {
			text = takeString(out)
		}
		return err
	})
	if err != nil {
		return err
	}
	return json.Unmarshal([]byte(text), metrics)
}

// Delete deletes the rows matching the SQL predicate (every row when it is "").
func (t *Table) Delete(ctx context.Context, predicate string) (DeleteMetrics, error) {
	var args cStrings
	defer args.free()
	cPredicate := args.optional(predicate)
	var metrics DeleteMetrics
	err := t.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_delete(h, cPredicate, cancel, out)
	})
	return metrics, err
}

// UpdateOptions describes an UpdateRows.
type UpdateOptions struct {
	// Set maps each column to update to a SQL expression of its new value ("price * 2").
	Set map[string]string
	// Predicate selects the rows to update (every row when "").
	Predicate string
}

// UpdateRows sets columns of the rows matching a predicate (Table.Update instead moves the table
// to its latest version).
func (t *Table) UpdateRows(ctx context.Context, options UpdateOptions) (UpdateMetrics, error) {
	var args cStrings
	defer args.free()
	columns, expressions, n := args.pairs(options.Set)
	cPredicate := args.optional(options.Predicate)
	var metrics UpdateMetrics
	err := t.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_update_rows(h, columns, expressions, n, cPredicate, cancel, out)
	})
	return metrics, err
}

// OptimizeOptions describes an Optimize.
type OptimizeOptions struct {
	// ZOrderBy, when set, rewrites the files sorted by the Z-order of these columns instead of
	// compacting them.
	ZOrderBy []string
	// PartitionPredicate limits the work to the partitions matching a SQL filter on partition
	// columns.
	PartitionPredicate string
	// TargetSize of the files written in bytes (0: delta.targetFileSize, else 100 MiB).
	TargetSize uint64
	// MaxConcurrentTasks bounds the bins rewritten at once (0: the default).
	MaxConcurrentTasks int
}

// Optimize compacts the table's small files (or Z-orders them).
func (t *Table) Optimize(ctx context.Context, options OptimizeOptions) (OptimizeMetrics, error) {
	var args cStrings
	defer args.free()
	zOrder := args.list(options.ZOrderBy)
	predicate := args.optional(options.PartitionPredicate)
	var metrics OptimizeMetrics
	err := t.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_optimize(h, zOrder, C.size_t(len(options.ZOrderBy)), predicate, C.uint64_t(options.TargetSize),
			C.size_t(max(options.MaxConcurrentTasks, 0)), cancel, out)
	})
	return metrics, err
}

// VacuumOptions describes a Vacuum. The zero value is a dry run with the table's retention.
type VacuumOptions struct {
	// Retention keeps the files removed more recently than this (0: the table's
	// delta.deletedFileRetentionDuration, 7 days by default). Rounded down to hours.
	Retention time.Duration
	// Execute deletes the files; without it the vacuum only lists them.
	Execute bool
	// SkipRetentionCheck allows a retention shorter than the table's.
	SkipRetentionCheck bool
	// Full lists the whole table directory, finding files never committed too.
	Full bool
}

// Vacuum deletes the files no version within the retention needs.
func (t *Table) Vacuum(ctx context.Context, options VacuumOptions) (VacuumMetrics, error) {
	hours := C.int64_t(-1)
	if options.Retention > 0 || options.SkipRetentionCheck {
		hours = C.int64_t(options.Retention / time.Hour)
	}
	var metrics VacuumMetrics
	err := t.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_vacuum(h, hours, C.bool(!options.Execute), C.bool(!options.SkipRetentionCheck),
			C.bool(options.Full), cancel, out)
	})
	return metrics, err
}

// RestoreOptions describes a Restore: to Version, or to the version current at Time when it is
// not zero.
type RestoreOptions struct {
	Version                  int64
	Time                     time.Time
	IgnoreMissingFiles       bool
	ProtocolDowngradeAllowed bool
}

// Restore makes an earlier version current again, as a new commit.
func (t *Table) Restore(ctx context.Context, options RestoreOptions) (RestoreMetrics, error) {
	byTime := !options.Time.IsZero()
	var ms int64
	if byTime {
		ms = options.Time.UnixMilli()
	}
	var metrics RestoreMetrics
	err := t.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_restore(h, C.int64_t(options.Version), C.bool(byTime), C.int64_t(ms),
			C.bool(options.IgnoreMissingFiles), C.bool(options.ProtocolDowngradeAllowed), cancel, out)
	})
	return metrics, err
}

// CreateCheckpoint writes a checkpoint of the loaded version.
func (t *Table) CreateCheckpoint(ctx context.Context) (Checkpoint, error) {
	var checkpoint Checkpoint
	err := t.operate(ctx, &checkpoint, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
		return C.delta_table_create_checkpoint(h, cancel, out)
	})
	return checkpoint, err
}

// MergeBuilder describes a merge of a source of rows into a table: start it with Table.Merge,
// add clauses (tried in the order added) and Execute it.
type MergeBuilder struct {
	table       *Table
	source      array.RecordReader
	predicate   string
	sourceAlias string
	targetAlias string
	mergeSchema bool
	clauses     []mergeClause
}

type mergeClause struct {
	kind      string
	predicate string
	set       map[string]string
	except    []string
}

// Merge starts a merge of source into the table, joining rows on the SQL predicate
// ("target.id = source.id"; the relations are named source and target unless renamed).
func (t *Table) Merge(source array.RecordReader, predicate string) *MergeBuilder {
	return &MergeBuilder{table: t, source: source, predicate: predicate}
}

// WithSourceAlias names the source relation in predicates and expressions.
func (m *MergeBuilder) WithSourceAlias(alias string) *MergeBuilder { m.sourceAlias = alias; return m }

// WithTargetAlias names the target relation in predicates and expressions.
func (m *MergeBuilder) WithTargetAlias(alias string) *MergeBuilder { m.targetAlias = alias; return m }

// WithMergeSchema adds the source's new columns to the table.
func (m *MergeBuilder) WithMergeSchema() *MergeBuilder { m.mergeSchema = true; return m }

func (m *MergeBuilder) add(kind, predicate string, set map[string]string, except []string) *MergeBuilder {
	m.clauses = append(m.clauses, mergeClause{kind: kind, predicate: predicate, set: set, except: except})
	return m
}

// WhenMatchedUpdate sets columns of matched target rows (that also match predicate, when not
// "") to SQL expressions.
func (m *MergeBuilder) WhenMatchedUpdate(predicate string, set map[string]string) *MergeBuilder {
	return m.add("when_matched_update", predicate, set, nil)
}

// WhenMatchedUpdateAll sets every column of matched target rows from the source, except those
// named.
func (m *MergeBuilder) WhenMatchedUpdateAll(predicate string, except ...string) *MergeBuilder {
	return m.add("when_matched_update_all", predicate, nil, except)
}

// WhenMatchedDelete deletes matched target rows.
func (m *MergeBuilder) WhenMatchedDelete(predicate string) *MergeBuilder {
	return m.add("when_matched_delete", predicate, nil, nil)
}

// WhenNotMatchedInsert inserts source rows no target row matches, with the columns given.
func (m *MergeBuilder) WhenNotMatchedInsert(predicate string, set map[string]string) *MergeBuilder {
	return m.add("when_not_matched_insert", predicate, set, nil)
}

// WhenNotMatchedInsertAll inserts source rows no target row matches, every column but those
// named.
func (m *MergeBuilder) WhenNotMatchedInsertAll(predicate string, except ...string) *MergeBuilder {
	return m.add("when_not_matched_insert_all", predicate, nil, except)
}

// WhenNotMatchedBySourceUpdate sets columns of target rows no source row matches.
func (m *MergeBuilder) WhenNotMatchedBySourceUpdate(predicate string, set map[string]string) *MergeBuilder {
	return m.add("when_not_matched_by_source_update", predicate, set, nil)
}

// WhenNotMatchedBySourceDelete deletes target rows no source row matches.
func (m *MergeBuilder) WhenNotMatchedBySourceDelete(predicate string) *MergeBuilder {
	return m.add("when_not_matched_by_source_delete", predicate, nil, nil)
}

// Execute runs the merge as one commit and moves the table to the new version. The source is
// read to its end; the caller still releases it.
func (m *MergeBuilder) Execute(ctx context.Context) (MergeMetrics, error) {
	var args cStrings
	defer args.free()
	predicate := args.str(m.predicate)
	sourceAlias := args.optional(m.sourceAlias)
	targetAlias := args.optional(m.targetAlias)
	n := max(len(m.clauses), 1)
	clauses := (*C.DeltaMergeClause)(C.calloc(C.size_t(n), C.size_t(unsafe.Sizeof(C.DeltaMergeClause{}))))
	defer C.free(unsafe.Pointer(clauses))
	slots := unsafe.Slice(clauses, n)
	for i, clause := range m.clauses {
		slots[i].kind = args.str(clause.kind)
		slots[i].predicate = args.optional(clause.predicate)
		slots[i].assignment_columns, slots[i].assignment_expressions, slots[i].assignments_len = args.pairs(clause.set)
		slots[i].except = args.list(clause.except)
		slots[i].except_len = C.size_t(len(clause.except))
	}
	var metrics MergeMetrics
	err := exportReader(m.source, func(stream *C.struct_ArrowArrayStream) error {
		return m.table.operate(ctx, &metrics, func(h *C.DeltaTableHandle, cancel *C.DeltaCancelToken, out **C.char) C.DeltaStatus {
			return C.delta_table_merge(h, stream, predicate, sourceAlias, targetAlias, C.bool(m.mergeSchema), clauses,
				C.size_t(len(m.clauses)), cancel, out)
		})
	})
	return metrics, err
}
