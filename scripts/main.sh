#!/usr/bin/env bash
# The main job: build featvis and show it working on the default model.
set -euo pipefail
cd "$(dirname "$0")/.."
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release >/dev/null
ninja -C build featvis
./build/featvis models
./build/featvis layers mobilenet_v2 --card
photo=../shared/images/imagenet-samples/n01440764_tench.JPEG
./build/featvis classify mobilenet_v2 "$photo" ../shared/images/imagenet-samples/n02123045_tabby.JPEG
