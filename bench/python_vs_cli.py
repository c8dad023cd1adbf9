#!/usr/bin/env python3
"""The Python module against the CLI on the same work: render and attribution time.

Each measurement is a fresh process (a cold start for both, so neither gets warmed-up
caches the other lacks): `featvis render|attribute ... --json` reports the time of its
work (timing.total_ms), and a Python worker (this file with --worker) loads the model
and times the featvis.render / featvis.attribute call as a notebook user waits for it
(objective, image loading, the work, numpy results and the overlay). Rounds interleave
CLI and Python; the medians are compared.

    OMP_NUM_THREADS=1 PYTHONPATH=build/python /usr/bin/python3 bench/python_vs_cli.py \
        --cli build/featvis --rounds 5

Prints a markdown table (docs/PERFORMANCE.md).
"""
import argparse
import json
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
PHOTO = ROOT / ".." / "shared" / "images" / "imagenet-samples" / "n01530575_brambling.JPEG"

# name: (CLI arguments after the model, featvis call as Python source)
CASES = {
    "render 64 steps, 224x224, expanded_conv_8/expand:7": (
        ["render", "mobilenet_v2", "expanded_conv_8/expand:7", "--steps", "64", "--seed", "0"],
        "featvis.render(model, 'expanded_conv_8/expand:7', steps=64, seed=0, progress=False)",
    ),
    "render 8 steps, batch 8 (channels 0-7), 224x224": (
        ["render", "mobilenet_v2", "expanded_conv_8/expand:0-7", "--steps", "8", "--seed", "0"],
        "featvis.render(model, 'expanded_conv_8/expand:0-7', steps=8, seed=0, progress=False)",
    ),
    "attribute ig 64 steps, logit:0": (
        ["attribute", "mobilenet_v2", str(PHOTO), "--method", "ig", "--steps", "64", "--target", "logit:0"],
        f"featvis.attribute(model, {str(PHOTO)!r}, 'logit:0', method='ig', steps=64)",
    ),
    "attribute occlusion 16/8, logit:0": (
        ["attribute", "mobilenet_v2", str(PHOTO), "--method", "occlusion", "--target", "logit:0"],
        f"featvis.attribute(model, {str(PHOTO)!r}, 'logit:0', method='occlusion')",
    ),
}


def worker(call):
    import featvis  # noqa: F401 (used by the call)

    model = featvis.Model("mobilenet_v2")
    start = time.perf_counter()
    eval(call, {"featvis": featvis, "model": model})
    print(json.dumps({"ms": 1000 * (time.perf_counter() - start)}))


def cli_ms(cli, args, threads, out):
    extra = ["--out", str(out / ("r" if args[0] == "render" else "a.png")), "--json", "--threads", str(threads)]
    result = subprocess.run([cli, *args, *extra], check=True, capture_output=True, text=True)
    return json.loads(result.stdout)["timing"]["total_ms"]


def python_ms(call):
    result = subprocess.run([sys.executable, __file__, "--worker", call], check=True, capture_output=True, text=True)
    return json.loads(result.stdout.strip().splitlines()[-1])["ms"]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--cli", default=str(ROOT / "build" / "featvis"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        return worker(args.worker)
    threads = int(os.environ.get("OMP_NUM_THREADS", "1"))
    os.environ["OMP_NUM_THREADS"] = str(threads)
    print(f"load before: {open('/proc/loadavg').read().split()[:3]}, threads {threads}", file=sys.stderr)
    times = {name: {"cli": [], "python": []} for name in CASES}
    with tempfile.TemporaryDirectory() as tmp:
        for round_ in range(args.rounds):
            for name, (cli_args, call) in CASES.items():
                times[name]["cli"].append(cli_ms(args.cli, cli_args, threads, pathlib.Path(tmp)))
                times[name]["python"].append(python_ms(call))
            print(f"round {round_ + 1}/{args.rounds} done", file=sys.stderr)
    print(f"load after: {open('/proc/loadavg').read().split()[:3]}", file=sys.stderr)
    print(f"| work ({threads} thread{'s' if threads > 1 else ''}, median of {args.rounds}) | CLI ms | Python ms | Python / CLI |")
    print("|---|---:|---:|---:|")
    for name, t in times.items():
        cli, py = statistics.median(t["cli"]), statistics.median(t["python"])
        spread = lambda xs: f"{min(xs):.0f}-{max(xs):.0f}"
        print(f"| {name} | {cli:.0f} ({spread(t['cli'])}) | {py:.0f} ({spread(t['python'])}) | {py / cli:.3f} |")


if __name__ == "__main__":
    main()
