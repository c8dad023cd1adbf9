#!/usr/bin/python3
"""Markdown table from the JSON that run_forward_bench.sh collects.

  summarize_forward_bench.py RUN_DIR ROUNDS

RUN_DIR holds featvis.<r>.json (Google Benchmark, median aggregates), eager.<r>.json and
ort.<r>.json for r = 1..ROUNDS, plus parity.json. Each tool's figure per round is the
median of its repetitions; with several rounds the table shows the median over rounds.
"""
import json
import re
import statistics
import sys


def featvis_round(path):
    data = json.load(open(path))
    fwd, grad, eager = {}, {}, {}
    for b in data["benchmarks"]:
        if b.get("run_type") == "aggregate" and b.get("aggregate_name") != "median":
            continue
        m = re.match(r"(forward|forward_grad|forward_eager)/batch:(\d+)", b["name"])
        if not m:
            continue
        scale = {"ns": 1e-9, "us": 1e-6, "ms": 1e-3, "s": 1.0}[b["time_unit"]]
        seconds = b["real_time"] * scale
        batch = int(m.group(2))
        {"forward": fwd, "forward_grad": grad, "forward_eager": eager}[m.group(1)][batch] = seconds
    return fwd, grad, data.get("context", {}), eager


def python_round(path):
    data = json.load(open(path))
    fwd = {r["batch"]: r["seconds_per_iter"] for r in data.get("forward", [])}
    grad = {r["batch"]: r["seconds_per_iter"] for r in data.get("forward_grad", [])}
    return fwd, grad, data


def median_over(rounds, batch):
    values = [r[batch] for r in rounds if batch in r]
    return statistics.median(values) if values else None


def main():
    run_dir, rounds = sys.argv[1], int(sys.argv[2])
    fv = [featvis_round(f"{run_dir}/featvis.{r}.json") for r in range(1, rounds + 1)]
    eg = [python_round(f"{run_dir}/eager.{r}.json") for r in range(1, rounds + 1)]
    ox = [python_round(f"{run_dir}/ort.{r}.json") for r in range(1, rounds + 1)]
    threads = fv[0][2].get("featvis_threads")
    eager_meta, ort_meta = eg[0][2], ox[0][2]

    def ips(seconds, batch):
        return batch / seconds if seconds else None

    def fmt(v, digits=1):
        return "n/a" if v is None else f"{v:.{digits}f}"

    print(f"Threads: featvis {threads}, PyTorch eager {eager_meta.get('threads')} "
          f"(torch {eager_meta.get('torch')}), ONNX Runtime {ort_meta.get('threads')} "
          f"(onnxruntime-node {ort_meta.get('version')}); rounds: {rounds}\n")
    print("Forward (classify), images/s, higher is better:\n")
    print("| batch | featvis | featvis, Graph::run | PyTorch eager | ONNX Runtime | featvis / eager "
          "| featvis / ORT | featvis / Graph::run |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    batches = sorted(set().union(*[set(r[0]) for r in fv]))
    for b in batches:
        f = ips(median_over([r[0] for r in fv], b), b)
        e = ips(median_over([r[0] for r in eg], b), b)
        o = ips(median_over([r[0] for r in ox], b), b)
        u = ips(median_over([r[3] for r in fv], b), b)
        print(f"| {b} | {fmt(f)} | {fmt(u)} | {fmt(e)} | {fmt(o)} | "
              f"{fmt(f / e if f and e else None, 2)} | {fmt(f / o if f and o else None, 2)} | "
              f"{fmt(f / u if f and u else None, 2)} |")
    print("\nForward + input gradient, ms per image, lower is better:\n")
    print("| batch | featvis | PyTorch eager | eager / featvis |")
    print("|---:|---:|---:|---:|")
    for b in sorted(set().union(*[set(r[1]) for r in fv])):
        f = median_over([r[1] for r in fv], b)
        e = median_over([r[1] for r in eg], b)
        fm = f * 1000 / b if f else None
        em = e * 1000 / b if e else None
        print(f"| {b} | {fmt(fm, 2)} | {fmt(em, 2)} | {fmt(em / fm if fm and em else None, 2)} |")
    try:
        parity = json.load(open(f"{run_dir}/parity.json"))
        print("\nSame logits (reference: PyTorch eager, same random batch of "
              f"{parity.get('batch', '?')} in [-1, 1]):\n")
        for path, r in parity["compared"].items():
            name = path.rsplit("/", 1)[-1].split("_logits")[0]
            print(f"- {name}: max |logit diff| = {r['max_abs_diff']:.2e}, "
                  f"top-1 agrees: {'yes' if r['top1_agree'] else 'NO'}")
    except FileNotFoundError:
        pass


if __name__ == "__main__":
    main()
