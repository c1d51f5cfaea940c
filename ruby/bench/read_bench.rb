# frozen_string_literal: true

# Read benchmark: writes a table of BENCH_ROWS rows (default 1,000,000: id, value, name), then
# times reading one column as Ruby Arrays (each_column_batch), every row as Hashes (each_batch)
# and to_a, and prints rows/s.
require "benchmark"
require "tmpdir"
require "deltalake"

rows = Integer(ENV.fetch("BENCH_ROWS", "1000000"))
Dir.mktmpdir("deltalake-bench") do |dir|
  uri = File.join(dir, "table")
  chunk = 250_000
  (0...rows).step(chunk) do |start|
    n = [chunk, rows - start].min
    ids = (start...(start + n)).to_a
    DeltaLake.write(uri, {"id" => ids, "value" => ids.map { |i| i * 0.5 }, "name" => ids.map { |i| "name #{i % 1000}" }},
                    mode: "append")
  end
  dt = DeltaLake::Table.new(uri)
  report = lambda do |label, &block|
    count = nil
    seconds = Benchmark.realtime { count = block.call }
    raise "#{label}: read #{count} rows, expected #{rows}" unless count == rows

    puts format("%-22s %8.3f s  %12.0f rows/s", label, seconds, rows / seconds)
  end
  report.call("one column (Arrays)") do
    dt.scan(columns: ["id"]).each_column_batch.sum { |c| c["id"].size }
  end
  report.call("each_batch (Hashes)") { dt.each_batch.sum(&:size) }
  report.call("to_a") { dt.to_a.size }
end
