# frozen_string_literal: true

require_relative "test_helper"

class ErrorsTest < Minitest::Test
  def test_class_hierarchy
    [DeltaLake::TableNotFoundError, DeltaLake::DeltaProtocolError, DeltaLake::CommitFailedError,
     DeltaLake::SchemaMismatchError, DeltaLake::NotSupportedError].each do |klass|
      assert_operator klass, :<, DeltaLake::Error
    end
    assert_operator DeltaLake::Error, :<, StandardError
    assert_operator DeltaLake::InvalidArgumentError, :<, ArgumentError
  end

  def test_missing_table
    with_new_table do |uri|
      error = assert_raises(DeltaLake::TableNotFoundError) { DeltaLake::Table.new(uri) }
      assert_includes error.message, "table"
    end
    assert_raises(DeltaLake::TableNotFoundError) { DeltaLake::Table.new(testdata_table("simple_table"), version: 99) }
  end

  def test_bad_writer_properties
    with_new_table do |uri|
      rows = [{"a" => 1}]
      assert_raises(ArgumentError) { DeltaLake.write(uri, rows, writer_properties: {"compression" => "ZSTD"}) }
      error = assert_raises(ArgumentError) do
        DeltaLake.write(uri, rows, writer_properties: DeltaLake::WriterProperties.new(compression: "ZIP"))
      end
      assert_includes error.message, "ZIP"
      refute DeltaLake::Table.exists?(uri), "nothing was written"
    end
  end

  def test_nil_and_wrong_arguments
    assert_raises(ArgumentError) { DeltaLake::Table.new(nil) }
    assert_raises(ArgumentError) { DeltaLake::Table.new(testdata_table("simple_table"), version: "1") }
    assert_raises(ArgumentError) { DeltaLake.write(nil, [{"a" => 1}]) }
    with_table({"a" => [1]}) do |dt|
      assert_raises(ArgumentError) { dt.delete(5) }
      assert_raises(ArgumentError) { dt.merge({"a" => [1]}, nil) }
      assert_raises(ArgumentError) { dt.merge({"a" => [1]}, "target.a = source.a").when_matched_update(nil) }
      assert_raises(ArgumentError) { dt.to_a(columns: 5) }
      assert_raises(ArgumentError) { dt.to_a(predicate: 5) }
      assert_raises(ArgumentError) { DeltaLake.write(dt, [{"a" => 1}], mode: "append", commit_properties: {}) }
    end
  end

  def test_bad_data
    with_new_table do |uri|
      assert_raises(ArgumentError) { DeltaLake.write(uri, nil) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, 42) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, [1, 2]) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, []) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, {"a" => [1, 2], "b" => [1]}) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, [{"a" => 1}, {"a" => "x"}]) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, [{"a" => Object.new}]) }
      assert_raises(ArgumentError) { DeltaLake.write(uri, [{"a" => "\xFF"}]) }
      assert_raises(RangeError) { DeltaLake.write(uri, [{"a" => 2**70}]) }
      refute DeltaLake::Table.exists?(uri)
    end
  end

  def test_wrong_schema
    with_table({"a" => [1]}) do |dt|
      assert_raises(DeltaLake::SchemaMismatchError) { DeltaLake.write(dt, [{"b" => 1}], mode: "append") }
      assert_raises(DeltaLake::SchemaMismatchError) { DeltaLake.write(dt, [{"a" => "text"}], mode: "append") }
      assert_equal 0, dt.version
    end
  end

  def test_invalid_predicates
    with_table({"a" => [1, 2]}) do |dt|
      assert_raises(ArgumentError) { dt.delete("a >") }
      assert_raises(ArgumentError) { dt.update({"a" => "a +"}) }
      assert_raises(ArgumentError) { dt.to_a(predicate: "(((") }
      assert_raises(ArgumentError, DeltaLake::Error) { dt.delete("missing_column = 1") }
      assert_equal 0, dt.version
      assert_equal 2, dt.to_a.size
    end
  end

  def test_commit_conflict_class
    with_table({"a" => [1]}) do |dt|
      properties = DeltaLake::CommitProperties.new(app_transactions: [DeltaLake::Transaction.new(app_id: "job", version: 3)])
      DeltaLake.write(dt, [{"a" => 2}], mode: "append", commit_properties: properties)
      assert_raises(DeltaLake::CommitFailedError) do
        DeltaLake.write(dt, [{"a" => 3}], mode: "append", commit_properties: properties)
      end
    end
  end

  def test_no_crash_under_gc_stress
    with_table([{"a" => 1, "s" => "x", "l" => [1, 2], "h" => {"k" => "v"}, "t" => Time.utc(2024)}]) do |dt|
      GC.stress = true
      begin
        rows = dt.to_a
        DeltaLake.write(dt, [{"a" => 2, "s" => "y", "l" => [3], "h" => {"k" => "w"}, "t" => Time.utc(2025)}], mode: "append")
        count = dt.each_row.count
      ensure
        GC.stress = false
      end
      assert_equal 1, rows.size
      assert_equal 2, count
      assert_equal [1, 2], dt.to_a.map { |r| r["a"] }.sort
    end
  end
end
