#!/usr/bin/env bash
#
# Regenerates lb-thrift's committed Java code from src/test/thrift/echo.thrift:
#
#   src/test/gen-java/               Thrift compiler 0.24.0, built here from Debian sid's source
#                                    package (Java code from a >= 0.21 compiler needs libthrift >= 0.21;
#                                    the build uses libthrift ${libthrift.version} from the parent pom)
#   src/compat-test/gen-java-0.17/   Debian 12's thrift-compiler 0.17.0 (its code compiles only against
#                                    libthrift <= 0.20; for the compatibility build against 0.20.0)
#
# Run it as root on Debian 12 after editing the IDL; commit only the generated Java. Nothing is built
# or downloaded inside the repository: the compiler is built in $THRIFT_BUILD_DIR (default
# /tmp/thrift-build) and reused on the next run when it is already there (set THRIFT_REBUILD=1 to
# build it again). Regenerating twice gives identical files (no dates with generated_annotations=suppress).
#
# How the 0.24.0 compiler is obtained: a private apt configuration (its own sources list with a
# deb-src line for sid, its own lists and cache, nothing in /etc/apt is changed) lets
# `apt-get source --download-only` fetch thrift_0.24.0.orig.tar.gz, whose SHA-256 is checked below.
# Only the upstream tarball is used (the .dsc and debian tarball may be missing from the mirror and
# are not needed). The compiler alone is built: cmake -S compiler/cpp, then make.
set -euo pipefail

THRIFT_VERSION="${THRIFT_VERSION:-0.24.0}"
THRIFT_ORIG_SHA256="${THRIFT_ORIG_SHA256:-e0fa5839a4c5c1d631b0931cf2c554ebbfa4e2fee3a9fb3ffd4f82ce4396c6e4}"
OLD_THRIFT_VERSION="0.17.0" # Debian 12's thrift-compiler
BUILD_DIR="${THRIFT_BUILD_DIR:-/tmp/thrift-build}"
DEBIAN_MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
GEN_OPTIONS="java:generated_annotations=suppress"

MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IDL="$MODULE_DIR/src/test/thrift/echo.thrift"
OUT_NEW="$MODULE_DIR/src/test/gen-java"
OUT_OLD="$MODULE_DIR/src/compat-test/gen-java-0.17"

ORIG_TARBALL="thrift_${THRIFT_VERSION}.orig.tar.gz"
SOURCE_DIR="$BUILD_DIR/thrift-$THRIFT_VERSION"
CMAKE_DIR="$BUILD_DIR/build-$THRIFT_VERSION"
NEW_THRIFT="$CMAKE_DIR/bin/thrift"
OLD_THRIFT="/usr/bin/thrift"

log() { printf '==> %s\n' "$*"; }
run() {
  printf '    $ %s\n' "$*"
  "$@"
}
die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# --- Checks -----------------------------------------------------------------------------------------

[[ -f "$IDL" ]] || die "IDL not found: $IDL"
build_parent="$(mkdir -p "$BUILD_DIR" && cd "$BUILD_DIR" && pwd -P)"
repo_root="$(cd "$MODULE_DIR/.." && pwd -P)"
case "$build_parent/" in
  "$repo_root"/*) die "THRIFT_BUILD_DIR ($build_parent) must be outside the repository ($repo_root)" ;;
esac
BUILD_DIR="$build_parent"

compiler_version() { "$1" --version 2>/dev/null | awk '{print $3}'; }

# --- Build tools and Debian's 0.17.0 compiler -----------------------------------------------------

packages=(bison flex cmake g++ make thrift-compiler)
missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
if ((${#missing[@]} > 0)); then
  ((EUID == 0)) || die "missing packages ${missing[*]}; run as root or install them first"
  log "Installing ${missing[*]}"
  run apt-get update -q
  run env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  log "Packages already installed: ${packages[*]}"
fi
[[ "$(compiler_version "$OLD_THRIFT")" == "$OLD_THRIFT_VERSION" ]] ||
  die "$OLD_THRIFT is $("$OLD_THRIFT" --version), expected $OLD_THRIFT_VERSION (Debian 12's thrift-compiler)"

# --- Thrift compiler $THRIFT_VERSION ----------------------------------------------------------------

checksum_ok() { [[ -f "$1" ]] && echo "$THRIFT_ORIG_SHA256  $1" | sha256sum --check --status; }

fetch_source() {
  local apt_dir="$BUILD_DIR/apt"
  local tarball="$BUILD_DIR/src/$ORIG_TARBALL"
  if checksum_ok "$tarball"; then
    log "Source already downloaded: $tarball"
    return
  fi
  log "Downloading $ORIG_TARBALL from Debian sid's source package (private apt state in $apt_dir)"
  mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$BUILD_DIR/src"
  printf 'deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] %s sid main\n' \
    "$DEBIAN_MIRROR" >"$apt_dir/sources.list"
  local apt_opts=(
    -o "Dir::Etc::SourceList=$apt_dir/sources.list"
    -o "Dir::Etc::SourceParts=/dev/null"
    -o "Dir::State::Lists=$apt_dir/lists"
    -o "Dir::Cache=$apt_dir/cache"
    -o "APT::Sandbox::User=root"
  )
  run apt-get "${apt_opts[@]}" update -q
  # The Debian revision changes over time; take the one packaging upstream $THRIFT_VERSION.
  local debian_version
  debian_version="$(apt-cache "${apt_opts[@]}" showsrc thrift |
    awk -v v="$THRIFT_VERSION" '$1 == "Version:" && index($2, v "-") == 1 {print $2; exit}')"
  if [[ -n "$debian_version" ]]; then
    # Exit status ignored: the .dsc and debian tarball may 404 on the mirror; only the orig tarball
    # is needed and its checksum decides.
    log "apt-get source: 404 errors for the .dsc, .asc and debian.tar.xz are expected and harmless"
    (cd "$BUILD_DIR/src" && run apt-get "${apt_opts[@]}" source --download-only "thrift=$debian_version") || true
  fi
  if ! checksum_ok "$tarball"; then
    log "sid does not offer $ORIG_TARBALL via apt-get source; trying the pool directly"
    rm -f "$tarball"
    run /usr/lib/apt/apt-helper download-file "$DEBIAN_MIRROR/pool/main/t/thrift/$ORIG_TARBALL" \
      "$tarball" "SHA256:$THRIFT_ORIG_SHA256" || true
  fi
  checksum_ok "$tarball" || die "could not get $ORIG_TARBALL with SHA-256 $THRIFT_ORIG_SHA256.
  sid now offers: $(apt-cache "${apt_opts[@]}" showsrc thrift | awk '$1 == "Version:" {print $2}' | xargs).
  Set THRIFT_VERSION and THRIFT_ORIG_SHA256 (from 'Checksums-Sha256' of apt-cache showsrc) to a
  version >= 0.21 it offers, then check the generated code against the libthrift version in use."
}

if [[ "${THRIFT_REBUILD:-0}" != 1 && -x "$NEW_THRIFT" &&
  "$(compiler_version "$NEW_THRIFT")" == "$THRIFT_VERSION" ]]; then
  log "Thrift compiler $THRIFT_VERSION already built: $NEW_THRIFT"
else
  fetch_source
  log "Building Thrift compiler $THRIFT_VERSION in $CMAKE_DIR"
  run rm -rf "$SOURCE_DIR" "$CMAKE_DIR"
  run tar -xzf "$BUILD_DIR/src/$ORIG_TARBALL" -C "$BUILD_DIR"
  [[ -d "$SOURCE_DIR/compiler/cpp" ]] || die "unexpected tarball layout: no $SOURCE_DIR/compiler/cpp"
  started=$SECONDS
  run cmake -S "$SOURCE_DIR/compiler/cpp" -B "$CMAKE_DIR" -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF
  run make -C "$CMAKE_DIR" -j"$(nproc)" thrift-compiler
  [[ "$(compiler_version "$NEW_THRIFT")" == "$THRIFT_VERSION" ]] ||
    die "built $NEW_THRIFT reports '$("$NEW_THRIFT" --version)', expected $THRIFT_VERSION"
  log "Built $("$NEW_THRIFT" --version) in $((SECONDS - started)) s"
fi

# --- Generate ---------------------------------------------------------------------------------------

generate() {
  local thrift="$1" out="$2"
  log "Generating with $("$thrift" --version) into ${out#"$MODULE_DIR"/}"
  run rm -rf "$out"
  run mkdir -p "$out"
  run "$thrift" --gen "$GEN_OPTIONS" -out "$out" "$IDL"
}

generate "$NEW_THRIFT" "$OUT_NEW"
generate "$OLD_THRIFT" "$OUT_OLD"

log "Done. Generated files:"
(cd "$MODULE_DIR" && find "${OUT_NEW#"$MODULE_DIR"/}" "${OUT_OLD#"$MODULE_DIR"/}" -type f | sort | sed 's/^/    /')
