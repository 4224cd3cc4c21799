#!/bin/sh
# Install a released obsgate binary:
#
#   sh install.sh --version 0.1.0 [--to DIR]
#
# Downloads $OBSGATE_DOWNLOAD_URL/v<version>/obsgate-<version>-<target>.tar.gz (.zip on
# Windows) and the .sha256 beside it, verifies the checksum, and puts the binary at
# DIR/obsgate (default: ~/.local/bin) with one rename, so a running obsgate is never
# replaced by half a file. Nothing is left behind when the download, the checksum or the
# install fails.
#
# Environment:
#   OBSGATE_DOWNLOAD_URL  base URL of the releases (default: the GitHub releases of
#                         obsgate/obsgate); point it at a mirror or a test server
#   OBSGATE_TARGET        the target triple to fetch, when the detected one is wrong
#                         (e.g. x86_64-unknown-linux-musl on a glibc system)
#
# Exit status: 0 installed; 1 failed (download, checksum, install); 2 usage; 3 no archive for
# this version and target (the server answered 404).
#
# POSIX sh: runs in Alpine's busybox as in bash. Needs curl or wget, tar (unzip on Windows),
# and sha256sum, shasum or openssl.
set -eu

default_url="https://github.com/obsgate/obsgate/releases/download"
version=""
to="${HOME:-.}/.local/bin"

say() { printf 'obsgate install: %s\n' "$*" >&2; }
die() { say "$1"; exit "${2:-1}"; }

usage() {
  sed -n '2,/^set -eu/p' "$0" | sed '$d; s/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
  case "$1" in
    --version) [ $# -ge 2 ] || die "--version needs a value" 2; version="$2"; shift 2 ;;
    --version=*) version="${1#--version=}"; shift ;;
    --to) [ $# -ge 2 ] || die "--to needs a value" 2; to="$2"; shift 2 ;;
    --to=*) to="${1#--to=}"; shift ;;
    -h|--help) usage; exit 0 ;;
    *) die "unknown argument: $1 (see --help)" 2 ;;
  esac
done
[ -n "$version" ] || die "--version is required, e.g. --version 0.1.0" 2
version="${version#v}"
case "$version" in
  *[!A-Za-z0-9._+-]*) die "not a version: $version" 2 ;;
esac

detect_target() {
  os="$(uname -s)"
  arch="$(uname -m)"
  case "$arch" in
    x86_64|amd64) arch=x86_64 ;;
    aarch64|arm64) arch=aarch64 ;;
    *) die "no release for the $arch architecture: build from source (cargo install --locked --git ...)" 3 ;;
  esac
  case "$os" in
    Linux)
      # musl (Alpine) or glibc
      if ls /lib/ld-musl-* >/dev/null 2>&1 || { ldd --version 2>&1 | grep -qi musl; }; then
        echo "$arch-unknown-linux-musl"
      else
        echo "$arch-unknown-linux-gnu"
      fi
      ;;
    Darwin) echo "$arch-apple-darwin" ;;
    MINGW*|MSYS*|CYGWIN*|Windows_NT) echo "$arch-pc-windows-msvc" ;;
    *) die "no release for $os: build from source" 3 ;;
  esac
}

target="${OBSGATE_TARGET:-$(detect_target)}"
exe=obsgate
ext=tar.gz
case "$target" in *windows*) exe=obsgate.exe; ext=zip ;; esac
base="${OBSGATE_DOWNLOAD_URL:-$default_url}"
base="${base%/}"
name="obsgate-$version-$target"
url="$base/v$version/$name.$ext"

tmp=""
partial=""
cleanup() {
  [ -z "$tmp" ] || rm -rf "$tmp"
  [ -z "$partial" ] || rm -f "$partial"
}
trap cleanup EXIT
trap 'cleanup; exit 1' HUP INT TERM
tmp="$(mktemp -d "${TMPDIR:-/tmp}/obsgate-install.XXXXXX")"

# download URL FILE: 0, 3 when the server says 404, 1 otherwise
download() {
  if command -v curl >/dev/null 2>&1; then
    code="$(curl -sSL --retry 2 --connect-timeout 20 -o "$2" -w '%{http_code}' "$1")" || return 1
    case "$code" in
      2??) return 0 ;;
      404) return 3 ;;
      *) say "$1: HTTP $code"; return 1 ;;
    esac
  elif command -v wget >/dev/null 2>&1; then
    if wget -q -T 20 -O "$2" "$1"; then return 0; fi
    # wget does not tell the status: ask for the headers alone
    if wget -S --spider -T 20 "$1" 2>&1 | grep -q ' 404'; then return 3; fi
    return 1
  else
    die "neither curl nor wget is installed"
  fi
}

say "downloading $url"
rc=0
download "$url" "$tmp/$name.$ext" || rc=$?
if [ "$rc" -eq 3 ]; then
  die "no archive for obsgate $version on $target at $url" 3
elif [ "$rc" -ne 0 ]; then
  die "cannot download $url"
fi
rc=0
download "$url.sha256" "$tmp/$name.$ext.sha256" || rc=$?
[ "$rc" -eq 0 ] || die "cannot download the checksum $url.sha256"

expected="$(sed -n '1s/^\([0-9a-fA-F]\{64\}\).*/\1/p' "$tmp/$name.$ext.sha256" | tr 'A-F' 'a-f')"
[ -n "$expected" ] || die "$url.sha256 holds no sha256 checksum"
if command -v sha256sum >/dev/null 2>&1; then
  actual="$(sha256sum "$tmp/$name.$ext" | cut -d' ' -f1)"
elif command -v shasum >/dev/null 2>&1; then
  actual="$(shasum -a 256 "$tmp/$name.$ext" | cut -d' ' -f1)"
elif command -v openssl >/dev/null 2>&1; then
  actual="$(openssl dgst -sha256 -r "$tmp/$name.$ext" | cut -d' ' -f1)"
else
  die "no sha256sum, shasum or openssl to verify the download"
fi
[ "$actual" = "$expected" ] || die "checksum mismatch for $name.$ext: expected $expected, got $actual (nothing installed)"

mkdir "$tmp/x"
case "$ext" in
  zip) unzip -q "$tmp/$name.$ext" -d "$tmp/x" || die "cannot unpack $name.$ext" ;;
  *) tar -xzf "$tmp/$name.$ext" -C "$tmp/x" || die "cannot unpack $name.$ext" ;;
esac
bin="$tmp/x/$name/$exe"
[ -f "$bin" ] || die "$name.$ext holds no $name/$exe"
chmod 755 "$bin"
# it runs here (the right architecture and C library)
"$bin" --version >/dev/null 2>&1 || die "the downloaded obsgate does not run on this machine ($target)"

mkdir -p "$to" || die "cannot create $to"
# copy beside the destination, then rename over it: atomic on one file system
partial="$to/.$exe.install.$$"
cp "$bin" "$partial" || die "cannot write to $to"
chmod 755 "$partial"
mv -f "$partial" "$to/$exe" || die "cannot install $to/$exe"
partial=""
say "installed $("$to/$exe" --version) at $to/$exe"
case ":${PATH:-}:" in
  *":$to:"*) ;;
  *) say "note: $to is not on PATH" ;;
esac
