# frozen_string_literal: true

require_relative "lib/deltalake/version"

# The source gem (compiles the extension with cargo when installed). `rake build` stages it with
# the core crate vendored; `rake native` makes the precompiled x86_64-linux gem from the same spec
# (DELTALAKE_NATIVE_PLATFORM set).
Gem::Specification.new do |spec|
  spec.name = "deltalake"
  spec.version = DeltaLake::VERSION
  spec.summary = "Delta Lake for Ruby, on a native Rust implementation"
  spec.description = "Read, write and maintain Delta Lake tables from Ruby: Arrow C streams for " \
    "polars-df and red-arrow, Ruby values for the rest. API-compatible with deltalake-rb."
  spec.license = "Apache-2.0"
  spec.authors = ["The deltalake authors"]
  spec.homepage = "https://example.invalid/deltalake"
  spec.required_ruby_version = ">= 3.1"
  spec.require_paths = ["lib"]

  platform = ENV["DELTALAKE_NATIVE_PLATFORM"]
  if platform
    spec.platform = platform
    spec.files = Dir["lib/**/*.rb", "lib/deltalake/deltalake_ruby.so", "README.md"]
  else
    spec.files = Dir["lib/**/*.rb", "README.md", "ext/deltalake/extconf.rb", "ext/deltalake/Cargo.toml",
                     "ext/deltalake/Cargo.lock", "ext/deltalake/src/**/*.rs", "ext/deltalake/vendor/**/*"]
    spec.extensions = ["ext/deltalake/extconf.rb"]
    spec.requirements = ["Rust and cargo 1.88 or later, libclang (rb-sys's bindgen)"]
  end
  spec.add_dependency "bigdecimal"
end
