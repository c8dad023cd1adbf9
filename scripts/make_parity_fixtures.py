#!/usr/bin/python3
"""Parity fixtures: torchvision architectures with random weights, exported to ONNX,
plus PyTorch's own outputs and input gradient for featvis's parity test to match.

Run with Debian's /usr/bin/python3 (python3-torch, python3-torchvision):

    /usr/bin/python3 scripts/make_parity_fixtures.py --out build/fixtures/parity

For each architecture <arch> it writes to --out:
    <arch>.onnx            outputs named "logits", "layer_a", "layer_b"
    <arch>.input.npy       the input image batch (float32, NCHW)
    <arch>.logits.npy      PyTorch's outputs for that input
    <arch>.layer_a.npy
    <arch>.layer_b.npy
    <arch>.grad.npy        d(objective)/d(input), see below
    <arch>.json            manifest: shapes, objective, which modules the layers are

The objective is mean(layer_a[:, channel]) + sum(logits[:, logit]); the manifest gives
channel and logit. An architecture whose manifest carries this script's hash (and the
torch version) and whose files all exist is not generated again.
"""
import argparse
import contextlib
import hashlib
import json
import os
import sys
import time

# One BLAS/OpenMP thread, set before numpy and torch load (their thread pools read it then;
# torch.set_num_threads below does not reach OpenBLAS): the parity test compares at one
# thread, and fixtures made at several (resnext50_32x4d, regnet_*: grouped convolutions)
# differ from it by 4e-3..6e-3 in the input gradient through ReLU near-ties.
os.environ["OMP_NUM_THREADS"] = "1"
os.environ["OPENBLAS_NUM_THREADS"] = "1"

try:
    import numpy as np
    import torch
    import torchvision
except ImportError as e:
    sys.exit(f"make_parity_fixtures.py: {e}; run it with Debian's /usr/bin/python3 and "
             "apt-get install python3-torch python3-torchvision")

# name -> (input size, layer_a module, layer_b module): the usual ImageNet input sizes
# (AlexNet and VGG need 224 anyway, for their adaptive pool to 6x6 / 7x7 to export as
# a plain AveragePool), and one mid-depth and one deep layer per net.
ARCHITECTURES = {
    "alexnet": (224, "features.4", "features.9"),
    "vgg16": (224, "features.15", "features.29"),
    "googlenet": (224, "inception3b", "inception4e"),
    "inception_v3": (299, "Mixed_5d", "Mixed_7b"),
    "resnet50": (224, "layer2", "layer4"),
    "densenet121": (224, "features.denseblock2", "features.norm5"),
    "squeezenet1_1": (224, "features.4", "features.12"),
    "mobilenet_v2": (224, "features.6", "features.14"),
    "mobilenet_v3_small": (224, "features.3", "features.9"),
    "efficientnet_b0": (224, "features.3", "features.6"),
    # Swin: Mod, Range, ScatterND (the shifted-window mask), Erf, LayerNorm decomposed at
    # opset 13 and one LayerNormalization node at the newest opset.
    "swin_t": (224, "features.3", "features.5"),
    "swin_t_opset17": (224, "features.3", "features.5"),
    # ViT's ops (MultiheadAttention as exported, Erf GELU, class token Concat/Gather) on a
    # small VisionTransformer: vit_b_16 itself is 330 MB (opt-in below).
    "vit_tiny": (64, "encoder.layers.encoder_layer_0", "encoder.ln"),
    "vit_tiny_opset17": (64, "encoder.layers.encoder_layer_0", "encoder.ln"),
}
NEWEST_OPSET = 17  # the newest opset Debian's torch 1.13 exports (torch.onnx's ONNX_MAX_OPSET)


def source(name):
    """The torchvision architecture and the opset of fixture `name` ("<arch>_opset17": 17)."""
    suffix = f"_opset{NEWEST_OPSET}"
    return (name[: -len(suffix)], NEWEST_OPSET) if name.endswith(suffix) else (name, 13)


# --all (opt-in, not in CI): every classification model torchvision lists, at opset 13 and
# at the newest, at its usual input size; layer_a/layer_b are its first and next-to-last
# child modules. Hundreds of MB each (vgg16 528 MB, vit_h_14 2.5 GB): see docs/notes/NOTES-lrp.md.
def all_architectures():
    names = torchvision.models.list_models(module=torchvision.models)
    return [n for base in names for n in (base, base + f"_opset{NEWEST_OPSET}")]


def settings(name):
    """(input size, layer_a, layer_b); None layers: chosen after building (--all)."""
    if name in ARCHITECTURES:
        return ARCHITECTURES[name]
    arch = source(name)[0]
    size = 299 if arch == "inception_v3" else 256 if arch.startswith("swin_v2") else 224
    return size, None, None
BATCH = 2  # more than one image, so that an op mixing up the batch dimension shows
LOGIT = 7


class WithLayers(torch.nn.Module):
    """Returns (logits, layer_a, layer_b): two intermediate module outputs captured by
    forward hooks become graph outputs, so featvis can address them by name."""

    def __init__(self, model, layer_a, layer_b):
        super().__init__()
        self.model = model
        self.captured = {}
        modules = dict(model.named_modules())
        for key, name in (("layer_a", layer_a), ("layer_b", layer_b)):
            modules[name].register_forward_hook(self._capture(key))

    def _capture(self, key):
        def hook(module, inputs, output):
            self.captured[key] = output
        return hook

    def forward(self, x):
        self.captured.clear()
        logits = self.model(x)
        return logits, self.captured["layer_a"], self.captured["layer_b"]


def script_hash():
    with open(os.path.abspath(__file__), "rb") as f:
        body = f.read()
    return hashlib.sha256(body + torch.__version__.encode() + torchvision.__version__.encode()).hexdigest()


def images(batch, size, generator):
    """Image-like inputs: uniform pixels, ImageNet-normalized."""
    mean = torch.tensor([0.485, 0.456, 0.406]).view(1, 3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(1, 3, 1, 1)
    return ((torch.rand(batch, 3, size, size, generator=generator) - mean) / std).contiguous()


def randomize_batchnorm(model, size, generator):
    """At construction BatchNorm is the identity (mean 0, var 1, weight 1, bias 0). That
    would hide a featvis BatchNormalization that mixes up its inputs, and without real
    statistics the activations of deep residual nets grow block after block. So: random
    affine parameters, then running statistics measured on other images of the same kind
    as the test input (one pass with momentum=None stores that batch's statistics), as a
    trained net would have. Activations then stay O(1) through the whole depth."""
    norms = [m for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    if not norms:
        return
    with torch.no_grad():
        for m in norms:
            m.weight.uniform_(0.5, 1.5, generator=generator)
            m.bias.uniform_(-0.2, 0.2, generator=generator)
            m.reset_running_stats()
            m.momentum = None
            m.train()  # only the norms: dropout and stochastic depth stay in eval mode
        model(images(8, size, generator))
    for m in norms:
        m.eval()


def build(arch, size, generator):
    torch.manual_seed(0)
    kwargs = {"weights": None}
    if arch in ("googlenet", "inception_v3"):
        kwargs["init_weights"] = True  # silences the "default init changed" warning
    if source(arch)[0] == "vit_tiny":
        from torchvision.models.vision_transformer import VisionTransformer
        model = VisionTransformer(image_size=64, patch_size=16, num_layers=2, num_heads=2, hidden_dim=64, mlp_dim=128)
    else:
        model = getattr(torchvision.models, source(arch)[0])(**kwargs)
    model.eval()
    # torchvision zero-initializes ViT's classifier head: its logits would all be 0.
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, torch.nn.Linear) and not m.weight.any():
                m.weight.normal_(0, 0.02)
    # In-place activations would let a later op overwrite a tensor the hooks captured.
    for m in model.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    randomize_batchnorm(model, size, generator)
    return model


def register_symbolics():
    """torch 1.13 has no ONNX symbolic for aten::zero, which swin_v2's
    `qkv_bias[length:2 * length].zero_()` becomes when the exporter takes in-place ops out
    of place ("Exporting the operator 'aten::zero' to ONNX opset version 13 is not
    supported"): zeros of the input's shape, as a user's export script would register."""
    def zero(g, self):
        return g.op("ConstantOfShape", g.op("Shape", self), value_t=torch.tensor([0.0]))
    torch.onnx.register_custom_op_symbolic("aten::zero", zero, 13)


def check_sane(arch, name, t):
    """Outputs that are all zero or not finite would make the comparison meaningless."""
    a = t.detach().double()
    if not torch.isfinite(a).all():
        sys.exit(f"{arch}: {name} is not finite")
    if a.abs().max() == 0 or a.std() == 0:
        sys.exit(f"{arch}: {name} is degenerate (constant)")


def generate(arch, out, digest):
    size, layer_a, layer_b = settings(arch)
    batch = BATCH
    generator = torch.Generator().manual_seed(1234)
    net = build(arch, size, generator)
    if layer_a is None:
        # A ModuleList (maxvit_t's blocks) is never called itself: its last member is.
        children = [name if not isinstance(m, torch.nn.ModuleList) else f"{name}.{len(m) - 1}"
                    for name, m in net.named_children()]
        layer_a, layer_b = children[0], children[-2]
    # eval() on the wrapper too: torch.onnx.export restores the wrapper's mode after
    # exporting, recursively, which would otherwise switch dropout and BN to training.
    model = WithLayers(net, layer_a, layer_b).eval()
    # Under no_grad torch 1.13 runs MultiheadAttention as one fused op that has no ONNX
    # export ("aten::_native_multi_head_attention"): transformers export with grad on.
    attention = any(isinstance(m, torch.nn.MultiheadAttention) for m in model.modules())
    # Swin's window reshapes would bake in the batch of 2 like ViT's: featvis's batch-1
    # paths (attribute, Grad-CAM, LRP, the layers probe) need a symbolic batch there too.
    windowed = any(type(m).__name__.startswith("ShiftedWindowAttention") for m in model.modules())
    # Every opt-in (--all) model too: shufflenet's channel shuffle and maxvit's windows would
    # bake in 2 as well. The CI CNNs keep the fixed batch their fixtures were made with.
    symbolic = attention or windowed or arch not in ARCHITECTURES

    x = images(batch, size, generator)

    onnx_path = os.path.join(out, arch + ".onnx")
    tmp = onnx_path + ".tmp"
    # TrainingMode.PRESERVE (the model is in eval mode) keeps BatchNormalization as its
    # own node instead of folding it into the convolution weights, so the ONNX graph is
    # the module graph op for op and featvis repeats PyTorch's float32 arithmetic. With
    # folded weights the forward pass agrees to ~1e-5 (1.8e-4 at worst, inception_v3's
    # Mixed_7b), but the rounding flips the few ReLUs and max-pool picks that sit on a
    # near-tie, and the input gradient of the ReLU nets moves by 2e-2 to 5e-2 (max-norm)
    # -- as much as PyTorch's own float32 gradient differs from float64 on the same net.
    with contextlib.nullcontext() if attention else torch.no_grad():
        torch.onnx.export(model, x, tmp, opset_version=source(arch)[1], input_names=["input"],
                          output_names=["logits", "layer_a", "layer_b"],
                          do_constant_folding=False,  # folding: same graph here, and a warning
                          training=torch.onnx.TrainingMode.PRESERVE,
                          # ViT's reshapes would bake in the batch of 2: a symbolic batch lets
                          # featvis run the file at batch 1 too (render, Grad-CAM tests).
                          dynamic_axes={k: {0: "N"} for k in ("input", "logits", "layer_a", "layer_b")}
                          if symbolic else None)
    os.replace(tmp, onnx_path)
    assert not any(m.training for m in model.modules()), "export left the model in training mode"

    xg = x.clone().requires_grad_(True)
    logits, a, b = model(xg)
    # The channel of layer_a with the strongest response, so its term is not a dead unit.
    channel = int(a.detach().abs().mean(dim=[0] + list(range(2, a.dim()))).argmax())
    objective = a[:, channel].mean() + logits[:, LOGIT].sum()
    (grad,) = torch.autograd.grad(objective, xg)
    for name, t in (("logits", logits), ("layer_a", a), ("layer_b", b), ("grad", grad)):
        check_sane(arch, name, t)

    arrays = {"input": x, "logits": logits, "layer_a": a, "layer_b": b, "grad": grad}
    for name, t in arrays.items():
        np.save(os.path.join(out, f"{arch}.{name}.npy"), t.detach().numpy().astype(np.float32))
    manifest = {
        "arch": arch,
        "opset": source(arch)[1],
        "onnx": arch + ".onnx",
        "input": [batch, 3, size, size],
        "layers": {"layer_a": layer_a, "layer_b": layer_b},
        "in_ci": arch in ARCHITECTURES,
        "objective": {"layer": "layer_a", "channel": channel, "logit": LOGIT,
                      "formula": f"mean(layer_a[:, {channel}]) + sum(logits[:, {LOGIT}])",
                      "value": float(objective)},
        "shapes": {k: list(v.shape) for k, v in arrays.items()},
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "script_sha256": digest,
    }
    # The manifest goes last: its presence marks a complete set.
    with open(os.path.join(out, arch + ".json.tmp"), "w") as f:
        json.dump(manifest, f, indent=1)
    os.replace(os.path.join(out, arch + ".json.tmp"), os.path.join(out, arch + ".json"))


def up_to_date(arch, out, digest):
    try:
        with open(os.path.join(out, arch + ".json")) as f:
            manifest = json.load(f)
    except (OSError, ValueError):
        return False
    files = [arch + ".onnx"] + [f"{arch}.{n}.npy" for n in ("input", "logits", "layer_a", "layer_b", "grad")]
    return manifest.get("script_sha256") == digest and all(
        os.path.isfile(os.path.join(out, f)) for f in files)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True, help="directory for the fixtures")
    parser.add_argument("--only", nargs="*", help="a subset (names of ARCHITECTURES or of --all)")
    parser.add_argument("--all", action="store_true",
                        help="also every torchvision classification model at opset 13 and 17 (opt-in: GBs, hours)")
    parser.add_argument("--force", action="store_true", help="regenerate even if up to date")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    # One thread, as the parity test uses: the order of a convolution's sums depends on
    # the thread count, and the resulting 1e-7 differences flip near-ties (see above).
    torch.set_num_threads(1)
    digest = script_hash()
    register_symbolics()
    started = time.time()
    names = list(ARCHITECTURES) + [n for n in all_architectures() if n not in ARCHITECTURES] if args.all \
        else list(ARCHITECTURES)
    for arch in args.only or names:
        if not args.force and up_to_date(arch, args.out, digest):
            print(f"{arch}: up to date", flush=True)
            continue
        t0 = time.time()
        generate(arch, args.out, digest)
        print(f"{arch}: generated in {time.time() - t0:.1f} s", flush=True)
    print(f"parity fixtures ready in {args.out} ({time.time() - started:.1f} s)")


if __name__ == "__main__":
    main()
