#!/usr/bin/env bash
# Installs every Debian package featvis needs to build, test and benchmark.
# Usage: bash scripts/setup.sh [--bench]   (--bench also installs ONNX Runtime from npm)
# Always installs tests/browser's npm packages (playwright-core) for the browser test.
set -euo pipefail
cd "$(dirname "$0")/.."

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build ccache pkg-config git
  # engine: LibTorch (CPU, oneDNN) + a fast BLAS (Debian's default one is the slow reference BLAS)
  libtorch-dev libopenblas0-pthread
  # oneDNN's headers (the library libtorch-dev already links): blocked render steps
  libdnnl-dev
  # ONNX protobufs, image I/O, CLI, JSON, HTTP (+TLS for `featvis fetch`)
  libonnx-dev libprotobuf-dev protobuf-compiler libstb-dev libwebp-dev libtiff-dev libjpeg62-turbo-dev libcli11-dev nlohmann-json3-dev
  libcpp-httplib-dev libssl-dev
  # tests and benchmarks
  libgtest-dev libgmock-dev libbenchmark-dev
  # PyTorch reference for parity fixtures and the eager baseline
  python3 python3-torch python3-torchvision python3-numpy python3-onnx
  # the Python module (python/), its pytest suite, progress bars (tqdm), images in (PIL),
  # and the quickstart notebook run by CTest
  pybind11-dev python3-dev python3-pytest python3-tqdm python3-pil jupyter-nbconvert python3-ipykernel
  # the Microscope's browser test: headless Chromium driven from node (tests/browser);
  # nodejs and npm are installed below unless a node with npm is already present
  chromium chromium-driver
  # sharded Microscope builds: a real one-node SLURM cluster started by a test
  slurmctld slurmd slurm-client munge
  # real training data for `featvis timeline` and `featvis probe` (IDX files, gzip)
  dataset-fashion-mnist
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# Debian's npm conflicts with a NodeSource nodejs (which bundles npm): install only if absent.
if ! command -v npm >/dev/null; then
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends nodejs npm >/dev/null
fi
# playwright-core for the browser test (drives Debian's chromium; downloads no browser).
(cd tests/browser && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)

if [ "${1:-}" = "--bench" ]; then
  (cd bench && npm ci --ignore-scripts --no-audit --no-fund >/dev/null)
fi
echo "setup: all packages present"
