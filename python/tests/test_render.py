"""featvis.render through the CLI's render recipe, on the real MobileNetV2."""
import os
import signal
import threading

import numpy as np
import pytest

import featvis
from featvis import objective as fo


def test_render_raises_the_channel(mobilenet):
    layer = mobilenet.resolve("expanded_conv_8/expand")
    result = featvis.render(mobilenet, fo.channel(layer, 7), steps=16, size=64, seed=0)
    assert result.images.shape == (1, 64, 64, 3)
    assert result.images.dtype == np.float32
    assert 0.0 <= result.images.min() and result.images.max() <= 1.0
    assert result.steps_done == 16 and not result.interrupted
    (first_step, first), (last_step, last) = result.history[0], result.history[-1]
    assert first_step == 0 and last_step == 16
    assert last[0] > first[0]


def test_render_text_form_and_batch(mobilenet):
    result = featvis.render(mobilenet, "expanded_conv_8/expand:0-1", steps=2, size=32, thresholds=[1, 2])
    assert result.images.shape == (2, 32, 32, 3)
    assert [step for step, _ in result.history] == [0, 1, 2]
    assert all(len(values) == 2 for _, values in result.history)


def test_render_is_deterministic_for_a_seed(mobilenet):
    run = lambda: featvis.render(mobilenet, "expanded_conv_8/expand:3", steps=2, size=32, seed=5).images
    np.testing.assert_array_equal(run(), run())


def test_python_objective_takes_short_names(mobilenet):
    short = fo.channel("expanded_conv_8/expand", 7) - 0.5 * fo.l1()
    assert str(short) == "expanded_conv_8/expand:7 - 0.5*l1"
    assert str(short.bind(mobilenet)) == "MobileNetV2/expanded_conv_8/expand:7 - 0.5*l1"
    full = featvis.render(mobilenet, short.bind(mobilenet), steps=2, size=32, seed=1)
    np.testing.assert_array_equal(featvis.render(mobilenet, short, steps=2, size=32, seed=1).images, full.images)
    alt = fo.channel("expanded_conv_8/expand", 1) | fo.channel("expanded_conv_8/expand", 2)
    assert featvis.render(mobilenet, alt, steps=1, size=32).images.shape == (2, 32, 32, 3)
    with pytest.raises(featvis.Error, match="unknown layer 'no_such_layer'"):
        featvis.render(mobilenet, fo.channel("no_such_layer", 0) + fo.total_variation(), steps=1)


def test_ctrl_c_returns_what_is_done(mobilenet):
    # SIGINT as Ctrl-C sends it: the loop stops after the current step, nothing raises.
    timer = threading.Timer(1.0, lambda: os.kill(os.getpid(), signal.SIGINT))
    timer.start()
    try:
        result = featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=100000, size=32)
    finally:
        timer.cancel()
    assert result.interrupted
    assert 0 < result.steps_done < 100000
    assert result.images.shape == (1, 32, 32, 3)


def png_size(png):
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png[12:16] == b"IHDR"
    return int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")


def test_result_displays_itself_as_png(mobilenet):
    one = featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=1, size=32)
    assert png_size(one._repr_png_()) == (32, 32)
    two = featvis.render(mobilenet, "expanded_conv_8/expand:0-1", steps=1, size=32)
    width, height = png_size(two._repr_png_())  # a contact sheet: two images and a gap
    assert width > 32 or height > 32


def test_caricature_from_noise_has_the_photo_in_its_batch(mobilenet, photo):
    layer = "expanded_conv_5/expand"
    cari = fo.caricature(layer, photo, power=2)
    assert str(cari) == f"caricature({layer}, {photo}, 2)"
    result = featvis.render(mobilenet, cari - 0.1 * fo.total_variation(), steps=12, size=64, seed=0)
    (_, first), (_, last) = result.history[0], result.history[-1]
    assert result.images.shape == (1, 64, 64, 3)  # the photo's row is not returned
    assert last[0] > first[0]


def test_maco_needs_a_spectrum_and_returns_its_importance_map(mobilenet, tmp_path):
    from conftest import SAMPLES, run_cli
    spectrum = tmp_path / "mnv2.spectrum.npy"
    record = run_cli("spectrum", "mobilenet_v2", "--images", str(SAMPLES), "--limit", "8", "--out", str(spectrum), "-q")
    assert record["shape"] == [3, 224, 113]
    result = featvis.render(mobilenet, "expanded_conv_8/expand:7", param="maco", spectrum=str(spectrum),
                            steps=4, size=96, transforms="crop(0.5,0.8,64)", seed=0)
    assert result.images.shape == (1, 96, 96, 3)
    assert result.importance.shape == (1, 96, 96) and (result.importance >= 0).all()
    assert featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=1, size=32).importance is None
    with pytest.raises(featvis.Error, match="missing.npy"):
        featvis.render(mobilenet, "expanded_conv_8/expand:7", param="maco", steps=1,
                       spectrum=str(tmp_path / "missing.npy"))
