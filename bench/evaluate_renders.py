#!/usr/bin/env python3
"""Quality score of feature visualizations: do class renders show the class to *another* network?

For CLASSES ImageNet classes spread over the label list, renders the logit of each on the
source model (MobileNetV2) with each parameterization -- pixel (naive), FFT in plain RGB,
Lucid's FFT + decorrelated colour, MACO and CPPN -- with the same steps and seed, then
classifies every picture with the judge models (MobileNetV1, Tiny Darknet) and reports
the top-1 and top-5 hit rates per method and judge, a Markdown table and a contact sheet
of a few classes per method.

    /usr/bin/python3 bench/evaluate_renders.py --cli build/featvis --out eval-renders
        [--classes 50] [--steps 128] [--size 160] [--batch 10]

Everything goes through the `featvis` CLI (render, spectrum, classify), so it measures what
users get. Resumable: a method's batch whose final PNGs exist is not rendered again.
"""
import argparse
import json
import os
import pathlib
import subprocess
import sys
import time

SAMPLES = pathlib.Path(__file__).resolve().parents[1] / ".." / "shared" / "images" / "imagenet-samples"


def methods(size, spectrum):
    """name -> (description, featvis render flags). The network sees `size` px in every method."""
    return {
        "naive": ("pixels, plain RGB, no transforms (--preset naive)", ["--preset", "naive", "--size", str(size)]),
        "fft": ("FFT, plain RGB, standard transforms", ["--no-decorrelate", "--size", str(size)]),
        "lucid": ("FFT + decorrelated colour, standard transforms (the default)", ["--size", str(size)]),
        "maco": ("MACO: phase only, 2x canvas, random crops to the input size",
                 ["--param", "maco", "--spectrum", spectrum, "--size", str(2 * size),
                  "--transforms", f"crop(0.35,0.65,{size}),jitter(4)"]),
        "cppn": ("CPPN (Lucid's), standard transforms", ["--param", "cppn", "--size", str(size)]),
    }


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cli", default="build/featvis")
    p.add_argument("--out", default="eval-renders")
    p.add_argument("--model", default="mobilenet_v2")
    p.add_argument("--judges", default="mobilenet_v1,darknet_tiny")
    p.add_argument("--classes", type=int, default=50)
    p.add_argument("--steps", type=int, default=128)
    p.add_argument("--size", type=int, default=160)
    p.add_argument("--batch", type=int, default=10)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--only", default="", help="comma-separated methods (default: all)")
    a = p.parse_args()
    out = pathlib.Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    env = dict(os.environ)

    # Classes spread over the label list: 10, 30, ..., every 1000/classes-th.
    stride = 1000 // a.classes
    classes = [stride // 2 + i * stride for i in range(a.classes)]

    spectrum = out / f"{a.model}.spectrum.npy"
    if not spectrum.exists():
        print(f"spectrum of {SAMPLES} ...", flush=True)
        run([a.cli, "spectrum", a.model, "--images", str(SAMPLES), "--out", str(spectrum), "-q"])

    table, pictures = {}, {}
    chosen = methods(a.size, str(spectrum))
    if a.only:
        chosen = {k: v for k, v in chosen.items() if k in a.only.split(",")}
    timings = {}
    for name, (description, flags) in chosen.items():
        mdir = out / name
        t0 = time.time()
        for b in range(0, len(classes), a.batch):
            part = classes[b:b + a.batch]
            bdir = mdir / f"batch{b // a.batch:02d}"
            if all((bdir / f"final_{i}.png").exists() for i in range(len(part))):
                continue
            objective = " | ".join(f"logit:{k}" for k in part)
            print(f"{name}: classes {part[0]}..{part[-1]}", flush=True)
            run([a.cli, "render", a.model, objective, "--batch", str(len(part)), "--steps", str(a.steps),
                 "--seed", str(a.seed), "--out", str(bdir), "-q", *flags], env=env)
        timings[name] = time.time() - t0
        images = []
        for b in range(0, len(classes), a.batch):
            part = classes[b:b + a.batch]
            images += [(k, mdir / f"batch{b // a.batch:02d}" / f"final_{i}.png") for i, k in enumerate(part)]
        table[name] = {"description": description, "judges": {}}
        pictures[name] = [path for _, path in images]
        for judge in a.judges.split(","):
            got = json.loads(run([a.cli, "classify", judge, *[str(p) for _, p in images], "--top", "5", "--json"]).stdout)
            top1 = top5 = 0
            for (k, _), r in zip(images, got["results"]):
                indices = [t["index"] for t in r["top"]]
                top1 += indices[0] == k
                top5 += k in indices
            table[name]["judges"][judge] = {"top1": top1 / len(images), "top5": top5 / len(images)}
        print(name, json.dumps(table[name]["judges"]), flush=True)

    result = {"model": a.model, "classes": classes, "steps": a.steps, "size": a.size, "seed": a.seed,
              "methods": table, "render_seconds": timings}
    (out / "quality.json").write_text(json.dumps(result, indent=2) + "\n")
    judges = a.judges.split(",")
    lines = ["| method | " + " | ".join(f"{j} top-1 | {j} top-5" for j in judges) + " |",
             "|---|" + "---:|" * (2 * len(judges))]
    for name, row in table.items():
        cells = []
        for j in judges:
            cells += [f"{100 * row['judges'][j]['top1']:.0f} %", f"{100 * row['judges'][j]['top5']:.0f} %"]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    (out / "quality.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    try:  # a contact sheet: rows = methods, columns = the first 6 classes
        from PIL import Image
        cols, tile = min(6, len(classes)), 128
        sheet = Image.new("RGB", (cols * (tile + 4), len(table) * (tile + 4)), "white")
        for r, name in enumerate(table):
            for c in range(cols):
                im = Image.open(pictures[name][c]).convert("RGB").resize((tile, tile))
                sheet.paste(im, (c * (tile + 4), r * (tile + 4)))
        sheet.save(out / "quality_sheet.jpg", quality=88)
    except ImportError:
        print("no PIL: no contact sheet", file=sys.stderr)


if __name__ == "__main__":
    main()
