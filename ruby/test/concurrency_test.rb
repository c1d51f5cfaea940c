# frozen_string_literal: true

require_relative "test_helper"

class ConcurrencyTest < Minitest::Test
  def test_threads_read_while_another_appends
    with_table({"id" => (1..1000).to_a}) do |dt|
      uri = dt.table_uri
      writer = Thread.new do
        10.times { |i| DeltaLake.write(uri, {"id" => [10_000 + i]}, mode: "append") }
      end
      readers = 8.times.map do
        Thread.new do
          counts = []
          5.times do
            table = DeltaLake::Table.new(uri)
            rows = table.to_a
            # Each read sees a committed version: the first 1000 rows plus one per append.
            raise "torn read: #{rows.size} rows at version #{table.version}" unless rows.size == 1000 + table.version

            counts << rows.size
          end
          counts
        end
      end
      counts = readers.flat_map(&:value)
      writer.join
      assert_equal 40, counts.size
      assert(counts.all? { |c| c.between?(1000, 1010) })
      assert_equal 1010, DeltaLake::Table.new(uri).to_a.size
    end
  end

  def test_other_threads_run_while_a_call_blocks
    with_table({"id" => (1..200_000).to_a}) do |dt|
      ticks = 0
      ticker = Thread.new { loop { ticks += 1; sleep 0.001 } }
      dt.to_a(columns: ["id"])
      dt.optimize.compact
      ticker.kill
      assert_operator ticks, :>, 0
    end
  end

  def test_reads_survive_thread_switches
    with_new_table do |uri|
      5.times { |i| DeltaLake.write(uri, {"id" => [i]}, mode: "append") }
      dt = DeltaLake::Table.new(uri)
      spinning = true
      # A busy thread makes Ruby set its thread-switch flag, which a blocking call must not take
      # for an interrupt.
      spinner = Thread.new { Thread.pass while spinning }
      100.times { assert_equal [0, 1, 2, 3, 4], dt.to_a.map { |r| r["id"] }.sort }
    ensure
      spinning = false
      spinner&.join
    end
  end

  def test_fork_then_read
    skip "fork is not available" unless Process.respond_to?(:fork)

    with_table({"id" => [1, 2, 3]}) do |dt|
      assert_equal 3, dt.to_a.size # the parent's runtime is started
      reader, writer = IO.pipe
      pid = fork do
        reader.close
        child = DeltaLake::Table.new(dt.table_uri)
        writer.write(JSON.generate(child.to_a.map { |r| r["id"] }.sort))
        writer.close
        exit!(0)
      end
      writer.close
      status = wait_for(pid, 60)
      output = reader.read
      assert status&.success?, "the child failed or hung"
      assert_equal [1, 2, 3], JSON.parse(output)
      # The parent's runtime still works.
      DeltaLake.write(dt, {"id" => [4]}, mode: "append")
      assert_equal 4, dt.to_a.size
    end
  end

  def test_interrupted_write_commits_nothing
    with_table({"id" => [0]}) do |dt|
      data = {"id" => (1..3_000_000).to_a, "text" => Array.new(3_000_000) { |i| "row #{i}" }}
      started = Queue.new
      worker = Thread.new do
        Thread.current.report_on_exception = false
        started << true
        DeltaLake.write(dt.table_uri, data, mode: "append")
        :finished
      end
      started.pop
      sleep 0.3
      worker.raise(Interrupt, "stop")
      error = assert_raises(Interrupt) { worker.value }
      assert_equal "stop", error.message
      dt.update_incremental
      assert_equal 0, dt.version
      assert_equal [{"id" => 0}], dt.to_a(columns: ["id"])
    end
  end

  private

  # The child's status, or nil after killing it when it has not ended within `seconds`.
  def wait_for(pid, seconds)
    deadline = Time.now + seconds
    loop do
      _, status = Process.wait2(pid, Process::WNOHANG)
      return status if status
      if Time.now > deadline
        Process.kill(:KILL, pid)
        Process.wait(pid)
        return nil
      end
      sleep 0.05
    end
  end
end
