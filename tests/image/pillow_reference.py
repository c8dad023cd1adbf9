#!/usr/bin/env python3
"""Pillow's (and torchvision's) answers for tests/image/pil_resize_test.cpp.

usage: pillow_reference.py CASES.json

Each case writes its result as a float32 .npy of [H, W, 3] levels to case["out"]:
  {"in": X.npy, "size": [w, h], "box": [l, t, r, b] or null}   Image.resize(BILINEAR, box)
  {"photo": P, "pipeline": "resize_crop", "resize": 256, "crop": [h, w]}
                                  torchvision Resize(256) + CenterCrop on the decoded photo
  {"photo": P, "pipeline": "central", "fraction": 0.875, "size": [w, h]}
                                  the centred square of fraction x the shorter side, as a box
"""
import json
import sys

import numpy as np
from PIL import Image


def save(path, image):
    np.save(path, np.asarray(image, dtype=np.uint8).astype(np.float32))


def main():
    for case in json.load(open(sys.argv[1])):
        if "in" in case:
            pixels = np.load(case["in"]).astype(np.uint8)
            box = tuple(case["box"]) if case.get("box") else None
            save(case["out"], Image.fromarray(pixels, "RGB").resize(tuple(case["size"]), Image.BILINEAR, box=box))
            continue
        photo = Image.open(case["photo"]).convert("RGB")
        if case["pipeline"] == "resize_crop":
            import torchvision.transforms as T
            pipeline = T.Compose([T.Resize(case["resize"], interpolation=T.InterpolationMode.BILINEAR),
                                  T.CenterCrop(case["crop"])])
            save(case["out"], pipeline(photo))
        else:
            w, h = photo.size
            side = case["fraction"] * min(w, h)
            left, top = (w - side) / 2, (h - side) / 2
            save(case["out"], photo.resize(tuple(case["size"]), Image.BILINEAR, box=(left, top, left + side, top + side)))


if __name__ == "__main__":
    main()
