# frozen_string_literal: true

require "minitest/autorun"
require "tmpdir"
require "deltalake"

# Shared helpers of the gem's tests.
module TestHelpers
  TESTDATA = File.expand_path("../../../shared/testdata", __dir__)

  # The path of a table of the shared test data.
  def testdata_table(name)
    File.join(TESTDATA, "tables", name)
  end

  # A fresh directory for a new table, removed after the block.
  def with_new_table
    Dir.mktmpdir("deltalake-ruby") do |dir|
      yield File.join(dir, "table")
    end
  end

  # A table written from `data`, yielded loaded.
  def with_table(data, **options)
    with_new_table do |uri|
      DeltaLake.write(uri, data, **options)
      yield DeltaLake::Table.new(uri)
    end
  end

  # The rows sorted by their values' text, for order-free comparisons.
  def sorted(rows)
    rows.sort_by { |row| row.values.map(&:to_s) }
  end
end

Minitest::Test.include(TestHelpers)
