# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "uri"

# Every table of the shared test data read through the gem matches what the reference reader saw
# (expected/<table>/meta.json and rows.parquet), or, where the reference failed, what the core's
# own conformance test expects.
class ConformanceTest < Minitest::Test
  EXPECTED = File.join(TestHelpers::TESTDATA, "expected")
  # The reference reader returns nulls for this column-mapped table's data: counts only.
  REFERENCE_ROWS_WRONG = %w[table_with_column_mapping].freeze

  def test_every_table_matches_the_reference
    tables = Dir.children(EXPECTED).sort
    assert_operator tables.size, :>=, 40, "test data not found at #{EXPECTED}"
    Dir.mktmpdir("expected-rows") do |rows_dir|
      write_expected_rows(rows_dir)
      @compared = 0
      failures = tables.filter_map do |table|
        check(table, rows_dir)
        nil
      rescue Minitest::Assertion, StandardError => e
        "#{table}: #{e.class}: #{e.message[0, 300]}"
      end
      assert_empty failures
      assert_operator @compared, :>=, 25, "tables compared row by row"
    end
  end

  def test_refuses_an_unknown_reader_feature
    error = assert_raises(DeltaLake::DeltaProtocolError) { DeltaLake::Table.new(testdata_table("simple_table_features")) }
    assert_match "blahabl", error.message
  end

  private

  def check(table, rows_dir)
    return if table == "simple_table_features"

    meta = JSON.parse(File.read(File.join(EXPECTED, table, "meta.json")))
    dt = DeltaLake::Table.new(testdata_table(table))
    assert_equal meta["version"], dt.version, "version"
    decode = ->(f) { URI.decode_www_form_component(f.gsub("+", "%2B")) }
    assert_equal meta["files"].map(&decode).sort, dt.files.sort, "files"
    protocol = dt.protocol
    assert_equal meta["min_reader_version"], protocol.min_reader_version
    assert_equal meta["min_writer_version"], protocol.min_writer_version
    assert_equal meta["partition_columns"], dt.metadata.partition_columns
    return unless dt.file_uris.all? { |f| File.exist?(f) }

    if meta["columns"]
      names = meta["columns"].map { |c| c.split(": ", 2)[0] }
      assert_equal names, dt.schema.names, "columns"
    end
    expected_file = File.join(rows_dir, "#{table}.jsonl")
    unless File.exist?(expected_file) && !REFERENCE_ROWS_WRONG.include?(table)
      # No rows to compare: count them, streaming one column.
      count = 0
      dt.each_batch(columns: dt.schema.names.first(1)) { |batch| count += batch.size }
      assert_equal meta["num_rows"], count, "row count" if meta["num_rows"]
      return
    end
    rows = dt.to_a
    assert_equal meta["num_rows"], rows.size, "row count" if meta["num_rows"]
    expected = File.readlines(expected_file).map { |line| sort_keys(JSON.parse(line, allow_nan: true)) }
    ours = rows.map { |r| canon(r) }
    assert_equal expected.sort_by(&:inspect), ours.sort_by(&:inspect), "rows"
    @compared += 1
  end

  # The reference's rows of every table, as canonical JSON lines (support/expected_rows.py).
  def write_expected_rows(dir)
    python = ENV.fetch("DELTA_REFERENCE_PYTHON") { skip "DELTA_REFERENCE_PYTHON is not set (scripts/setup-python.sh)" }
    script = File.join(__dir__, "support", "expected_rows.py")
    _out, err, status = Open3.capture3(python, script, EXPECTED, dir)
    raise "expected_rows.py failed: #{err}" unless status.success?
  end

  # The canonical form of a value read by the gem (see support/expected_rows.py).
  def canon(value)
    case value
    when Hash then value.to_h { |k, v| [k.to_s, canon(v)] }.sort.to_h
    when Array then value.map { |v| canon(v) }
    when Time then {"us" => (value.to_r * 1_000_000).floor}
    when Date then {"date" => value.iso8601}
    when BigDecimal then {"dec" => "#{value.to_r.numerator}/#{value.to_r.denominator}"}
    when String then value.encoding == Encoding::BINARY ? {"bin" => value.unpack1("H*")} : value
    else value
    end
  end

  def sort_keys(value)
    case value
    when Hash then value.to_h { |k, v| [k, sort_keys(v)] }.sort.to_h
    when Array then value.map { |v| sort_keys(v) }
    else value
    end
  end
end
