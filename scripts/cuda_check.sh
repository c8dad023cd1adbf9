#!/usr/bin/env bash
# Proves the CUDA path on a GPU machine that has a CUDA PyTorch (pip) but none of the
# Debian -dev packages: builds featvis against the pip wheel's LibTorch, with the other
# libraries unpacked from Debian .debs into a private prefix, then checks that CPU and
# CUDA agree on logits and that accuracy on a labelled folder matches.
# Usage: scripts/cuda_check.sh DEBS_DIR MODELS_DIR IMAGES_DIR OUT_DIR
set -euo pipefail
debs=$1 models=$2 images=$3 out=$4
prefix=$PWD/build-cuda-prefix
mkdir -p "$prefix" "$out"
for f in "$debs"/*.deb; do dpkg -x "$f" "$prefix"; done
# Absolute links in the packages (libz.so -> /lib/.../libz.so.1.2.13) would reach this
# machine's own, other versions: point them at the prefix's copies.
find "$prefix" -type l | while read -r link; do
  target=$(readlink "$link")
  if [[ $target == /* && -e $prefix$target ]]; then ln -sfn "$prefix$target" "$link"; fi
done
torch_dir=$(python3 -c "import torch, os; print(os.path.dirname(torch.__file__))")
python3 -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
lib=$prefix/usr/lib/x86_64-linux-gnu
# libwebp is found through pkg-config: its .pc files from the prefix, their paths under it.
export PKG_CONFIG_LIBDIR="$lib/pkgconfig:$prefix/usr/share/pkgconfig" PKG_CONFIG_SYSROOT_DIR="$prefix"
configure_and_build() {  # $1: C++ standard
  cmake -S . -B build-cuda -G Ninja -DCMAKE_BUILD_TYPE=Release -DFEATVIS_BUILD_TESTS=OFF -DFEATVIS_BUILD_BENCH=OFF -DFEATVIS_ONEDNN=OFF \
    -DCMAKE_CXX_STANDARD="$1" \
    -DCMAKE_PREFIX_PATH="$torch_dir/share/cmake;$prefix/usr;$lib/cmake;$prefix/usr/share/cmake" \
    -DCMAKE_INCLUDE_PATH="$prefix/usr/include" -DCMAKE_LIBRARY_PATH="$lib" \
    -DCMAKE_EXE_LINKER_FLAGS="-Wl,--no-as-needed -Wl,-rpath-link,$lib" \
    -DProtobuf_INCLUDE_DIR="$prefix/usr/include" -DProtobuf_LIBRARY="$lib/libprotobuf.so" -DProtobuf_LIBRARY_RELEASE="$lib/libprotobuf.so" \
    -DOPENSSL_ROOT_DIR="$prefix/usr" > "$out/cmake.log" 2>&1 || { tail -40 "$out/cmake.log"; return 1; }
  ninja -C build-cuda featvis > "$out/build-cxx$1.log" 2>&1 || { grep -E "error" "$out/build-cxx$1.log" | head -20; return 1; }
}
configure_and_build 17 || { echo "C++17 build failed; trying C++20"; rm -rf build-cuda; configure_and_build 20; }
export LD_LIBRARY_PATH="$lib:$torch_dir/lib:${LD_LIBRARY_PATH:-}"
export FEATVIS_MODEL_PATH=$models
photos=$(ls "$images"/*.JPEG | head -8)
for dev in cpu cuda; do
  ./build-cuda/featvis classify mobilenet_v2 $photos --json --device $dev > "$out/classify_$dev.json"
  ./build-cuda/featvis eval mobilenet_v2 --images "$images" --json --quiet --device $dev > "$out/eval_$dev.json"
done
python3 - "$out" <<'PY'
import json, sys
out = sys.argv[1]
c = json.load(open(f"{out}/classify_cpu.json")); g = json.load(open(f"{out}/classify_cuda.json"))
worst = 0.0
for a, b in zip(c["results"], g["results"]):
    assert [t["index"] for t in a["top"]] == [t["index"] for t in b["top"]], (a, b)
    worst = max(worst, max(abs(x["logit"] - y["logit"]) for x, y in zip(a["top"], b["top"])))
ec = json.load(open(f"{out}/eval_cpu.json")); eg = json.load(open(f"{out}/eval_cuda.json"))
print(f"top-k classes identical on {len(c['results'])} photos; max |logit cpu - cuda| = {worst:.2e}")
for name, e in (("cpu", ec), ("cuda", eg)):
    print(f"eval {name}: {e['images']} images top-1 {e['top1']:.1f}% top-5 {e['top5']:.1f}% {e['images_per_second']:.1f} images/s")
assert abs(ec["top1"] - eg["top1"]) <= 0.5 and worst < 1e-3
print("CUDA path OK")
PY
