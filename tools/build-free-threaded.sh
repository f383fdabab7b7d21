#!/usr/bin/env bash
# Build a free-threaded CPython 3.13 (`python3.13t`, the GIL compiled out) from Debian's own
# `python3.13` source package, for Debian and Ubuntu (issue 18).
#
#   tools/build-free-threaded.sh          build it, or say where the cached build is
#   tools/build-free-threaded.sh --path   print the interpreter's path (build it first if missing)
#
# Why from Debian's source package: no Debian release ships a free-threaded 3.13, and this
# machine may reach no site but the package registries. trixie's python3.13 source (3.13.5)
# downloads through the Debian mirror; the build is CPython's own `./configure --disable-gil`.
#
# Cached: the result lives in $FT_PREFIX (default ~/.cache/concurrency-lab/python3.13t) and is
# reused while `sys._is_gil_enabled()` there says False; delete the folder to rebuild. Bounded:
# the download gets FT_FETCH_TIMEOUT seconds, the build FT_BUILD_TIMEOUT (about 5 minutes on
# 2 cores; the default allows 4x that). Needs root or sudo only to add the deb-src entry and the
# C toolchain, and only when they are missing.
#
# On macOS and Windows: python.org's installers offer a free-threaded build as an option
# ("Download free-threaded binaries"), or `uv python install 3.13t` (or 3.14t).
set -euo pipefail
PREFIX=${FT_PREFIX:-$HOME/.cache/concurrency-lab/python3.13t}
WORK=${FT_WORK:-$HOME/.cache/concurrency-lab/python3.13t-src}
FETCH_TIMEOUT=${FT_FETCH_TIMEOUT:-300}
BUILD_TIMEOUT=${FT_BUILD_TIMEOUT:-1200}
PY=$PREFIX/bin/python3.13t
SRC_LIST=/etc/apt/sources.list.d/concurrency-lab-trixie-src.sources

MODE=${1:-build}
note() { [ "$MODE" = --path ] || echo "build-free-threaded: $*"; }

ready() { "$PY" -c 'import sys; sys.exit(sys._is_gil_enabled())' 2>/dev/null; }

if ready; then
    note "cached: $PY ($("$PY" -VV | head -n 1))"
    [ "$MODE" = --path ] && echo "$PY"
    exit 0
fi

case "$(. /etc/os-release 2>/dev/null; echo "${ID:-} ${ID_LIKE:-}")" in
    *debian*|*ubuntu*) ;;
    *) echo "build-free-threaded: this script is for Debian and Ubuntu; elsewhere use python.org's" \
            "free-threaded installer or 'uv python install 3.13t'" >&2; exit 2 ;;
esac
SUDO=$([ "$(id -u)" = 0 ] || echo sudo)
start=$SECONDS

# 1. The source: a deb-src entry for trixie (only source packages; nothing is installed from it).
if [ ! -f "$SRC_LIST" ]; then
    printf 'Types: deb-src\nURIs: http://deb.debian.org/debian\nSuites: trixie\nComponents: main\nSigned-By: %s\n' \
        /usr/share/keyrings/debian-archive-keyring.gpg | $SUDO tee "$SRC_LIST" > /dev/null
    $SUDO timeout "$FETCH_TIMEOUT" apt-get update -qq
fi
for tool in gcc make pkg-config; do
    command -v "$tool" > /dev/null || { $SUDO apt-get install -y -qq --no-install-recommends \
        build-essential pkg-config libssl-dev zlib1g-dev libffi-dev libbz2-dev liblzma-dev \
        libsqlite3-dev uuid-dev > /dev/null; break; }
done
mkdir -p "$WORK"
cd "$WORK"
tarball=$(ls python3.13_*.orig.tar.xz 2>/dev/null | sort -V | tail -n 1 || true)
if [ -z "$tarball" ]; then
    note "downloading Debian's python3.13 source package"
    timeout "$FETCH_TIMEOUT" apt-get source --download-only -qq python3.13 > /dev/null
    tarball=$(ls python3.13_*.orig.tar.xz | sort -V | tail -n 1)
fi
note "$tarball ($((SECONDS - start)) s so far)"

# 2. The build: upstream CPython, configured without the GIL, installed under $PREFIX.
rm -rf build && mkdir build
tar -xJf "$tarball" -C build --strip-components=1
cd build
jobs=$(nproc 2>/dev/null || echo 2)
note "configure --disable-gil, make -j$jobs (about 5 minutes on 2 cores)"
if ! timeout "$BUILD_TIMEOUT" bash -c "./configure --disable-gil --prefix='$PREFIX' --with-ensurepip=install \
        > configure.log 2>&1 && make -j$jobs > make.log 2>&1 && make install > install.log 2>&1"; then
    echo "build-free-threaded: the build failed or took over $BUILD_TIMEOUT s; the last lines:" >&2
    tail -n 20 "$(ls -t ./*.log | head -n 1)" >&2
    exit 1
fi
cd "$WORK" && rm -rf build
ready || { echo "build-free-threaded: $PY was built but its GIL is on" >&2; exit 1; }
note "built $PY ($("$PY" -VV | head -n 1)) in $((SECONDS - start)) s"
[ "$MODE" = --path ] && echo "$PY"
exit 0
