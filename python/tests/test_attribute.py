"""featvis.attribute: every method of `featvis attribute`, the same numbers as the CLI."""
import numpy as np
import pytest

import featvis
from conftest import run_cli
from test_render import png_size

# Small settings so that every method runs in a second or two on MobileNetV2.
QUICK = dict(steps=8, smooth_samples=2, window=56, stride=56)


def test_every_method_returns_the_image_shape(mobilenet, photo):
    methods = featvis.attribution_methods()
    assert {"saliency", "ig", "smoothgrad", "gradcam", "occlusion"} <= set(methods)
    for method in methods:
        result = featvis.attribute(mobilenet, photo, method=method, **QUICK)
        assert result.map.shape == (224, 224), method
        assert np.asarray(result).shape == (224, 224) and result.shape == (224, 224)
        assert np.isfinite(result.map).all(), method
        assert np.abs(result.map).max() > 0, method
        assert result.method == method
        assert result.target.startswith("logit:")  # the top-1 class by default
        assert result.forward_passes >= 1
        width, height = png_size(result._repr_png_())
        assert width == 224 and height > 224, method  # the overlay and its colour bar
        assert result.overlay.shape == (height, 224, 3)
        assert result.heatmap.shape == (224, 224, 3)


@pytest.mark.parametrize("method, extra", [("ig", ["--steps", "8"]), ("gradcam", []), ("occlusion", ["--window", "56", "--stride", "56"]), ("lrp", [])])
def test_same_numbers_as_the_cli(mobilenet, photo, tmp_path, method, extra):
    cli = run_cli("attribute", "mobilenet_v2", photo, "--method", method, "--target", "logit:0", *extra,
                  "--out", str(tmp_path / "a.png"))
    ours = featvis.attribute(mobilenet, photo, "logit:0", method=method, **QUICK)
    assert ours.target_value == pytest.approx(cli["target"]["value"], abs=1e-4)
    # The same C++ calls on the same pixels (measured: raw values bitwise equal, map sums
    # equal to 1e-7 relative); the margins allow another summation order.
    for key, value in (("min", ours.map.min()), ("max", ours.map.max()), ("sum", ours.map.sum())):
        assert value == pytest.approx(cli["map"][key], rel=1e-3, abs=1e-6), key
    np.testing.assert_allclose(ours.raw, np.load(tmp_path / "a.npy"), rtol=1e-3, atol=1e-6 * np.abs(ours.raw).max())
    if method == "ig":
        assert ours.completeness["target_difference"] == pytest.approx(cli["completeness"]["target_difference"], abs=1e-3)
    if method == "gradcam":
        assert ours.layer == cli["layer"]
    if method == "lrp":
        assert ours.conservation["relevance_sum"] == pytest.approx(cli["conservation"]["relevance_sum"], rel=1e-3)
        assert cli["options"]["lrp_composite"] == "epsilon-plus"  # the default


def test_objective_and_array_targets(mobilenet):
    from featvis import objective as fo
    pixels = np.random.default_rng(0).random((224, 224, 3), dtype=np.float32)
    by_text = featvis.attribute(mobilenet, pixels, "expanded_conv_8/expand:7")
    by_objective = featvis.attribute(mobilenet, pixels, fo.channel("expanded_conv_8/expand", 7))
    assert by_text.target == by_objective.target == "MobileNetV2/expanded_conv_8/expand:7"
    np.testing.assert_array_equal(by_text.map, by_objective.map)
    # Grad-CAM at a named (short) layer.
    cam = featvis.attribute(mobilenet, pixels, "logit:1", method="gradcam", layer="expanded_conv_12/expand")
    assert cam.layer == mobilenet.resolve("expanded_conv_12/expand")
    assert (cam.map >= 0).all()


def test_bad_attribution_input_raises(mobilenet, photo):
    with pytest.raises(featvis.Error, match="unknown attribution method 'nope'"):
        featvis.attribute(mobilenet, photo, method="nope")
    with pytest.raises(featvis.Error, match="^steps: "):
        featvis.attribute(mobilenet, photo, method="ig", steps=0)  # "steps: integrated gradients needs ..."
    with pytest.raises(featvis.Error, match="give one image, not a batch of 2"):
        featvis.attribute(mobilenet, [photo, photo])
    with pytest.raises(featvis.Error, match="clip percentile"):
        featvis.attribute(mobilenet, photo, clip_percentile=0)
    with pytest.raises(featvis.Error, match="window"):
        featvis.attribute(mobilenet, photo, method="occlusion", window=1000)
