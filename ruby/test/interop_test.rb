# frozen_string_literal: true

require_relative "test_helper"
require "open3"

# Tables written by the gem read to the same rows through the reference `deltalake` Python
# package, and the other way round.
class InteropTest < Minitest::Test
  def python
    ENV.fetch("DELTA_REFERENCE_PYTHON") { skip "DELTA_REFERENCE_PYTHON is not set (scripts/setup-python.sh)" }
  end

  # Runs `code`, ending with os._exit(0): deltalake 1.6.6 sometimes aborts at interpreter exit
  # ("terminate called without an active exception") after a successful run.
  def run_python(code, *args)
    code = "#{code}\nimport os, sys\nsys.stdout.flush()\nos._exit(0)\n"
    out, err, status = Open3.capture3(python, "-c", code, *args)
    raise "python failed: #{err}" unless status.success?

    out
  end

  def test_the_reference_reads_what_the_gem_writes
    rows = (1..20).map { |i| {"id" => i, "name" => "n#{i}", "score" => i * 1.5, "day" => Date.new(2024, 1, i), "part" => i % 3} }
    with_table(rows, partition_by: ["part"]) do |dt|
      dt.delete("id = 20")
      DeltaLake.write(dt, [{"id" => 21, "name" => "n21", "score" => 0.5, "day" => Date.new(2024, 2, 1), "part" => 0}], mode: "append")
      code = <<~PY
        import json, sys
        from deltalake import DeltaTable
        t = DeltaTable(sys.argv[1])
        rows = t.to_pyarrow_table().to_pylist()
        print(json.dumps({"version": t.version(), "rows": rows}, default=str))
      PY
      seen = JSON.parse(run_python(code, dt.table_uri))
      assert_equal dt.version, seen["version"]
      expected = dt.to_a.map { |r| r.merge("day" => r["day"].iso8601) }
      assert_equal expected.sort_by { |r| r["id"] }, seen["rows"].sort_by { |r| r["id"] }
    end
  end

  def test_writer_properties_reach_the_parquet_files
    props = DeltaLake::WriterProperties.new(
      compression: "ZSTD",
      compression_level: 3,
      max_row_group_size: 10,
      column_properties: {
        "id" => DeltaLake::ColumnProperties.new(
          bloom_filter_properties: DeltaLake::BloomFilterProperties.new(set_bloom_filter_enabled: true)
        )
      }
    )
    with_new_table do |uri|
      DeltaLake.write(uri, (1..50).map { |i| {"id" => i, "name" => "n#{i}"} }, writer_properties: props)
      dt = DeltaLake::Table.new(uri)
      dt.delete("id > 45", writer_properties: props)
      code = <<~PY
        import json, sys
        import pyarrow.parquet as pq
        out = []
        for path in json.loads(sys.argv[1]):
          meta = pq.ParquetFile(path).metadata
          out.append({"row_groups": meta.num_row_groups,
                      "codec": meta.row_group(0).column(0).compression,
                      "bloom": meta.row_group(0).column(0).to_dict().get("bloom_filter_offset") is not None})
        print(json.dumps(out))
      PY
      files = JSON.parse(run_python(code, JSON.generate(dt.file_uris)))
      assert_equal [{"row_groups" => 5, "codec" => "ZSTD", "bloom" => true}], files
    end
  end

  def test_the_gem_reads_what_the_reference_writes
    with_new_table do |uri|
      code = <<~PY
        import sys, datetime, decimal
        import pyarrow as pa
        from deltalake import write_deltalake
        data = pa.table({
          "id": pa.array([1, 2, 3], pa.int64()),
          "name": ["a", None, "c"],
          "at": pa.array([datetime.datetime(2024, 1, 1, 12, 30, tzinfo=datetime.timezone.utc)] * 3, pa.timestamp("us", "UTC")),
          "price": pa.array([decimal.Decimal("1.25"), decimal.Decimal("-3.50"), None], pa.decimal128(10, 2)),
          "tags": [["x"], [], None],
        })
        write_deltalake(sys.argv[1], data, partition_by=["id"])
        write_deltalake(sys.argv[1], data.slice(0, 1), mode="append")
      PY
      run_python(code, uri)
      dt = DeltaLake::Table.new(uri)
      assert_equal 1, dt.version
      assert_equal ["id"], dt.metadata.partition_columns
      rows = dt.to_a.sort_by { |r| [r["id"], r["name"].to_s] }
      assert_equal 4, rows.size
      assert_equal [1, 1, 2, 3], rows.map { |r| r["id"] }
      assert_equal Time.utc(2024, 1, 1, 12, 30), rows[0]["at"]
      assert_equal BigDecimal("1.25"), rows[0]["price"]
      assert_equal [BigDecimal("-3.5"), nil], rows[2..].map { |r| r["price"] }
      assert_equal [["x"], ["x"], [], nil], rows.map { |r| r["tags"] }
      assert_equal "decimal(10,2)", dt.schema["price"].type
      assert_equal "array<string>", dt.schema["tags"].type
    end
  end
end
