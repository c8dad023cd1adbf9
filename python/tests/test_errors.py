"""Bad input raises featvis.Error (a ValueError) with featvis's one-line message."""
import numpy as np
import pytest

import featvis


def test_missing_model():
    with pytest.raises(featvis.Error, match="unknown model 'no_such_model'"):
        featvis.Model("no_such_model")
    assert issubclass(featvis.Error, ValueError)


def test_bad_device():
    with pytest.raises(featvis.Error, match="not a device"):
        featvis.Model("no_such_model", device="toaster")


def test_unknown_layer(mobilenet, photo):
    with pytest.raises(featvis.Error, match="unknown layer 'nope'"):
        mobilenet.activations(photo, ["nope"])


def test_not_an_image(mobilenet, tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    with pytest.raises(featvis.Error, match="cannot read image"):
        mobilenet.classify(str(bad))


def test_wrong_array_size_and_range(mobilenet):
    with pytest.raises(featvis.Error, match="takes 224x224"):
        mobilenet.classify(np.zeros((1, 10, 10, 3), np.float32))
    with pytest.raises(featvis.Error, match=r"\[0, 1\]"):
        mobilenet.classify(np.full((224, 224, 3), 2.0, np.float32))
    with pytest.raises(featvis.Error, match="file path"):
        mobilenet.classify(42)


def test_bad_objective_text(mobilenet):
    with pytest.raises(featvis.Error, match="out of range"):
        featvis.objective.parse("expanded_conv_8/expand:99999", mobilenet)


def test_bad_render_setting(mobilenet):
    with pytest.raises(featvis.Error, match="steps must be >= 0"):
        featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=-1)
    with pytest.raises(featvis.Error, match="learning rate must be positive"):
        featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=1, lr=0)
    with pytest.raises(featvis.Error, match="renders 2 images, the batch is 3"):
        featvis.render(mobilenet, "expanded_conv_8/expand:0-1", steps=1, size=32, batch=3)
    with pytest.raises(featvis.Error, match="size must be at least 1"):
        featvis.render(mobilenet, "expanded_conv_8/expand:7", steps=1, size=0)


def test_objective_of_the_wrong_type(mobilenet):
    with pytest.raises(featvis.Error, match="featvis.Objective or its text form, not int"):
        featvis.render(mobilenet, 42, steps=1)
