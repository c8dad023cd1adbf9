#!/usr/bin/env bash
# Gathers, on this machine, what a lent GPU machine (which reaches no network) needs to
# build featvis against its CUDA PyTorch and run issue 10's GPU measurements: the Debian
# packages of featvis' other libraries (headers and their shared libraries, not the C
# library or the compiler's, which that machine has), the default model and a few labelled
# photos, all in .device/ (ignored by git; carry it). Then, in one `device run` call with
# carry [".device"]:
#   bash scripts/cuda_check.sh .device/debs .device/models .device/images $OUT/check &&
#     FEATVIS_MODEL_PATH=.device/models bash bench/gpu_render_bench.sh build-cuda $OUT/bench
#
#   bash scripts/gpu_prepare.sh [PHOTOS]        (PHOTOS: how many sample photos, default 64)
set -euo pipefail
cd "$(dirname "$0")/.."
photos="${1:-64}"
shared=../shared
[[ -f $shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx ]] || { echo "gpu_prepare.sh: $shared/models missing" >&2; exit 1; }
rm -rf .device
mkdir -p .device/debs .device/models .device/images

# featvis' -dev packages (scripts/setup.sh) but LibTorch, oneDNN (the CUDA build runs without
# it), the test and benchmark tools, and what they depend on, less the base system.
dev=(libonnx-dev libprotobuf-dev nlohmann-json3-dev libcli11-dev libssl-dev libtiff-dev libjpeg62-turbo-dev
     libwebp-dev libstb-dev libcpp-httplib-dev zlib1g-dev)
base='^(gcc-[0-9]+-base|libc6|libc6-dev|libc-dev-bin|libcrypt1|libcrypt-dev|libgcc-s1|libstdc\+\+6|linux-libc-dev|libcom-err2|libgssapi-krb5-2|libk5crypto3|libkeyutils1|libkrb5-3|libkrb5support0|libnsl2|libnsl-dev|libtirpc.*|rpcsvc-proto)$'
mapfile -t packages < <(apt-cache depends --recurse --no-recommends --no-suggests --no-conflicts --no-breaks \
  --no-replaces --no-enhances --no-pre-depends "${dev[@]}" | grep -v '^[ <]' | sort -u | grep -Ev "$base")
(cd .device/debs && apt-get download "${packages[@]}" > /dev/null)

cp $shared/models/mobilenet_v2_1.0_224_tf2_ptq_dequant.onnx $shared/models/imagenet_labels.txt \
  $shared/models/imagenet_wnids.txt .device/models/
cp cards/mobilenet_v2.card.json .device/models/
find $shared/images/imagenet-samples -name '*.JPEG' | sort | head -n "$photos" | xargs cp -t .device/images/
echo "gpu_prepare.sh: ${#packages[@]} packages, $(ls .device/images | wc -l) photos; .device is $(du -sh .device | cut -f1)"
