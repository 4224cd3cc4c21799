#!/usr/bin/env bash
# Build a release archive of obsgate and its checksum:
#
#   target/dist/obsgate-<version>-<target>.tar.gz          (.zip for Windows targets)
#   target/dist/obsgate-<version>-<target>.tar.gz.sha256   (`sha256sum` format)
#
# The archive holds one directory, obsgate-<version>-<target>/, with the stripped binary and
# the README. Linux targets are linked with cargo-zigbuild (zig as the linker), the gnu ones
# against glibc 2.17 (CentOS 7, Debian 8, Ubuntu 14.04 and newer run them); cargo-zigbuild and
# ziglang install from PyPI into target/dist-venv. Other targets build with plain cargo.
#
# Usage:
#   dist/build.sh                                 # this machine's target, x86_64-unknown-linux-gnu
#   dist/build.sh --target aarch64-unknown-linux-musl
#   dist/build.sh --binary PATH --target T        # package a binary built elsewhere (no build)
#   dist/build.sh --out DIR                       # write the archive to DIR (default target/dist)
#
# OBSGATE_DIST_GZIP_LEVEL (1-9, default 9) trades size for time (the tests use 1).
#
# Needs: cargo (with the target installed by rustup), python3 (for the venv), tar, sha256sum
# or shasum; zip archives need 7z or zip.
set -euo pipefail
cd "$(dirname "$0")/.."

target=""
binary=""
out="target/dist"
glibc="2.17"
while [ $# -gt 0 ]; do
  case "$1" in
    --target) target="$2"; shift 2 ;;
    --binary) binary="$2"; shift 2 ;;
    --out) out="$2"; shift 2 ;;
    --glibc) glibc="$2"; shift 2 ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "dist/build.sh: unknown argument: $1" >&2; exit 2 ;;
  esac
done
if [ -z "$target" ]; then
  target="$(rustc -vV | sed -n 's/^host: //p')"
fi

version="$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -n 1)"
[ -n "$version" ] || { echo "dist/build.sh: no version in Cargo.toml" >&2; exit 2; }

exe=obsgate
case "$target" in *windows*) exe=obsgate.exe ;; esac

if [ -z "$binary" ]; then
  # symbols stripped, whatever the profile says
  export CARGO_PROFILE_RELEASE_STRIP=symbols
  case "$target" in
    *linux*)
      venv=target/dist-venv
      if [ ! -x "$venv/bin/cargo-zigbuild" ] || [ ! -x "$venv/bin/python-zig" ]; then
        python3 -m venv "$venv"
        "$venv/bin/pip" install -q cargo-zigbuild==0.24.0 ziglang==0.17.0
      fi
      zig_target="$target"
      case "$target" in *-gnu) zig_target="$target.$glibc" ;; esac
      PATH="$PWD/$venv/bin:$PATH" cargo zigbuild --release --locked --target "$zig_target"
      ;;
    *)
      cargo build --release --locked --target "$target"
      ;;
  esac
  binary="target/$target/release/$exe"
fi
[ -f "$binary" ] || { echo "dist/build.sh: no binary at $binary" >&2; exit 2; }

name="obsgate-$version-$target"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
stage="$(mktemp -d "${TMPDIR:-/tmp}/obsgate-dist.XXXXXX")"
trap 'rm -rf "$stage"' EXIT
mkdir "$stage/$name"
cp "$binary" "$stage/$name/$exe"
chmod 755 "$stage/$name/$exe"
cp README.md "$stage/$name/"

# reproducible archives: fixed order, owner and time (the last commit's, when there is one)
epoch="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"
case "$target" in
  *windows*)
    archive="$name.zip"
    rm -f "$out/$archive"
    if command -v 7z >/dev/null; then
      (cd "$stage" && 7z a -tzip -bso0 "$out/$archive" "$name" )
    else
      (cd "$stage" && zip -qr "$out/$archive" "$name")
    fi
    ;;
  *)
    archive="$name.tar.gz"
    tar_flags=()
    if tar --version 2>/dev/null | grep -q 'GNU tar'; then
      tar_flags=(--sort=name --owner=0 --group=0 --numeric-owner --mtime="@$epoch")
    fi
    (cd "$stage" && tar ${tar_flags[@]+"${tar_flags[@]}"} -cf - "$name" | gzip -n "-${OBSGATE_DIST_GZIP_LEVEL:-9}" > "$out/$archive.part")
    mv "$out/$archive.part" "$out/$archive"
    ;;
esac

if command -v sha256sum >/dev/null; then
  (cd "$out" && sha256sum "$archive" > "$archive.sha256")
else
  (cd "$out" && shasum -a 256 "$archive" > "$archive.sha256")
fi
echo "$out/$archive"
