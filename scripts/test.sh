#!/usr/bin/env bash
# Builds everything and runs the whole test suite: unit, parity (PyTorch fixtures),
# CLI error handling (also under ASan/UBSan), and accuracy on ../shared when present.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

bash scripts/build.sh -DFEATVIS_BUILD_TESTS=ON -DFEATVIS_BUILD_BENCH=ON -DFEATVIS_SANITIZE=OFF
# One OpenMP thread per test process: two tests run at once on 2 cores, and
# oversubscribed OpenMP threads spin against each other (10-30x slower steps).
(cd build && OMP_NUM_THREADS=1 ctest --output-on-failure --timeout 1800 -j 2)

# Bad-input tests again with AddressSanitizer + UndefinedBehaviorSanitizer: only the
# engine, the CLI and the CLI tests are rebuilt with sanitizers.
cmake -S . -B build-asan -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1" -DFEATVIS_SANITIZE=ON \
  -DFEATVIS_BUILD_BENCH=OFF >/dev/null
ninja -C build-asan featvis cli_tests
(cd build-asan && OMP_NUM_THREADS=1 ASAN_OPTIONS=detect_leaks=0 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
  ctest --output-on-failure -R '^Cli' -j 2)

echo "tests: finished in $(( $(date +%s) - start )) s"
