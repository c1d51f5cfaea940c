# frozen_string_literal: true

# Builds the source gem (pkg/deltalake-VERSION.gem). The extension crate lives in the repository's
# Cargo workspace, so the gem gets a standalone copy: the core crate as `cargo package` normalises
# it (workspace settings resolved) under ext/deltalake/vendor, and a Cargo.toml for the extension
# with those settings written out. `gem install` then runs ext/deltalake/extconf.rb, which builds
# it with cargo.
require "fileutils"
require "json"
require "rubygems/package"
require "tmpdir"

root = File.expand_path("..", __dir__)
repo = File.expand_path("..", root)
metadata = JSON.parse(`cargo metadata --format-version 1 --no-deps --manifest-path #{repo}/Cargo.toml`)
target_dir = metadata["target_directory"]
core = metadata["packages"].find { |p| p["name"] == "deltalake" }
ext = metadata["packages"].find { |p| p["name"] == "deltalake-ruby" }

system("cargo", "package", "--manifest-path", "#{repo}/Cargo.toml", "-p", "deltalake", "--no-verify",
       "--allow-dirty", exception: true)
crate = File.join(target_dir, "package", "deltalake-#{core["version"]}.crate")

Dir.mktmpdir("deltalake-gem") do |stage|
  FileUtils.cp_r(File.join(root, "lib"), stage)
  FileUtils.rm_f(Dir[File.join(stage, "lib", "deltalake", "*.so")])
  FileUtils.cp(File.join(root, "deltalake.gemspec"), stage)
  FileUtils.cp(File.join(root, "README.md"), stage)
  ext_dir = File.join(stage, "ext", "deltalake")
  FileUtils.mkdir_p(File.join(ext_dir, "vendor"))
  FileUtils.cp_r(File.join(root, "ext", "deltalake", "src"), ext_dir)
  FileUtils.cp(File.join(root, "ext", "deltalake", "extconf.rb"), ext_dir)
  system("tar", "-xzf", crate, "-C", File.join(ext_dir, "vendor"), exception: true)
  FileUtils.mv(File.join(ext_dir, "vendor", "deltalake-#{core["version"]}"), File.join(ext_dir, "vendor", "deltalake"))

  # The extension's dependencies with the workspace's versions and features written out.
  workspace = File.read(File.join(repo, "Cargo.toml"))
  version_of = lambda do |name|
    line = workspace[/^#{Regexp.escape(name)} = (.+)$/, 1] or raise "no workspace dependency #{name}"
    line.start_with?("\"") ? line.delete('"') : line[/version = "([^"]+)"/, 1]
  end
  deps = ext["dependencies"].reject { |d| d["kind"] }.map do |d|
    name = d["name"]
    features = d["features"]
    spec =
      if name == "deltalake"
        %(path = "vendor/deltalake", features = #{features.to_json})
      else
        version = d["req"] == "*" ? version_of.call(name) : d["req"].sub(/\A\^/, "")
        version = version_of.call(name) if d["source"].nil? || version.empty?
        parts = [%(version = "#{version}")]
        parts << "default-features = false" unless d["uses_default_features"]
        parts << "features = #{features.to_json}" unless features.empty?
        parts.join(", ")
      end
    "#{name} = { #{spec} }"
  end
  File.write(File.join(ext_dir, "Cargo.toml"), <<~TOML)
    [package]
    name = "deltalake-ruby"
    version = "#{ext["version"]}"
    edition = "2024"
    license = "Apache-2.0"
    publish = false

    [lib]
    name = "deltalake_ruby"
    crate-type = ["cdylib"]

    [dependencies]
    #{deps.join("\n")}

    [profile.release]
    codegen-units = 16
    lto = "thin"

    [workspace]
  TOML
  FileUtils.cp(File.join(repo, "Cargo.lock"), File.join(ext_dir, "Cargo.lock"))

  Dir.chdir(stage) do
    spec = Gem::Specification.load("deltalake.gemspec")
    file = Gem::Package.build(spec)
    FileUtils.mkdir_p(File.join(root, "pkg"))
    FileUtils.mv(file, File.join(root, "pkg", file))
    puts "pkg/#{file}"
  end
end
