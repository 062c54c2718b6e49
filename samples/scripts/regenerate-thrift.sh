#!/usr/bin/env bash
#
# Regenerates the samples' committed Java code, src/main/gen-java, from src/main/thrift/echo.thrift
# with the Thrift compiler lb-thrift uses (0.24.0; its Java needs libthrift >= 0.23, the build uses
# libthrift ${libthrift.version} from the parent pom).
#
# The compiler is the one lb-thrift/scripts/regenerate-thrift.sh builds in $THRIFT_BUILD_DIR (default
# /tmp/thrift-build): run that script first on a fresh machine (as root on Debian 12; it also
# regenerates lb-thrift's code, identically when its IDL is unchanged). Commit only the generated Java.
set -euo pipefail

THRIFT_VERSION="${THRIFT_VERSION:-0.24.0}"
BUILD_DIR="${THRIFT_BUILD_DIR:-/tmp/thrift-build}"
THRIFT="${THRIFT:-$BUILD_DIR/build-$THRIFT_VERSION/bin/thrift}"
GEN_OPTIONS="java:generated_annotations=suppress"

MODULE_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IDL="$MODULE_DIR/src/main/thrift/echo.thrift"
OUT="$MODULE_DIR/src/main/gen-java"

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

[[ -f "$IDL" ]] || die "IDL not found: $IDL"
[[ -x "$THRIFT" ]] || die "no Thrift compiler at $THRIFT: run lb-thrift/scripts/regenerate-thrift.sh first"
version="$("$THRIFT" --version | awk '{print $3}')"
[[ "$version" == "$THRIFT_VERSION" ]] || die "$THRIFT is $version, expected $THRIFT_VERSION"

printf '==> Generating with Thrift %s into %s\n' "$version" "${OUT#"$MODULE_DIR"/}"
rm -rf "$OUT"
mkdir -p "$OUT"
"$THRIFT" --gen "$GEN_OPTIONS" -out "$OUT" "$IDL"
(cd "$MODULE_DIR" && find "${OUT#"$MODULE_DIR"/}" -type f | sort | sed 's/^/    /')
