#!/usr/bin/env bash
# Installs what the Ruby gem (ruby/) needs to build and test, from Debian's packages: Ruby with its
# headers (rb-sys reads the configuration of the `ruby` on PATH), minitest, rake, and libclang for
# rb-sys's bindgen. Does nothing when everything is there already.
set -euo pipefail
missing=()
command -v ruby >/dev/null || missing+=(ruby)
command -v rake >/dev/null || missing+=(rake)
if command -v ruby >/dev/null; then
  ruby -e 'require "mkmf"; exit(File.exist?(File.join(RbConfig::CONFIG["rubyhdrdir"], "ruby.h")) ? 0 : 1)' \
    2>/dev/null || missing+=(ruby-dev)
  ruby -e 'require "minitest"' 2>/dev/null || missing+=(ruby-minitest)
else
  missing+=(ruby-dev ruby-minitest)
fi
# libclang itself: libclang-cpp, which other packages bring, is not what bindgen loads.
compgen -G "/usr/lib/llvm-*/lib/libclang.so*" >/dev/null || compgen -G "/usr/lib/*/libclang-[0-9]*.so*" >/dev/null ||
  missing+=(libclang-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  echo "installing ${missing[*]}" >&2
  $sudo apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
fi
