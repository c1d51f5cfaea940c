# frozen_string_literal: true

require_relative "test_helper"

class TableTest < Minitest::Test
  def test_reads_a_table_of_the_test_data
    dt = DeltaLake::Table.new(testdata_table("simple_table"))
    assert_equal 4, dt.version
    assert_equal 5, dt.files.size
    assert_equal [{"id" => 5}, {"id" => 7}, {"id" => 9}], dt.to_a.sort_by { |r| r["id"] }
    assert_equal ["id"], dt.schema.fields.map(&:name)
    assert_equal "long", dt.schema.fields[0].type
    assert_equal true, dt.schema.fields[0].nullable
    assert_match %!<DeltaLake::Field name="id", type="long", nullable=true>!, dt.schema.inspect
  end

  def test_files_and_metadata
    with_table({"a" => [1, 2, 3], "b" => [4, 4, 5]}, name: "hello", description: "world", partition_by: "b") do |dt|
      assert_equal 2, dt.files.size
      assert_equal 2, dt.file_uris.size
      assert(dt.file_uris.all? { |f| File.exist?(f) })
      metadata = dt.metadata
      assert_kind_of String, metadata.id
      assert_equal "hello", metadata.name
      assert_equal "world", metadata.description
      assert_equal ["b"], metadata.partition_columns
      assert_kind_of Integer, metadata.created_time
      assert_empty metadata.configuration
      partitions = dt.partitions
      assert_equal 2, partitions.size
      assert_includes partitions, {"b" => "4"}
      assert_includes partitions, {"b" => "5"}
      assert_equal 1, dt.files(partition_filters: [["b", "=", "5"]]).size
      assert_equal 1, dt.files(partition_filters: "b = 4").size
    end
  end

  def test_protocol
    with_table({"a" => [1, 2, 3]}) do |dt|
      protocol = dt.protocol
      assert_equal 1, protocol.min_reader_version
      assert_equal 2, protocol.min_writer_version
      assert_nil protocol.reader_features
      assert_nil protocol.writer_features
    end
  end

  def test_history
    with_table({"a" => [1, 2, 3]}) do |dt|
      dt.delete("a > 1")
      history = dt.history
      assert_equal 2, history.size
      assert_equal "DELETE", history[0]["operation"]
      assert_equal 1, history[0]["version"]
      assert_equal "WRITE", history[1]["operation"]
      assert_equal 0, history[1]["version"]
      assert_equal 1, dt.history(limit: 1).size
    end
  end

  def test_missing_table
    with_new_table do |uri|
      assert_raises(DeltaLake::TableNotFoundError) { DeltaLake::Table.new(uri) }
      assert_equal false, DeltaLake::Table.exists?(uri)
      DeltaLake.write(uri, [{"a" => 1}])
      assert_equal true, DeltaLake::Table.exists?(uri)
    end
  end
end
