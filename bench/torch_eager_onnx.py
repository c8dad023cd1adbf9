#!/usr/bin/python3
"""PyTorch-eager baseline for featvis_bench_forward.

Runs the same ONNX graph node by node with torch.nn.functional (the ops MobileNet-style
classifiers use: Conv, Clip, Relu, LeakyRelu, Add, MaxPool, AveragePool,
GlobalAveragePool, Flatten, Reshape, Slice, Gemm, Softmax), with the same thread count,
and measures what featvis_bench_forward measures:

  forward/batch:{1,8,32}       under torch.inference_mode()            -> images/s
  forward_grad/batch:{1,8}     input.requires_grad, backward of
                               logits[:, k].sum()                       -> ms per image

Every measurement: 2 warm-up runs, then --repetitions repetitions, each timing as many
runs as fit in --min-time seconds (at least one); the median repetition is reported.
Prints one JSON object on stdout.

Needs Debian's python3-torch and python3-onnx: run it with /usr/bin/python3.

  /usr/bin/python3 bench/torch_eager_onnx.py --model M.onnx --threads 2
  /usr/bin/python3 bench/torch_eager_onnx.py --model M.onnx --make-input IN.f32 --batch 2 \
      --dump-logits OUT.f32        # write a deterministic input and its logits (no timing)
  /usr/bin/python3 bench/torch_eager_onnx.py --compare A.f32 B.f32 ...   # max |diff| of logits
"""
import argparse
import json
import statistics
import sys
import time

import numpy as np


def load_graph(path):
    import onnx
    from onnx import numpy_helper
    import torch

    model = onnx.load(path)
    g = model.graph
    weights = {t.name: torch.from_numpy(numpy_helper.to_array(t).copy()) for t in g.initializer}
    inputs = [i for i in g.input if i.name not in weights]
    if len(inputs) != 1:
        raise SystemExit(f"{path}: expected one graph input, found {len(inputs)}")
    return model, weights, inputs[0], g.output[0].name


def attrs_of(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


class EagerOnnx:
    """The ONNX graph as a list of Python closures over torch.nn.functional calls.

    Attributes and constant inputs (clip bounds, slice starts/ends) are read once at load
    time, as a hand-written PyTorch module would have them."""

    def __init__(self, path):
        import torch
        import torch.nn.functional as F

        self.torch = torch
        model, self.weights, inp, self.output = load_graph(path)
        self.input_name = inp.name
        dims = [d.dim_value for d in inp.type.tensor_type.shape.dim]
        self.chw = [d if d > 0 else s for d, s in zip(dims[1:], (3, 224, 224))]
        W = self.weights

        def const_int_list(name):
            return [int(v) for v in W[name].reshape(-1).tolist()]

        self.steps = []
        for node in model.graph.node:
            a = attrs_of(node)
            op = node.op_type
            ins, outs = list(node.input), list(node.output)
            if op == "Conv":
                pads = a.get("pads", [0, 0, 0, 0])
                if a.get("auto_pad", b"NOTSET") not in (b"NOTSET", "NOTSET"):
                    raise SystemExit(f"{node.name}: auto_pad not supported by this executor")
                stride = a.get("strides", [1, 1])
                dil = a.get("dilations", [1, 1])
                groups = a.get("group", 1)
                w = W[ins[1]]
                b = W[ins[2]] if len(ins) > 2 and ins[2] else None
                symmetric = pads[0] == pads[2] and pads[1] == pads[3]
                if symmetric:
                    fn = (lambda w, b, s, p, d, g: lambda x: F.conv2d(x, w, b, s, p, d, g))(
                        w, b, stride, pads[:2], dil, groups)
                else:  # TF "SAME": pad (left, right, top, bottom) explicitly
                    tpad = [pads[1], pads[3], pads[0], pads[2]]
                    fn = (lambda w, b, s, d, g, tp: lambda x: F.conv2d(F.pad(x, tp), w, b, s, 0, d, g))(
                        w, b, stride, dil, groups, tpad)
            elif op == "Clip":
                lo = float(W[ins[1]]) if len(ins) > 1 and ins[1] else None
                hi = float(W[ins[2]]) if len(ins) > 2 and ins[2] else None
                if lo == 0.0 and hi == 6.0:
                    fn = F.relu6
                else:
                    fn = (lambda lo, hi: lambda x: torch.clamp(x, lo, hi))(lo, hi)
            elif op == "Relu":
                fn = F.relu
            elif op == "LeakyRelu":
                fn = (lambda s: lambda x: F.leaky_relu(x, s))(a.get("alpha", 0.01))
            elif op == "Add":
                fn = None  # binary, handled below
            elif op == "MaxPool" or op == "AveragePool":
                k, s = a["kernel_shape"], a.get("strides", [1, 1])
                pads = a.get("pads", [0, 0, 0, 0])
                if pads[0] != pads[2] or pads[1] != pads[3]:
                    raise SystemExit(f"{node.name}: asymmetric pool padding not supported here")
                if op == "MaxPool":
                    fn = (lambda k, s, p: lambda x: F.max_pool2d(x, k, s, p))(k, s, pads[:2])
                else:
                    cip = bool(a.get("count_include_pad", 0))
                    fn = (lambda k, s, p, c: lambda x: F.avg_pool2d(x, k, s, p, count_include_pad=c))(
                        k, s, pads[:2], cip)
            elif op == "GlobalAveragePool":
                fn = lambda x: x.mean((2, 3), keepdim=True)
            elif op == "Flatten":
                fn = (lambda ax: lambda x: torch.flatten(x, ax))(a.get("axis", 1))
            elif op == "Reshape":
                shape = const_int_list(ins[1])
                fn = (lambda sh: lambda x: x.reshape([x.shape[i] if v == 0 else v for i, v in enumerate(sh)]))(shape)
            elif op == "Slice":
                starts, ends = const_int_list(ins[1]), const_int_list(ins[2])
                axes = const_int_list(ins[3]) if len(ins) > 3 and ins[3] else list(range(len(starts)))
                steps = const_int_list(ins[4]) if len(ins) > 4 and ins[4] else [1] * len(starts)

                def make_slice(starts, ends, axes, steps):
                    def f(x):
                        idx = [slice(None)] * x.dim()
                        for st, en, ax, sp in zip(starts, ends, axes, steps):
                            idx[ax] = slice(st, min(en, x.shape[ax]), sp)
                        return x[tuple(idx)]
                    return f
                fn = make_slice(starts, ends, axes, steps)
            elif op == "Gemm":
                if a.get("transA", 0) or a.get("alpha", 1.0) != 1.0 or a.get("beta", 1.0) != 1.0:
                    raise SystemExit(f"{node.name}: Gemm variant not supported here")
                w = W[ins[1]] if a.get("transB", 0) else W[ins[1]].t().contiguous()
                b = W[ins[2]] if len(ins) > 2 and ins[2] else None
                fn = (lambda w, b: lambda x: F.linear(x, w, b))(w, b)
            elif op == "Softmax":
                fn = (lambda ax: lambda x: F.softmax(x, ax))(a.get("axis", -1))
            else:
                raise SystemExit(f"{node.name}: op {op} not supported by this executor")
            if op == "Add":
                self.steps.append(("add", ins[:2], outs[0], None))
            else:
                self.steps.append(("unary", [ins[0]], outs[0], fn))
        # free each intermediate after its last use, as featvis does
        last = {}
        for i, (_, ins, _, _) in enumerate(self.steps):
            for n in ins:
                last[n] = i
        self.free_after = [[n for n in ins if last.get(n) == i and n != self.output]
                           for i, (_, ins, _, _) in enumerate(self.steps)]

    def __call__(self, x):
        values = {self.input_name: x}
        W = self.weights
        for (kind, ins, out, fn), dead in zip(self.steps, self.free_after):
            if kind == "add":
                a = values[ins[0]] if ins[0] in values else W[ins[0]]
                b = values[ins[1]] if ins[1] in values else W[ins[1]]
                values[out] = a + b
            else:
                values[out] = fn(values[ins[0]])
            for n in dead:
                values.pop(n, None)
        return values[self.output]


def random_input(torch, chw, batch):
    g = torch.Generator().manual_seed(0)
    return torch.rand((batch, *chw), generator=g) * 2 - 1


def timed(fn, batch, min_time, repetitions):
    for _ in range(2):
        fn()
    per_iter = []
    for _ in range(repetitions):
        n, start = 0, time.perf_counter()
        while True:
            fn()
            n += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        per_iter.append(elapsed / n)
    t = statistics.median(per_iter)
    return {"batch": batch, "seconds_per_iter": t, "images_per_s": batch / t,
            "ms_per_image": 1000.0 * t / batch, "repetitions": per_iter}


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--min-time", type=float, default=1.0)
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--forward-batches", default="1,8,32")
    p.add_argument("--grad-batches", default="1,8")
    p.add_argument("--grad-class", type=int, default=0)
    p.add_argument("--make-input", metavar="IN.f32")
    p.add_argument("--batch", type=int, default=2, help="batch of --make-input")
    p.add_argument("--dump-logits", metavar="OUT.f32")
    p.add_argument("--classes", type=int, default=1000, help="logits per image, for --compare")
    p.add_argument("--compare", nargs="+", metavar="LOGITS.f32",
                   help="reference logits first; prints max |diff| and top-1 agreement of the others")
    args = p.parse_args()

    if args.compare:
        ref = np.fromfile(args.compare[0], dtype=np.float32)
        result = {}
        for path in args.compare[1:]:
            other = np.fromfile(path, dtype=np.float32)
            if other.shape != ref.shape:
                raise SystemExit(f"{path}: {other.size} values, reference has {ref.size}")
            r, o = ref.reshape(-1, args.classes), other.reshape(-1, args.classes)
            result[path] = {"max_abs_diff": float(np.abs(ref - other).max()),
                            "top1_agree": bool((r.argmax(1) == o.argmax(1)).all())}
        print(json.dumps({"reference": args.compare[0], "batch": ref.size // args.classes,
                          "compared": result}, indent=2))
        return

    import torch
    if not args.model:
        raise SystemExit("--model is required")
    torch.set_num_threads(args.threads)
    net = EagerOnnx(args.model)

    if args.make_input or args.dump_logits:
        if args.make_input:
            x = random_input(torch, net.chw, args.batch)
            x.numpy().astype(np.float32).tofile(args.make_input)
            print(f"eager: wrote input {tuple(x.shape)} to {args.make_input}", file=sys.stderr)
        if args.dump_logits:
            if not args.make_input:
                raise SystemExit("--dump-logits needs --make-input")
            with torch.inference_mode():
                y = net(x).contiguous()
            y.numpy().astype(np.float32).tofile(args.dump_logits)
            print(f"eager: wrote logits {tuple(y.shape)} to {args.dump_logits}", file=sys.stderr)
        return

    report = {"tool": "pytorch-eager", "torch": torch.__version__, "threads": torch.get_num_threads(),
              "model": args.model, "forward": [], "forward_grad": []}
    for batch in [int(b) for b in args.forward_batches.split(",") if b]:
        x = random_input(torch, net.chw, batch)

        def fwd():
            with torch.inference_mode():
                return net(x)
        report["forward"].append(timed(fwd, batch, args.min_time, args.repetitions))
        print(f"eager forward batch {batch}: {report['forward'][-1]['images_per_s']:.2f} img/s", file=sys.stderr)
    for batch in [int(b) for b in args.grad_batches.split(",") if b]:
        x = random_input(torch, net.chw, batch).requires_grad_(True)

        def fwd_grad():
            x.grad = None
            net(x)[:, args.grad_class].sum().backward()
            return x.grad
        report["forward_grad"].append(timed(fwd_grad, batch, args.min_time, args.repetitions))
        print(f"eager forward+grad batch {batch}: {report['forward_grad'][-1]['ms_per_image']:.2f} ms/img", file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
