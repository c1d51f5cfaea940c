package deltalake_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	deltalake "example.invalid/deltalake/go"
)

// Write a table from Arrow record batches, then open it, delete rows and scan what is left.
func Example() {
	ctx := context.Background()
	dir, _ := os.MkdirTemp("", "example")
	defer os.RemoveAll(dir)
	uri := filepath.Join(dir, "numbers")

	schema := arrow.NewSchema([]arrow.Field{{Name: "n", Type: arrow.PrimitiveTypes.Int64}}, nil)
	builder := array.NewRecordBuilder(memory.DefaultAllocator, schema)
	builder.Field(0).(*array.Int64Builder).AppendValues([]int64{1, 2, 3, 4, 5, 6}, nil)
	batch := builder.NewRecordBatch()
	builder.Release()
	data, _ := array.NewRecordReader(schema, []arrow.RecordBatch{batch})
	batch.Release()
	defer data.Release()
	if _, err := deltalake.Write(ctx, uri, data, deltalake.WriteOptions{Mode: deltalake.ModeError}); err != nil {
		fmt.Println(err)
		return
	}

	table, err := deltalake.Open(ctx, uri)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer table.Close()
	metrics, err := table.Delete(ctx, "n % 2 = 0")
	if err != nil {
		fmt.Println(err)
		return
	}
	version, _ := table.Version()
	fmt.Printf("deleted %d rows, now at version %d\n", metrics.NumDeletedRows, version)

	reader, err := table.Scan(ctx, deltalake.ScanOptions{Predicate: "n > 1"})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer reader.Release()
	for reader.Next() {
		fmt.Println(reader.RecordBatch().Column(0))
	}
	// Output:
	// deleted 3 rows, now at version 1
	// [3 5]
}
