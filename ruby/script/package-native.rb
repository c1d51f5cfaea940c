# frozen_string_literal: true

# Builds the precompiled gem (pkg/deltalake-VERSION-x86_64-linux.gem) around the extension that
# `rake native` compiled into lib/deltalake: `gem install --local` installs it without Rust.
require "fileutils"
require "rubygems/package"

root = File.expand_path("..", __dir__)
so = File.join(root, "lib", "deltalake", "deltalake_ruby.so")
abort "#{so} is missing: run `rake native`" unless File.exist?(so)

Dir.chdir(root) do
  ENV["DELTALAKE_NATIVE_PLATFORM"] = "x86_64-linux"
  spec = Gem::Specification.load("deltalake.gemspec")
  # Strip the debug symbols: the gem is a fraction of the size.
  system("strip", "--strip-unneeded", so) || warn("strip failed; packaging the library as is")
  file = Gem::Package.build(spec)
  FileUtils.mkdir_p("pkg")
  FileUtils.mv(file, File.join("pkg", file))
  puts "pkg/#{file}"
end
