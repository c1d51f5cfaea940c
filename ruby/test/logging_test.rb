# frozen_string_literal: true

require_relative "test_helper"
require "open3"
require "rbconfig"

# DeltaLake.init_logging shows the core's progress on standard error.
class LoggingTest < Minitest::Test
  def test_init_logging_logs_operations_to_stderr
    with_new_table do |uri|
      script = <<~RUBY
        require "deltalake"
        first = DeltaLake.init_logging
        second = DeltaLake.init_logging
        DeltaLake.write(ARGV[0], [{"id" => 1}])
        puts [first, second].inspect
      RUBY
      lib = File.expand_path("../lib", __dir__)
      env = {"RUST_LOG" => nil}
      out, err, status = Open3.capture3(env, RbConfig.ruby, "-I", lib, "-e", script, uri)
      assert status.success?, err
      assert_equal "[true, false]", out.strip
      assert_match(/deltalake.*write finished/, err)
    end
  end
end
