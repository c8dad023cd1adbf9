"""featvis.Model against the CLI on the real MobileNetV2."""
import numpy as np
import pytest

import featvis
from conftest import run_cli


def test_layers_match_cli(mobilenet):
    cli = run_cli("layers", "mobilenet_v2")
    ours = mobilenet.layers()
    assert [(l["name"], l["op"], list(l["shape"]), l["units"], l["role"]) for l in ours] == [
        (l["name"], l["op"], l["shape"], l["units"], l["role"]) for l in cli["layers"]
    ]


def test_card(mobilenet):
    card = mobilenet.card
    assert card["name"] == "mobilenet_v2"
    assert card["input_size"] == (224, 224)
    assert card["labels"] >= 1000
    assert card["output"] in {l["name"] for l in mobilenet.layers()}
    assert all(l["name"] for l in card["layers"])


def test_classify_matches_cli(mobilenet, photo):
    cli = run_cli("classify", "mobilenet_v2", photo, "--top", "5")["results"][0]["top"]
    ours = mobilenet.classify(photo, top=5)[0]
    assert [p["index"] for p in ours] == [p["index"] for p in cli]
    assert ours[0]["label"] == cli[0]["label"]
    for a, b in zip(ours, cli):
        assert a["logit"] == pytest.approx(b["logit"], abs=1e-5)
        assert a["probability"] == pytest.approx(b["probability"], abs=1e-5)


def test_classify_array_equals_classify_of_the_crop(mobilenet, photo):
    # The card's crop as a [0,1] array is the same network input as the file itself.
    crop = mobilenet.activations(photo, mobilenet.card["input"])[mobilenet.card["input"]]
    assert crop.shape == (1, 3, 224, 224)
    rgb01 = mobilenet_rgb01(mobilenet, crop)
    from_array = mobilenet.classify(rgb01, top=3)[0]
    from_file = mobilenet.classify([photo], top=3)[0]
    assert [p["index"] for p in from_array] == [p["index"] for p in from_file]
    for a, b in zip(from_array, from_file):
        assert a["logit"] == pytest.approx(b["logit"], abs=1e-3)


def mobilenet_rgb01(model, network_input):
    """Undoes a (x*255 - mean)/std card scaling, read off two probes of the model."""
    probes = np.stack([np.zeros((224, 224, 3), np.float32), np.ones((224, 224, 3), np.float32)])
    name = model.card["input"]
    low, high = model.activations(probes, name)[name][:, :, 0, 0]
    rgb = (network_input[0] - low[:, None, None]) / (high - low)[:, None, None]
    return np.clip(rgb.transpose(1, 2, 0), 0, 1).astype(np.float32)


def test_activations_match_cli(mobilenet, photo):
    short = "expanded_conv_8/expand"
    cli = run_cli("activations", "mobilenet_v2", photo, "--layer", short, "--top", "5")
    acts = mobilenet.activations([photo], [short])
    assert list(acts) == [short]
    a = acts[short]
    assert a.dtype == np.float32 and a.shape[0] == 1 and a.shape[1] == cli["units"]
    shape = next(l["shape"] for l in mobilenet.layers() if l["name"] == mobilenet.resolve(short))
    assert a.shape == tuple(shape)
    means = a.reshape(a.shape[0], a.shape[1], -1).mean(axis=2)[0]
    for unit in cli["top"]:
        assert means[unit["unit"]] == pytest.approx(unit["mean"], abs=1e-5)


def test_resolve_short_name(mobilenet):
    assert mobilenet.resolve("expanded_conv_8/expand") == "MobileNetV2/expanded_conv_8/expand"


def test_uint8_and_channels_first_arrays(mobilenet):
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 256, size=(2, 224, 224, 3), dtype=np.uint8)
    as_float = mobilenet.classify(pixels.astype(np.float32) / 255, top=1)
    for other in (pixels, np.ascontiguousarray(pixels.transpose(0, 3, 1, 2))):
        got = mobilenet.classify(other, top=1)
        assert [p[0]["index"] for p in got] == [p[0]["index"] for p in as_float]
        assert [p[0]["logit"] for p in got] == pytest.approx([p[0]["logit"] for p in as_float], abs=1e-5)


def test_torch_tensor_images(mobilenet):
    torch = pytest.importorskip("torch")
    images = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0))
    ours = mobilenet.classify(images, top=3)[0]
    via_numpy = mobilenet.classify(images.permute(0, 2, 3, 1).numpy(), top=3)[0]
    assert [p["index"] for p in ours] == [p["index"] for p in via_numpy]
    for a, b in zip(ours, via_numpy):
        assert a["logit"] == pytest.approx(b["logit"], abs=1e-5)
