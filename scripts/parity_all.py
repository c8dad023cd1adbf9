#!/usr/bin/python3
"""Parity of every torchvision classifier (make_parity_fixtures.py --all), one at a time.

For each name (smallest model first, the giants last): make its fixture in a scratch
folder outside the repository, run only featvis's parity check on it (the parity test
binary with $FEATVIS_PARITY_DIR pointing there), append one line to the results file,
then delete the model's files (a failure's files are kept under SCRATCH/failed/NAME, so a
fixed featvis can be checked again without exporting again). Resumable: a name already in
the results file is skipped; --retry-failed runs the names whose last line is not a pass.

    nice -n 19 /usr/bin/python3 scripts/parity_all.py --scratch /work/scratch/tvall-fixtures \\
        --results /work/scratch/tvall-parity.tsv &
    /usr/bin/python3 scripts/parity_all.py --results /work/scratch/tvall-parity.tsv --table

Run with Debian's /usr/bin/python3 (torch, torchvision). The fixtures are PyTorch at one
thread and the check runs at OMP_NUM_THREADS=1, where the gradient is held to 1e-4 too.
"""
import argparse
import csv
import importlib.util
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
FIELDS = ["name", "opset", "status", "logits", "layer_a", "layer_b", "grad", "export_s", "check_s",
          "export_peak_mb", "check_peak_mb", "onnx_mb", "error"]
# Models whose export needs more than this many bytes per parameter free before it starts:
# the module, its traced copy and the serialized protobuf each hold the weights, plus the
# float64-free activations of a batch of 2 (measured peak: see docs/notes/NOTES-tvall.md).
BYTES_PER_PARAM = 24
MARGIN = 2 << 30


def fixture_script():
    """make_parity_fixtures.py as a module: its name list and settings (it sets
    OMP_NUM_THREADS=1 before torch loads, which the child processes inherit)."""
    spec = importlib.util.spec_from_file_location("make_parity_fixtures", os.path.join(HERE, "make_parity_fixtures.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def parameter_count(fixtures, name):
    """Parameters of the torchvision model (from its weights' metadata: nothing is built)."""
    import torchvision
    arch = fixtures.source(name)[0]
    try:
        return next(iter(torchvision.models.get_model_weights(arch))).meta["num_params"]
    except (ValueError, KeyError, StopIteration):
        return 0  # vit_tiny: not a torchvision model


def mem_available():
    with open("/proc/meminfo") as f:
        for line in f:
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    return 0


def read_results(path):
    last = {}
    if os.path.isfile(path):
        with open(path, newline="") as f:
            for row in csv.DictReader(f, delimiter="\t"):
                last[row["name"]] = row
    return last


def append_result(path, row):
    new = not os.path.isfile(path)
    with open(path, "a", newline="") as f:
        w = csv.DictWriter(f, FIELDS, delimiter="\t", extrasaction="ignore")
        if new:
            w.writeheader()
        w.writerow({k: row.get(k, "") for k in FIELDS})


CHILD = None  # the running export or check (its own process group), for SIGTERM


def stop(signum, frame):
    if CHILD is not None and CHILD.poll() is None:
        os.killpg(CHILD.pid, signal.SIGTERM)
    sys.exit(f"parity_all.py: stopped by signal {signum}")


def timed(cmd, env, timeout, log):
    """Runs cmd at nice 19 under /usr/bin/time, in its own process group (a timeout stops
    the whole tree); returns (rc, seconds, peak MB, output)."""
    global CHILD
    peak_file = log + ".peak"
    t0 = time.time()
    with open(log, "w") as out:
        CHILD = subprocess.Popen(["nice", "-n", "19", "/usr/bin/time", "-f", "%M", "-o", peak_file] + cmd,
                                 env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            rc = CHILD.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(CHILD.pid, signal.SIGKILL)
            CHILD.wait()
            rc = "timeout"
    seconds = round(time.time() - t0, 1)
    try:
        with open(peak_file) as f:
            peak = int(f.read().split()[-1]) // 1024
    except (OSError, ValueError, IndexError):
        peak = ""
    with open(log, errors="replace") as f:
        return rc, seconds, peak, f.read()


def last_error_line(output):
    """The line that says what went wrong: featvis's exception, or Python's last line."""
    m = re.search(r'C\+\+ exception with description "(.*?)" thrown', output)
    if m:
        return m.group(1)
    m = re.search(r"^.*(differs from PyTorch by .*)$", output, re.M)
    if m:
        return m.group(0).strip()
    lines = [l.strip() for l in output.splitlines() if l.strip() and not l.startswith(("  ", "Command exited"))]
    return lines[-1][:300] if lines else ""


def run_one(name, fixtures, args, env):
    work = os.path.join(args.scratch, "work")
    kept = os.path.join(args.scratch, "failed", name)
    os.makedirs(work, exist_ok=True)
    for f in os.listdir(work):
        os.remove(os.path.join(work, f))
    if os.path.isdir(kept):  # a retry: the export is still good if the script is unchanged
        for f in os.listdir(kept):
            shutil.move(os.path.join(kept, f), work)
        os.rmdir(kept)
    row = {"name": name, "opset": fixtures.source(name)[1]}

    rc, row["export_s"], row["export_peak_mb"], out = timed(
        ["/usr/bin/python3", os.path.join(HERE, "make_parity_fixtures.py"), "--out", work, "--only", name],
        env, args.export_timeout, os.path.join(args.scratch, name + ".export.log"))
    if rc != 0 or not os.path.isfile(os.path.join(work, name + ".json")):
        row.update(status="export-timeout" if rc == "timeout" else "export-failed", error=last_error_line(out))
        return row, work, kept
    row["onnx_mb"] = round(sum(os.path.getsize(os.path.join(work, f)) for f in os.listdir(work)
                               if not f.endswith(".npy") and not f.endswith(".json")) / 2**20)

    # The driver may start while the test binary is still being built: wait for a finished link.
    while not os.path.isfile(args.tests_binary) or time.time() - os.path.getmtime(args.tests_binary) < 60:
        time.sleep(30)
    in_ci = name in fixtures.ARCHITECTURES
    test_filter = f"parity/Torchvision.MatchesPyTorch/{name}" if in_ci else "TorchvisionAll.EveryOptInFixtureMatchesPyTorch"
    check_env = dict(env, FEATVIS_PARITY_DIR=work, OMP_NUM_THREADS="1")
    rc, row["check_s"], row["check_peak_mb"], out = timed(
        [args.tests_binary, f"--gtest_filter={test_filter}"], check_env, args.check_timeout,
        os.path.join(args.scratch, name + ".check.log"))
    m = re.search(r"\[parity\] (\S+)\s+logits (\S+)\s+layer_a (\S+)\s+layer_b (\S+)\s+grad (\S+)", out)
    if m:
        row.update(logits=m.group(2), layer_a=m.group(3), layer_b=m.group(4), grad=m.group(5))
    if rc == 0 and m and "[  PASSED  ] 1 test" in out:
        row["status"] = "pass"
    else:
        row["status"] = "check-timeout" if rc == "timeout" else "fail"
        row["error"] = last_error_line(out)
    return row, work, kept


def table(results, fixtures):
    """Markdown: one row per architecture, opset 13 and 17 side by side."""
    archs = []
    for name in results:
        arch = fixtures.source(name)[0]
        if arch not in archs:
            archs.append(arch)
    def cell(row):
        if row is None:
            return "not run", "", ""
        ok = "pass" if row["status"] == "pass" else row["status"]
        return ok, row["logits"], row["grad"]
    print("| architecture | opset 13 | opset 17 | logits (13 / 17) | input gradient (13 / 17) |")
    print("|---|---|---|---|---|")
    for arch in archs:
        a = cell(results.get(arch))
        b = cell(results.get(arch + f"_opset{fixtures.NEWEST_OPSET}"))
        print(f"| {arch} | {a[0]} | {b[0]} | {a[1] or '-'} / {b[1] or '-'} | {a[2] or '-'} / {b[2] or '-'} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scratch", default="/work/scratch/tvall-fixtures", help="fixture folder (outside the repo)")
    parser.add_argument("--results", default="/work/scratch/tvall-parity.tsv", help="results file (TSV, appended)")
    parser.add_argument("--tests-binary", default=os.path.join(HERE, "..", "build", "tests", "parity_tests"))
    parser.add_argument("--only", nargs="*", help="these names only (in this order)")
    parser.add_argument("--first", nargs="*", default=[], help="these names before the rest")
    parser.add_argument("--retry-failed", action="store_true", help="also run names whose last result is not a pass")
    parser.add_argument("--export-timeout", type=int, default=5400)
    parser.add_argument("--check-timeout", type=int, default=3600)
    parser.add_argument("--table", action="store_true", help="print the results as a markdown table and stop")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, stop)
    fixtures = fixture_script()
    results = read_results(args.results)
    if args.table:
        table(results, fixtures)
        return
    if not os.path.isdir(os.path.dirname(args.tests_binary)):
        sys.exit(f"parity_all.py: no build folder for '{args.tests_binary}' (ninja -C build parity_tests)")
    os.makedirs(args.scratch, exist_ok=True)

    names = args.only or sorted(list(fixtures.ARCHITECTURES) +
                                [n for n in fixtures.all_architectures() if n not in fixtures.ARCHITECTURES],
                                key=lambda n: (parameter_count(fixtures, n), n))
    names = args.first + [n for n in names if n not in args.first]
    env = dict(os.environ)
    for name in names:
        done = results.get(name)
        if done and (done["status"] == "pass" or not args.retry_failed) and not args.only:
            continue
        need = parameter_count(fixtures, name) * BYTES_PER_PARAM + MARGIN
        waited = 0
        while mem_available() < need and waited < 1800:  # the giants wait for memory, one at a time
            time.sleep(60)
            waited += 60
        if mem_available() < need:
            row = {"name": name, "opset": fixtures.source(name)[1], "status": "skipped-memory",
                   "error": f"needs ~{need >> 30} GiB free, {mem_available() >> 30} GiB available"}
            work = kept = None
        else:
            print(f"{time.strftime('%H:%M:%S')} {name} ...", flush=True)
            row, work, kept = run_one(name, fixtures, args, env)
        append_result(args.results, row)
        results[name] = row
        print(f"{time.strftime('%H:%M:%S')} {name}: {row['status']} logits {row.get('logits', '-')} "
              f"grad {row.get('grad', '-')} export {float(row.get('export_s') or 0):.0f} s "
              f"check {float(row.get('check_s') or 0):.0f} s {row.get('error', '')}", flush=True)
        if work:
            if row["status"] == "pass":
                shutil.rmtree(work)
            elif row["status"] not in ("export-failed", "export-timeout"):
                os.makedirs(os.path.dirname(kept), exist_ok=True)
                shutil.move(work, kept)  # kept for a retry after a featvis fix
            else:
                shutil.rmtree(work)


if __name__ == "__main__":
    main()
