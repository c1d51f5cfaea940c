package deltalake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	deltalake "example.invalid/deltalake/go"
)

// The benchmark data of crates/benchmarks (src/data.rs), generated the same way: rows of (id
// int64, key string, value float64, ts timestamp[us, UTC], flag bool) in batches of 8192.
// DELTALAKE_BENCH_ROWS sets the row count (default 10,000,000, the Rust benchmark's). Build the
// library optimised first: DELTALAKE_PROFILE=release go generate ./...
//
// With DELTALAKE_BENCH_DIR the scanned table is DIR/dataset (written when missing, kept), where
// the Rust side of the same scenario reads it too:
// `benchmarks scenario scan ours --work DIR --rows N`.

const benchBatchSize = 8192

var benchSchema = arrow.NewSchema([]arrow.Field{
	{Name: "id", Type: arrow.PrimitiveTypes.Int64, Nullable: true},
	{Name: "key", Type: arrow.BinaryTypes.String, Nullable: true},
	{Name: "value", Type: arrow.PrimitiveTypes.Float64, Nullable: true},
	{Name: "ts", Type: &arrow.TimestampType{Unit: arrow.Microsecond, TimeZone: "UTC"}, Nullable: true},
	{Name: "flag", Type: arrow.FixedWidthTypes.Boolean, Nullable: true},
}, nil)

// mix is SplitMix64 of a row number.
func mix(row uint64) uint64 {
	z := row + 0x9E3779B97F4A7C15
	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9
	z = (z ^ (z >> 27)) * 0x94D049BB133111EB
	return z ^ (z >> 31)
}

func benchRows(b *testing.B) int {
	rows := 10_000_000
	if text := os.Getenv("DELTALAKE_BENCH_ROWS"); text != "" {
		n, err := strconv.Atoi(text)
		if err != nil {
			b.Fatal(err)
		}
		rows = n
	}
	return rows
}

var (
	benchOnce    sync.Once
	benchBatches []arrow.RecordBatch
	benchDir     string
	benchTempDir string
)

// benchGenerate builds rows first..first+n in batches of benchBatchSize.
func benchGenerate(first, n int) []arrow.RecordBatch {
	builder := array.NewRecordBuilder(memory.DefaultAllocator, benchSchema)
	defer builder.Release()
	var batches []arrow.RecordBatch
	for start := first; start < first+n; start += benchBatchSize {
		for row := start; row < min(start+benchBatchSize, first+n); row++ {
			h := mix(uint64(row))
			builder.Field(0).(*array.Int64Builder).Append(int64(row))
			builder.Field(1).(*array.StringBuilder).Append(fmt.Sprintf("key-%05d", h%50_000))
			builder.Field(2).(*array.Float64Builder).Append(float64(h>>11) / float64(uint64(1)<<53) * 1000)
			builder.Field(3).(*array.TimestampBuilder).Append(arrow.Timestamp(1_704_067_200_000_000 + int64(row)*1000))
			builder.Field(4).(*array.BooleanBuilder).Append(h>>63 == 1)
		}
		batches = append(batches, builder.NewRecordBatch())
	}
	return batches
}

// benchData generates the rows once per process, and writes the table scanned as the Rust
// benchmark does: 8 appends, a file each.
func benchData(b *testing.B) ([]arrow.RecordBatch, string) {
	benchOnce.Do(func() {
		rows := benchRows(b)
		benchBatches = benchGenerate(0, rows)
		dir := os.Getenv("DELTALAKE_BENCH_DIR")
		if dir == "" {
			var err error
			if dir, err = os.MkdirTemp("", "deltalake-bench"); err != nil {
				b.Fatal(err)
			}
			benchTempDir = dir
		}
		benchDir = dir
		table := filepath.Join(dir, "dataset")
		if _, err := os.Stat(table); err == nil {
			return
		}
		perFile := (rows + 7) / 8
		for first := 0; first < rows; first += perFile {
			slice := benchGenerate(first, min(perFile, rows-first))
			writeBench(b, table, slice, deltalake.ModeAppend)
			for _, batch := range slice {
				batch.Release()
			}
		}
	})
	return benchBatches, benchDir
}

func writeBench(b *testing.B, uri string, batches []arrow.RecordBatch, mode deltalake.SaveMode) {
	reader, err := array.NewRecordReader(benchSchema, batches)
	if err != nil {
		b.Fatal(err)
	}
	defer reader.Release()
	if _, err := deltalake.Write(context.Background(), uri, reader, deltalake.WriteOptions{Mode: mode}); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkScan reads the whole table into Go (the batches cross without a copy).
func BenchmarkScan(b *testing.B) {
	batches, dir := benchData(b)
	want := int64(0)
	for _, batch := range batches {
		want += batch.NumRows()
	}
	table, err := deltalake.Open(context.Background(), filepath.Join(dir, "dataset"))
	if err != nil {
		b.Fatal(err)
	}
	defer table.Close()
	for b.Loop() {
		reader, err := table.Scan(context.Background(), deltalake.ScanOptions{})
		if err != nil {
			b.Fatal(err)
		}
		var rows int64
		var kept []arrow.RecordBatch
		for reader.Next() {
			batch := reader.RecordBatch()
			batch.Retain()
			kept = append(kept, batch)
			rows += batch.NumRows()
		}
		if reader.Err() != nil || rows != want {
			b.Fatalf("%d rows, want %d: %v", rows, want, reader.Err())
		}
		reader.Release()
		for _, batch := range kept {
			batch.Release()
		}
	}
	b.ReportMetric(float64(want)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkWrite writes the rows, held in memory, into a new table.
func BenchmarkWrite(b *testing.B) {
	batches, dir := benchData(b)
	rows := int64(0)
	for _, batch := range batches {
		rows += batch.NumRows()
	}
	target := filepath.Join(dir, "scratch", "write-go")
	for b.Loop() {
		b.StopTimer()
		if err := os.RemoveAll(target); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		writeBench(b, target, batches, deltalake.ModeError)
	}
	_ = os.RemoveAll(target)
	b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}

// TestMain removes the benchmark data.
func TestMain(m *testing.M) {
	code := m.Run()
	if benchTempDir != "" {
		_ = os.RemoveAll(benchTempDir)
	}
	os.Exit(code)
}
