# frozen_string_literal: true

require_relative "test_helper"

class OperationsTest < Minitest::Test
  XY = {"x" => [1, 2, 3], "y" => [4, 5, 6]}.freeze

  def rows_of(dt)
    dt.to_a.sort_by { |r| r.values_at(*r.keys.sort).map(&:to_s) }
  end

  def merge(dt, source)
    dt.merge(source, "target.x = source.x", source_alias: "source", target_alias: "target")
  end

  def test_delete
    with_table({"a" => [1, 2, 3]}) do |dt|
      metrics = dt.delete("a > 1")
      assert_equal 1, metrics[:num_added_files]
      assert_equal 1, metrics[:num_removed_files]
      assert_equal 2, metrics[:num_deleted_rows]
      assert_equal 1, metrics[:num_copied_rows]
      assert_equal [{"a" => 1}], dt.to_a
      dt.delete
      assert_empty dt.to_a
    end
  end

  def test_update
    with_table(XY) do |dt|
      metrics = dt.update({"y" => "y * 10"}, predicate: "x >= 2")
      assert_equal 2, metrics[:num_updated_rows]
      assert_equal [4, 50, 60], rows_of(dt).map { |r| r["y"] }
      assert_raises(ArgumentError) { dt.update({}) }
    end
  end

  def test_merge_when_matched_update
    with_table(XY) do |dt|
      metrics = merge(dt, {"x" => [2, 3], "y" => [5, 8]}).when_matched_update({"x" => "source.x", "y" => "source.y"}).execute
      assert_equal 2, metrics[:num_target_rows_updated]
      assert_equal 3, metrics[:num_output_rows]
      assert_equal [[1, 4], [2, 5], [3, 8]], rows_of(dt).map { |r| [r["x"], r["y"]] }
    end
  end

  def test_merge_when_matched_update_all_and_insert_all
    with_table(XY) do |dt|
      metrics = merge(dt, [{"x" => 3, "y" => 30}, {"x" => 7, "y" => 70}])
        .when_matched_update_all
        .when_not_matched_insert_all
        .execute
      assert_equal 1, metrics[:num_target_rows_updated]
      assert_equal 1, metrics[:num_target_rows_inserted]
      assert_equal [[1, 4], [2, 5], [3, 30], [7, 70]], rows_of(dt).map { |r| [r["x"], r["y"]] }
    end
  end

  def test_merge_when_matched_delete
    with_table(XY) do |dt|
      metrics = merge(dt, {"x" => [2, 3], "deleted" => [false, true]}).when_matched_delete(predicate: "source.deleted = true").execute
      assert_equal 1, metrics[:num_target_rows_deleted]
      assert_equal [[1, 4], [2, 5]], rows_of(dt).map { |r| [r["x"], r["y"]] }
    end
  end

  def test_merge_when_not_matched_insert
    with_table(XY) do |dt|
      metrics = merge(dt, {"x" => [2, 3, 7], "y" => [4, 5, 8]}).when_not_matched_insert({"x" => "source.x", "y" => "source.y"}).execute
      assert_equal 1, metrics[:num_target_rows_inserted]
      assert_equal [[1, 4], [2, 5], [3, 6], [7, 8]], rows_of(dt).map { |r| [r["x"], r["y"]] }
    end
  end

  def test_merge_not_matched_by_source
    with_table(XY) do |dt|
      merge(dt, {"x" => [2, 3, 4]}).when_not_matched_by_source_update({"y" => "0"}, predicate: "y > 3").execute
      assert_equal [[1, 0], [2, 5], [3, 6]], rows_of(dt).map { |r| [r["x"], r["y"]] }
      metrics = merge(dt, {"x" => [2]}).when_not_matched_by_source_delete.execute
      assert_equal 2, metrics[:num_target_rows_deleted]
      assert_equal [[2, 5]], rows_of(dt).map { |r| [r["x"], r["y"]] }
    end
  end

  def test_merge_from_an_arrow_stream
    with_table(XY) do |dt|
      source = DeltaLake::ArrowArrayStream.from_ruby({"x" => [9], "y" => [90]})
      merge(dt, source).when_not_matched_insert_all.execute
      assert_equal 4, dt.to_a.size
      assert_raises(ArgumentError) { merge(dt, source).when_not_matched_insert_all.execute }
    end
  end

  def test_optimize
    with_new_table do |uri|
      3.times { |i| DeltaLake.write(uri, [{"a" => i, "b" => 10 - i}], mode: "append") }
      dt = DeltaLake::Table.new(uri)
      assert_equal 3, dt.files.size
      metrics = dt.optimize.compact
      assert_equal 1, metrics["numFilesAdded"]
      assert_equal 3, metrics["numFilesRemoved"]
      assert_kind_of Hash, metrics["filesAdded"]
      assert_equal 1, dt.files.size
      assert_equal 3, dt.version
      DeltaLake.write(dt, [{"a" => 5, "b" => 1}], mode: "append")
      metrics = dt.optimize.z_order(["a", "b"])
      assert_equal 2, metrics["numFilesRemoved"]
      assert_equal [0, 1, 2, 5], dt.to_a.map { |r| r["a"] }.sort
      assert_raises(ArgumentError) { dt.optimize.z_order([]) }
    end
  end

  def test_vacuum
    with_table({"a" => [1, 2, 3]}) do |dt|
      assert_empty dt.vacuum
      dt.delete
      assert_empty dt.vacuum
      sleep 0.01
      assert_equal 1, dt.vacuum(retention_hours: 0, enforce_retention_duration: false).size
      assert_equal 1, dt.vacuum(dry_run: false, retention_hours: 0, enforce_retention_duration: false).size
      # Listing the directory (full) finds nothing left to delete.
      assert_empty dt.vacuum(retention_hours: 0, enforce_retention_duration: false, full: true)
      assert_raises(DeltaLake::Error, ArgumentError) { dt.vacuum(retention_hours: 0) }
      assert_raises(ArgumentError) { dt.vacuum(retention_hours: -1) }
    end
  end

  def test_restore
    with_table({"a" => [1, 2, 3]}) do |dt|
      DeltaLake.write(dt, {"a" => [4, 5, 6]}, mode: "overwrite")
      metrics = dt.restore(dt.version - 1)
      assert_equal 1, metrics["numRemovedFile"]
      assert_equal 1, metrics["numRestoredFile"]
      assert_equal 2, dt.version
      assert_equal [1, 2, 3], dt.to_a.map { |r| r["a"] }.sort
      assert_raises(TypeError) { dt.restore(nil) }
    end
  end

  def test_repair
    with_table({"a" => [1, 2, 3]}) do |dt|
      metrics = dt.repair(dry_run: true)
      assert_equal true, metrics[:dry_run]
      assert_empty metrics[:files_removed]
      File.delete(dt.file_uris[0])
      metrics = dt.repair
      assert_equal false, metrics[:dry_run]
      assert_equal 1, metrics[:files_removed].size
      assert_empty dt.files
    end
  end

  def test_alter
    with_table({"a" => [1, 2, 3]}) do |dt|
      assert_raises(DeltaLake::DeltaProtocolError) { dt.alter.add_constraint({"a_gt_1" => "a > 1"}) }
      dt.alter.add_constraint({"a_gt_0" => "a > 0"})
      assert_equal "a > 0", dt.metadata.configuration["delta.constraints.a_gt_0"]
      error = assert_raises(DeltaLake::DeltaProtocolError) { DeltaLake.write(dt, {"a" => [4, -1]}, mode: "append") }
      assert_match "a > 0", error.message
      dt.alter.drop_constraint("a_gt_0")
      DeltaLake.write(dt, {"a" => [-1]}, mode: "append")
      assert_raises(ArgumentError) { dt.alter.drop_constraint("a_gt_0") }
      dt.alter.drop_constraint("a_gt_0", raise_if_not_exists: false)

      dt.alter.add_columns([DeltaLake::Field.new("b", "string")])
      assert_equal %w[a b], dt.schema.names
      dt.alter.set_table_properties({"delta.enableChangeDataFeed" => "true"})
      assert_equal "true", dt.metadata.configuration["delta.enableChangeDataFeed"]
      assert_raises(ArgumentError, DeltaLake::Error) { dt.alter.set_table_properties({"delta.appendOnly" => "maybe"}) }
      dt.alter.add_feature(:append_only, allow_protocol_versions_increase: true)
      assert_includes dt.protocol.writer_features, "appendOnly"
      assert_raises(ArgumentError) { dt.alter.add_feature(:missing) }
      dt.alter.set_table_name("events")
      dt.alter.set_table_description("all of them")
      assert_equal ["events", "all of them"], [dt.metadata.name, dt.metadata.description]
    end
  end

  def test_checkpoint_and_cleanup
    with_table({"a" => [1]}) do |dt|
      DeltaLake.write(dt, {"a" => [2]}, mode: "append")
      dt.create_checkpoint
      log = File.join(dt.file_uris[0].then { |f| File.dirname(f) }, "_delta_log")
      assert File.exist?(File.join(log, "00000000000000000001.checkpoint.parquet"))
      assert_equal 0, dt.cleanup_metadata
      reloaded = DeltaLake::Table.new(dt.table_uri)
      assert_equal [1, 2], reloaded.to_a.map { |r| r["a"] }.sort
    end
  end

  def test_change_data_feed
    with_table({"a" => [1, 2, 3]}, configuration: {"delta.enableChangeDataFeed" => "true"}) do |dt|
      DeltaLake.write(dt, {"a" => [4]}, mode: "append")
      dt.delete("a = 1")
      dt.update({"a" => "a * 10"}, predicate: "a = 2")
      changes = dt.load_cdf(starting_version: 1).to_a
      kinds = changes.map { |r| [r["_change_type"], r["a"], r["_commit_version"]] }.sort_by(&:to_s)
      assert_equal(
        [["delete", 1, 2], ["insert", 4, 1], ["update_postimage", 20, 3], ["update_preimage", 2, 3]].sort_by(&:to_s),
        kinds
      )
      assert(changes.all? { |r| r["_commit_timestamp"].is_a?(Time) })
      stream = dt.load_cdf(starting_version: 0, ending_version: 1, columns: ["a", "_change_type"])
      assert_kind_of DeltaLake::ArrowArrayStream, stream
      assert_equal 4, stream.to_a.size
      by_time = dt.load_cdf(starting_timestamp: Time.at(0), columns: ["a"]).to_a
      assert_equal 7, by_time.size
      assert_raises(ArgumentError, DeltaLake::Error) { dt.load_cdf(starting_version: 10).to_a }
    end
  end
end
