# frozen_string_literal: true

# Run by `gem install` for the source gem: writes a Makefile that builds the extension with cargo
# (the release profile; DELTALAKE_CARGO_PROFILE=dev for a quicker, slower-running build) and
# installs it as deltalake/deltalake_ruby.so. rb-sys finds this Ruby through `ruby` on PATH, so
# the Ruby running this script is put first there.
require "rbconfig"

abort "cargo is needed to build the deltalake gem: https://rustup.rs (or install the x86_64-linux gem)" unless system("cargo --version", out: File::NULL)

profile = ENV.fetch("DELTALAKE_CARGO_PROFILE", "release")
out_dir = profile == "dev" ? "debug" : profile
ruby_bin = RbConfig::CONFIG["bindir"]
dlext = RbConfig::CONFIG["DLEXT"]
sitearchdir = RbConfig::CONFIG["sitearchdir"]

File.write("Makefile", <<~MAKE)
  sitearchdir ?= #{sitearchdir}
  CARGO_TARGET_DIR ?= $(CURDIR)/target

  all: deltalake_ruby.#{dlext}

  deltalake_ruby.#{dlext}:
  \tPATH="#{ruby_bin}:$$PATH" cargo build --manifest-path "$(CURDIR)/Cargo.toml" --profile #{profile} --lib --target-dir "$(CARGO_TARGET_DIR)"
  \tcp "$(CARGO_TARGET_DIR)/#{out_dir}/libdeltalake_ruby.so" deltalake_ruby.#{dlext}

  install: all
  \tmkdir -p "$(DESTDIR)$(sitearchdir)/deltalake"
  \tcp deltalake_ruby.#{dlext} "$(DESTDIR)$(sitearchdir)/deltalake/"

  clean:
  \trm -f deltalake_ruby.#{dlext}

  .PHONY: all install clean
MAKE
