#!/usr/bin/env bash
# Configure and build medsweep into ./build.  Safe to run again: it only
# rebuilds what changed.
#   BUILD_TYPE   CMake build type (default Release)
#   MS_SANITIZE  ON/1 builds with AddressSanitizer + UBSan (default OFF)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

build_type=${BUILD_TYPE:-Release}
case ${MS_SANITIZE:-OFF} in
    1 | ON | on | On | YES | yes | TRUE | true) sanitize=ON ;;
    *) sanitize=OFF ;;
esac
jobs=$(nproc 2>/dev/null || echo 2)

echo "build: configuring ./build (CMAKE_BUILD_TYPE=$build_type, MS_SANITIZE=$sanitize)"
cmake -S . -B build -DCMAKE_BUILD_TYPE="$build_type" -DMS_SANITIZE="$sanitize"
echo "build: compiling with $jobs jobs"
cmake --build build -j"$jobs"
echo "build: done (binaries in ./build: engine/medsweep, bench/ms_mkcsv)"
