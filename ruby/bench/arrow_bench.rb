# frozen_string_literal: true

# Arrow-path benchmark: a full scan through `arrow_c_stream`, consumed the way an Arrow library
# (red-arrow, polars-df) imports it, through the C stream interface: each batch moved out with
# `get_next` and released, no Ruby object per value. Compare it with the Rust core's scan of the
# same table (`benchmarks scenario scan ours --work DIR`, whose data set is DIR/dataset).
#
#   BENCH_TABLE=/path/to/table ruby -Ilib bench/arrow_bench.rb
#
# Without BENCH_TABLE a table of BENCH_ROWS rows (default 1,000,000) is written first. Fiddle,
# Ruby's own FFI, plays the Arrow library.
require "fiddle"
require "tmpdir"
require "deltalake"

# Drain the stream of `exported` (an object with `to_i`, the address of an ArrowArrayStream),
# moved out as the C stream interface says: the struct copied, the original marked released.
def drain(exported)
  # struct ArrowArrayStream { get_schema, get_next, get_last_error, release, private_data }
  source = Fiddle::Pointer.new(exported.to_i)
  stream = Fiddle::Pointer.malloc(40, Fiddle::RUBY_FREE)
  stream[0, 40] = source[0, 40]
  source[24, 8] = [0].pack("J")
  get_next = Fiddle::Function.new(stream[8, 8].unpack1("J"), [Fiddle::TYPE_VOIDP, Fiddle::TYPE_VOIDP], Fiddle::TYPE_INT)
  release_stream = Fiddle::Function.new(stream[24, 8].unpack1("J"), [Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOID)
  # struct ArrowArray: length at 0, release at 64, 80 bytes in all
  array = Fiddle::Pointer.malloc(80, Fiddle::RUBY_FREE)
  rows = 0
  loop do
    status = get_next.call(stream, array)
    raise "get_next failed with #{status}" unless status.zero?

    release = array[64, 8].unpack1("J")
    break if release.zero?

    rows += array[0, 8].unpack1("q")
    Fiddle::Function.new(release, [Fiddle::TYPE_VOIDP], Fiddle::TYPE_VOID).call(array)
  end
  release_stream.call(stream)
  rows
end

# The median seconds of `runs` full scans of the table at `uri`, and the rows of one.
def measure(uri, runs)
  dt = DeltaLake::Table.new(uri)
  rows = nil
  seconds = Array.new(runs) do
    started = Process.clock_gettime(Process::CLOCK_MONOTONIC)
    rows = drain(dt.arrow_c_stream)
    Process.clock_gettime(Process::CLOCK_MONOTONIC) - started
  end
  raise "read no rows" if rows.zero?

  [seconds.sort[runs / 2], rows]
end

runs = Integer(ENV.fetch("BENCH_RUNS", "5"))
table = ENV["BENCH_TABLE"]
Dir.mktmpdir("deltalake-arrow-bench") do |dir|
  unless table
    table = File.join(dir, "table")
    rows = Integer(ENV.fetch("BENCH_ROWS", "1000000"))
    ids = (0...rows).to_a
    DeltaLake.write(table, {"id" => ids, "value" => ids.map { |i| i * 0.5 }, "name" => ids.map { |i| "name #{i % 1000}" }})
  end
  median, rows = measure(table, runs)
  puts format("arrow_c_stream scan       %8.3f s  %12.0f rows/s  (median of %d)", median, rows / median, runs)
end
