#!/usr/bin/python3
"""PyTorch-eager baseline for featvis_bench_render: the render loop the way Lucent
(github.com/greentfrapp/lucent, render.render_vis) runs it.

One step, as in Lucent:
  image = to_valid_rgb(fft_image())      Lucent's fft_image (rfft2 coefficients scaled by
                                         1/max(|f|, 1/max(h,w))^1, sd 0.01, irfft2 'ortho',
                                         divided by 4) and to_valid_rgb (ImageNet colour
                                         correlation sqrt normalised by its largest column
                                         norm, then sigmoid). Same constants as featvis
                                         (src/render/param/{spectral,color}.cpp).
  x = transforms(image)                  the standard transforms, implemented as featvis does
                                         them (src/render/transform): pad(12) constant 0.5,
                                         jitter(8) (random crop of size-8), scale one of
                                         1+(i-5)/50 (bilinear, align_corners=False, size
                                         floor(s*n)), rotate one of -10..10 deg or 0 (5 more
                                         zeros; affine_grid + grid_sample, bilinear, zeros),
                                         jitter(4). Random draws from a torch.Generator.
  x = x * 255/std - mean/std             the model card's input normalisation
  net(x)                                 a FULL forward of the whole ONNX graph, node by node
                                         (bench/torch_eager_onnx.py's EagerOnnx), with the
                                         target layer captured the way a forward hook does
  loss = -sum_i mean(act[i, c_i])        Lucent's objectives.channel (batch=i per item)
  loss.item(); loss.backward(); adam.step()    Adam lr 0.05 (featvis reads the value too)

Measured like featvis_bench_render: per case a warm-up render (min(S, 4) steps at batch 1,
1 step at batch 32), then --repetitions renders of S steps from a fresh parameter each;
ms/step of a repetition is the sum of its per-step wall times / S, cpu_ms/step the process
CPU time (all threads) of steps 2..S / (S-1); the median repetition is reported.
Prints one JSON object on stdout.

  /usr/bin/python3 bench/lucent_eager_render.py --model M.onnx --threads 1 [--steps 16]
      [--batch-steps 3] [--repetitions 3] [--channel 7] [--card cards/mobilenet_v2.card.json]
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

EARLY = "MobileNetV2/expanded_conv_2/expand"
MIDDLE = "MobileNetV2/expanded_conv_8/expand"
LAST = "MobileNetV2/Conv2d_18_1"

# lucent/optvis/param/color.py (the same numbers as featvis' color_correlation_sqrt)
COLOR_CORRELATION_SVD_SQRT = np.asarray([[0.26, 0.09, 0.02],
                                         [0.27, 0.00, -0.05],
                                         [0.27, -0.09, 0.03]]).astype("float32")


def rfft2d_freqs(h, w):
    """lucent/optvis/param/spatial.py"""
    fy = np.fft.fftfreq(h)[:, None]
    fx = np.fft.fftfreq(w)[: w // 2 + 2] if w % 2 == 1 else np.fft.fftfreq(w)[: w // 2 + 1]
    return np.sqrt(fx * fx + fy * fy)


def fft_image(torch, shape, sd=0.01, decay_power=1.0, generator=None):
    """lucent/optvis/param/spatial.py fft_image, CPU."""
    batch, channels, h, w = shape
    freqs = rfft2d_freqs(h, w)
    init_val_size = (batch, channels) + freqs.shape + (2,)
    spectrum_real_imag_t = (torch.randn(*init_val_size, generator=generator) * sd).requires_grad_(True)
    scale = 1.0 / np.maximum(freqs, 1.0 / max(w, h)) ** decay_power
    scale = torch.tensor(scale).float()[None, None, ..., None]

    def inner():
        scaled_spectrum_t = scale * spectrum_real_imag_t
        image = torch.fft.irfftn(torch.view_as_complex(scaled_spectrum_t), s=(h, w), norm="ortho")
        image = image[:batch, :channels, :h, :w]
        magic = 4.0  # Lucid's magic factor
        return image / magic
    return [spectrum_real_imag_t], inner


def to_valid_rgb(torch, image_f):
    """lucent/optvis/param/color.py: linear_decorrelate + sigmoid."""
    max_norm_svd_sqrt = np.max(np.linalg.norm(COLOR_CORRELATION_SVD_SQRT, axis=0))
    normalized = torch.tensor(COLOR_CORRELATION_SVD_SQRT / max_norm_svd_sqrt)

    def inner():
        t = image_f()
        t_permute = t.permute(0, 2, 3, 1)
        t_permute = torch.matmul(t_permute, normalized.T)
        return torch.sigmoid(t_permute.permute(0, 3, 1, 2))
    return inner


def standard_transforms(torch, F, generator):
    """featvis render::transform::standard(), in torch ops (see src/render/transform/*.cpp)."""
    def randint(low, high):  # inclusive, as featvis' random_int
        return int(torch.randint(low, high + 1, (1,), generator=generator).item())

    def choice(values):
        return values[randint(0, len(values) - 1)]

    def pad(w, value=0.5):
        return lambda x: F.pad(x, (w, w, w, w), mode="constant", value=value)

    def jitter(d):
        def f(x):
            h, w = x.shape[2] - d, x.shape[3] - d
            dy, dx = randint(0, d), randint(0, d)
            return x[:, :, dy:dy + h, dx:dx + w]
        return f

    scales = [1.0 + (i - 5) / 50.0 for i in range(11)]

    def random_scale(x):
        s = choice(scales)
        h = int(math.floor(s * x.shape[2] + 1e-6))
        w = int(math.floor(s * x.shape[3] + 1e-6))
        if h == x.shape[2] and w == x.shape[3]:
            return x
        return F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False)

    angles = [float(a) for a in range(-10, 11)] + [0.0] * 5

    def random_rotate(x):
        deg = choice(angles)
        if deg == 0:
            return x
        a = deg * math.pi / 180.0
        h, w = float(x.shape[2]), float(x.shape[3])
        theta = torch.tensor([[math.cos(a), -math.sin(a) * h / w, 0.0],
                              [math.sin(a) * w / h, math.cos(a), 0.0]], dtype=x.dtype)
        theta = theta.unsqueeze(0).expand(x.shape[0], 2, 3)
        grid = F.affine_grid(theta, list(x.shape), align_corners=False)
        return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)

    steps = [pad(12), jitter(8), random_scale, random_rotate, jitter(4)]

    def compose(x):
        for t in steps:
            x = t(x)
        return x
    return compose


def hook(net, layer):
    """Captures `layer`'s tensor during net(x), as a forward hook on that module would.
    Returns (features dict, remove function)."""
    features = {}
    for i, (kind, ins, out, fn) in enumerate(net.steps):
        if out == layer:
            if kind != "unary":
                raise SystemExit(f"{layer}: only single-input nodes can be hooked here")

            def hooked(x, fn=fn):
                y = fn(x)
                features[layer] = y
                return y
            net.steps[i] = (kind, ins, out, hooked)

            def remove(i=i, original=(kind, ins, out, fn)):
                net.steps[i] = original
            return features, remove
    raise SystemExit(f"layer '{layer}' not found in the graph")


def render_vis(torch, F, net, layer, channels, batch, steps, card, seed=0):
    """One Lucent-style render; returns the per-step wall times (seconds) and the process
    CPU time read at the end of each step."""
    gen = torch.Generator().manual_seed(seed)
    params, image_f = fft_image(torch, (batch, 3, 224, 224), generator=gen)
    image_f = to_valid_rgb(torch, image_f)
    transform_f = standard_transforms(torch, F, gen)
    pre = card["preprocessing"]
    mean = torch.tensor(pre["mean"], dtype=torch.float32).view(1, 3, 1, 1)
    std = torch.tensor(pre["std"], dtype=torch.float32).view(1, 3, 1, 1)
    gain, offset = 255.0 / std, mean / std
    bgr = pre.get("channels", "rgb") == "bgr"
    optimizer = torch.optim.Adam(params, lr=0.05)
    features, remove = hook(net, layer)
    times, cpu = [], []
    try:
        for _ in range(steps):
            start = time.perf_counter()
            optimizer.zero_grad()
            x = transform_f(image_f()) * gain - offset
            if bgr:
                x = x.flip(1)
            net(x)  # the whole model; the hook keeps the target layer
            act = features[layer]
            loss = -sum(act[i, c].mean() for i, c in enumerate(channels))
            value = loss.item()
            if not math.isfinite(value):
                raise SystemExit("objective became non-finite")
            loss.backward()
            optimizer.step()
            times.append(time.perf_counter() - start)
            cpu.append(time.process_time())
    finally:
        remove()
    return times, cpu


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True)
    p.add_argument("--card", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cards",
                                                  "mobilenet_v2.card.json"))
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--steps", type=int, default=16, help="steps per batch-1 render")
    p.add_argument("--batch-steps", type=int, default=3, help="steps per batch-32 render")
    p.add_argument("--repetitions", type=int, default=3)
    p.add_argument("--channel", type=int, default=7)
    p.add_argument("--cases", default="early,middle,last,units32,units8")
    args = p.parse_args()

    import torch
    import torch.nn.functional as F
    from torch_eager_onnx import EagerOnnx

    torch.set_num_threads(args.threads)
    net = EagerOnnx(args.model)
    with open(args.card) as f:
        card = json.load(f)
    all_cases = {
        "early": (EARLY, [args.channel], 1, args.steps),
        "middle": (MIDDLE, [args.channel], 1, args.steps),
        "last": (LAST, [args.channel], 1, args.steps),
        "units32": (MIDDLE, list(range(32)), 32, args.batch_steps),
        "units8": (MIDDLE, list(range(8)), 8, 4 * args.batch_steps),
    }
    report = {"tool": "lucent-style-pytorch-eager", "torch": torch.__version__,
              "threads": torch.get_num_threads(), "model": args.model, "cases": []}
    for name in [c for c in args.cases.split(",") if c]:
        layer, channels, batch, steps = all_cases[name]
        # warm-up, as featvis_bench_render: one render of the timed length
        render_vis(torch, F, net, layer, channels, batch, steps, card)
        reps, cpu_reps = [], []
        for _ in range(args.repetitions):
            times, cpu = render_vis(torch, F, net, layer, channels, batch, steps, card)
            reps.append(1000.0 * sum(times) / len(times))
            if len(cpu) >= 2:  # steps 2..S, as featvis_bench_render's cpu_ms/step
                cpu_reps.append(1000.0 * (cpu[-1] - cpu[0]) / (len(cpu) - 1))
        ms = statistics.median(reps)
        report["cases"].append({"name": "render/" + name, "layer": layer, "batch": batch, "steps": steps,
                                "ms_per_step": ms, "units_per_s": batch * 1000.0 / ms,
                                "cpu_ms_per_step": statistics.median(cpu_reps) if cpu_reps else None,
                                "repetitions": reps, "cpu_repetitions": cpu_reps})
        print(f"eager render/{name}: {ms:.1f} ms/step", file=sys.stderr)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
