"""featvis.Model.from_torch: a torchvision model (random weights) exported in memory gives
PyTorch's logits within the parity tolerance (tests/parity: 1e-4 relative)."""
import numpy as np
import pytest

import featvis
from featvis import objective as fo

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")

PARITY_TOLERANCE = 1e-4  # max|featvis - torch| / max|torch|, as tests/parity/parity_test.cpp
MEAN, STD = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)


@pytest.fixture(scope="module")
def resnet():
    torch.manual_seed(0)
    net = torchvision.models.resnet18(weights=None)
    net.train()  # from_torch exports in eval mode and leaves the module as it was
    return net


@pytest.fixture(scope="module")
def images():
    return torch.rand(2, 3, 112, 112, generator=torch.Generator().manual_seed(3))


def test_logits_equal_pytorch(resnet, images):
    model = featvis.Model.from_torch(resnet, images[:1], name="resnet18")
    assert resnet.training
    assert model.name == "resnet18" and model.card["input_size"] == (112, 112)
    ours = model.activations(images, "logits")["logits"]
    resnet.eval()
    try:
        with torch.no_grad():
            expected = resnet(torchvision.transforms.functional.normalize(images, MEAN, STD)).numpy()
    finally:
        resnet.train()
    error = np.abs(ours - expected).max() / np.abs(expected).max()
    # Measured 3.8e-7 (BatchNorm kept as its own node, so the same ATen kernels run).
    assert error <= PARITY_TOLERANCE, error


def test_exported_model_renders_and_explains(resnet, images):
    model = featvis.Model.from_torch(resnet, images[:1], normalize=None, labels=[f"c{i}" for i in range(1000)])
    assert model.classify(images[:1], top=1)[0][0]["label"].startswith("c")
    conv = next(l["name"] for l in model.layers() if l["op"] == "Conv" and l["shape"][1] == 128)
    result = featvis.render(model, fo.channel(conv, 0), steps=8, size=64, progress=False)
    (_, first), (_, last) = result.history[0], result.history[-1]
    assert last[0] > first[0]
    assert featvis.attribute(model, images[0], "logit:3", method="gradcam").shape == (112, 112)


def test_bad_modules_raise():
    with pytest.raises(featvis.Error, match="torch.nn.Module"):
        featvis.Model.from_torch("resnet18", torch.zeros(1, 3, 8, 8))
    with pytest.raises(featvis.Error, match=r"\(N, 3, H, W\)"):
        featvis.Model.from_torch(torch.nn.Conv2d(3, 4, 3), torch.zeros(3, 8, 8))

    class Broken(torch.nn.Module):
        def forward(self, x):
            return torch.fft.fft2(x).real  # no ONNX export for FFT at opset 13

    with pytest.raises(featvis.Error, match="torch.onnx.export failed"):
        featvis.Model.from_torch(Broken(), torch.zeros(1, 3, 8, 8))
    assert torch.is_grad_enabled()
