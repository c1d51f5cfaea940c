# frozen_string_literal: true

require_relative "test_helper"

class WriteTest < Minitest::Test
  ROWS = [
    {
      "int" => 1, "float" => 1.5, "string" => "héllo", "bool" => true,
      "time" => Time.utc(2024, 1, 2, 3, 4, 5, 678_901r), "date" => Date.new(2024, 2, 29),
      "decimal" => BigDecimal("12.34"), "binary" => "\xFF\x00".b, "list" => [1, 2],
      "struct" => {"a" => 1, "b" => "z"}
    },
    {
      "int" => nil, "float" => nil, "string" => nil, "bool" => false, "time" => nil, "date" => nil,
      "decimal" => BigDecimal("-0.5"), "binary" => nil, "list" => nil, "struct" => nil
    }
  ].freeze

  def test_types_round_trip
    with_table(ROWS) do |dt|
      types = dt.schema.fields.to_h { |f| [f.name, f.type] }
      assert_equal(
        {
          "int" => "long", "float" => "double", "string" => "string", "bool" => "boolean",
          "time" => "timestamp", "date" => "date", "decimal" => "decimal(38,2)", "binary" => "binary",
          "list" => "array<long>", "struct" => "struct<a: long, b: string>"
        },
        types
      )
      rows = dt.to_a.sort_by { |r| r["bool"] ? 0 : 1 }
      assert_equal ROWS, rows
      first = rows[0]
      assert_kind_of Integer, first["int"]
      assert_equal "UTC", first["time"].zone
      assert first["time"].utc?
      assert_kind_of Date, first["date"]
      assert_kind_of BigDecimal, first["decimal"]
      assert_equal Encoding::BINARY, first["binary"].encoding
      assert_equal Encoding::UTF_8, first["string"].encoding
    end
  end

  def test_hash_of_columns_and_symbol_keys
    with_table({a: [1, 2, 3], "b" => ["x", nil, "z"]}) do |dt|
      assert_equal [{"a" => 1, "b" => "x"}, {"a" => 2, "b" => nil}, {"a" => 3, "b" => "z"}], dt.to_a.sort_by { |r| r["a"] }
    end
  end

  def test_integers_and_floats_in_one_column_are_doubles
    with_table([{"x" => 1}, {"x" => 2.5}]) do |dt|
      assert_equal "double", dt.schema.fields[0].type
      assert_equal [1.0, 2.5], dt.to_a.map { |r| r["x"] }.sort
    end
  end

  def test_modes
    with_new_table do |uri|
      DeltaLake.write(uri, [{"a" => 1}])
      assert_raises(DeltaLake::Error) { DeltaLake.write(uri, [{"a" => 2}]) }
      DeltaLake.write(uri, [{"a" => 2}], mode: "append")
      DeltaLake.write(uri, [{"a" => 9}], mode: "ignore")
      dt = DeltaLake::Table.new(uri)
      assert_equal 1, dt.version
      assert_equal [1, 2], dt.to_a.map { |r| r["a"] }.sort
      DeltaLake.write(dt, [{"a" => 3}], mode: "overwrite")
      assert_equal 2, dt.version
      assert_equal [{"a" => 3}], dt.to_a
      assert_raises(ArgumentError) { DeltaLake.write(uri, [{"a" => 1}], mode: "sometimes") }
    end
  end

  def test_append_casts_to_the_table_types
    with_new_table do |uri|
      DeltaLake.write(uri, DeltaLake::ArrowArrayStream.from_ruby({"small" => [1]}))
      dt = DeltaLake::Table.new(uri)
      DeltaLake.write(dt, [{"small" => 2}], mode: "append")
      assert_equal [1, 2], dt.to_a.map { |r| r["small"] }.sort
      DeltaLake.write(dt, [{"small" => nil}], mode: "append")
      assert_equal 3, dt.to_a.size
    end
  end

  def test_partitions_and_predicate_overwrite
    rows = (1..6).map { |i| {"id" => i, "part" => i.even? ? "even" : "odd"} }
    with_table(rows, partition_by: ["part"]) do |dt|
      assert_equal ["part"], dt.metadata.partition_columns
      assert_equal 2, dt.files.size
      assert(dt.files.all? { |f| f.start_with?("part=") })
      DeltaLake.write(dt, [{"id" => 100, "part" => "odd"}], mode: "overwrite", predicate: "part = 'odd'")
      ids = dt.to_a.map { |r| r["id"] }.sort
      assert_equal [2, 4, 6, 100], ids
      assert_equal [2, 4, 6], dt.to_a(predicate: "part = 'even'").map { |r| r["id"] }.sort
      assert_equal [{"id" => 100}], dt.to_a(columns: ["id"], predicate: "id > 50")
    end
  end

  def test_schema_mode_merge
    with_table([{"a" => 1}]) do |dt|
      assert_raises(DeltaLake::SchemaMismatchError) { DeltaLake.write(dt, [{"a" => 2, "b" => "x"}], mode: "append") }
      DeltaLake.write(dt, [{"a" => 2, "b" => "x"}], mode: "append", schema_mode: "merge")
      assert_equal %w[a b], dt.schema.names
      assert_equal [{"a" => 1, "b" => nil}, {"a" => 2, "b" => "x"}], dt.to_a.sort_by { |r| r["a"] }
    end
  end

  def test_configuration_and_commit_properties
    with_new_table do |uri|
      properties = DeltaLake::CommitProperties.new(
        custom_metadata: {"job" => "nightly"},
        app_transactions: [DeltaLake::Transaction.new(app_id: "etl", version: 7)]
      )
      DeltaLake.write(uri, [{"a" => 1}], configuration: {"delta.appendOnly" => "true"}, commit_properties: properties)
      dt = DeltaLake::Table.new(uri)
      assert_equal "true", dt.metadata.configuration["delta.appendOnly"]
      assert_equal "nightly", dt.history(limit: 1)[0]["job"]
      assert_equal 7, dt.transaction_version("etl")
      assert_nil dt.transaction_version("other")
    end
  end

  def test_time_travel
    with_new_table do |uri|
      DeltaLake.write(uri, [{"v" => 0}])
      sleep 0.05
      between = Time.now
      sleep 0.05
      DeltaLake.write(uri, [{"v" => 1}], mode: "append")
      DeltaLake.write(uri, [{"v" => 2}], mode: "append")
      assert_equal [0], DeltaLake::Table.new(uri, version: 0).to_a.map { |r| r["v"] }
      dt = DeltaLake::Table.new(uri)
      assert_equal 2, dt.version
      dt.load_as_version(1)
      assert_equal [0, 1], dt.to_a.map { |r| r["v"] }.sort
      dt.load_as_version(between)
      assert_equal 0, dt.version
      dt.load_as_version(between.utc.iso8601(6))
      assert_equal 0, dt.version
      dt.update_incremental
      assert_equal 2, dt.version
      assert_raises(TypeError) { dt.load_as_version(1.5) }
      assert_raises(DeltaLake::TableNotFoundError) { dt.load_as_version(99) }
      assert_raises(ArgumentError) { dt.load_as_version("not a time") }
    end
  end

  def test_streaming_reads
    rows = (1..50).map { |i| {"id" => i} }
    with_new_table do |uri|
      5.times { |i| DeltaLake.write(uri, rows[i * 10, 10], mode: "append") }
      dt = DeltaLake::Table.new(uri)
      batches = []
      dt.each_batch { |batch| batches << batch }
      assert_equal 5, batches.size
      assert_equal (1..50).to_a, batches.flatten.map { |r| r["id"] }.sort
      ids = []
      dt.each_row { |row| ids << row["id"] }
      assert_equal (1..50).to_a, ids.sort
      assert_equal 50, dt.each_row.count
      assert_equal 10, dt.each_row.first(10).size
      stream = dt.scan(columns: ["id"])
      assert_equal ["id"], stream.column_names
      assert_equal 50, stream.to_a.size
      assert stream.consumed?
      assert_empty stream.to_a
    end
  end

  def test_arrow_c_stream_export_and_import
    with_table([{"a" => 1, "s" => "x"}, {"a" => 2, "s" => "y"}]) do |dt|
      stream = dt.arrow_c_stream
      assert_kind_of DeltaLake::ArrowArrayStream, stream
      assert_kind_of Integer, stream.to_i
      assert_equal stream.to_i, stream.to_i
      assert_raises(ArgumentError) { stream.to_a }
      with_new_table do |copy|
        # The table's own stream, imported through the C interface.
        DeltaLake.write(copy, dt)
        assert_equal dt.to_a.sort_by { |r| r["a"] }, DeltaLake::Table.new(copy).to_a.sort_by { |r| r["a"] }
      end
      exported = dt.scan
      exported.to_i
      with_new_table do |copy|
        DeltaLake.write(copy, exported)
        assert_equal 2, DeltaLake::Table.new(copy).to_a.size
        # Moved out by the first consumer.
        assert_raises(ArgumentError) { DeltaLake.write(copy, exported, mode: "append") }
      end
    end
  end

  def test_empty_table_reads
    with_table([{"a" => 1}]) do |dt|
      dt.delete
      assert_empty dt.to_a
      assert_equal 0, dt.each_row.count
    end
  end
end
