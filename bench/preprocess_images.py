#!/usr/bin/env python3
"""Writes the photos of a folder, preprocessed like the mobilenet_v2 card (shorter side
256, centre crop 224, x/127.5 - 1, RGB, NCHW), as one raw float32 file in the order of
`featvis examples` (sorted relative paths), for the ONNX Runtime baseline of
bench/examples_bench.sh.

    /usr/bin/python3 bench/preprocess_images.py IMAGES_DIR OUT.f32
"""
import os
import sys

import numpy as np
from PIL import Image


def main():
    root, out = sys.argv[1], sys.argv[2]
    paths = []
    for d, _, files in os.walk(root, followlinks=True):
        for f in files:
            if f.lower().endswith((".jpg", ".jpeg", ".png")):
                paths.append(os.path.relpath(os.path.join(d, f), root))
    paths.sort()
    with open(out, "wb") as f:
        for p in paths:
            img = Image.open(os.path.join(root, p)).convert("RGB")
            w, h = img.size
            s = 256 / min(w, h)
            img = img.resize((max(224, int(w * s)) if w > h else 256, max(224, int(h * s)) if h > w else 256),
                             Image.BILINEAR)
            w, h = img.size
            left, top = round((w - 224) / 2), round((h - 224) / 2)
            x = np.asarray(img.crop((left, top, left + 224, top + 224)), dtype=np.float32) / 127.5 - 1
            f.write(np.ascontiguousarray(x.transpose(2, 0, 1)).tobytes())
    print(f"{len(paths)} images -> {out}", file=sys.stderr)


if __name__ == "__main__":
    main()
