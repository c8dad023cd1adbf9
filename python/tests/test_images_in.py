"""Images in every form Python holds them: the same pixels give the same network input."""
import numpy as np
import pytest

import featvis

PIL = pytest.importorskip("PIL.Image")


@pytest.fixture(scope="module")
def photo_png(photo, tmp_path_factory):
    """The sample photo as a PNG: PIL and featvis then read the very same pixels
    (their JPEG decoders differ by a few levels)."""
    path = tmp_path_factory.mktemp("images") / "photo.png"
    PIL.open(photo).convert("RGB").save(path)
    return str(path)


def logits(model, images):
    name = model.card["output"]
    return model.activations(images, name)[name].reshape(-1, 1000)


def test_pil_image_and_uint8_photo_equal_the_file(mobilenet, photo_png):
    from_file = logits(mobilenet, photo_png)
    image = PIL.open(photo_png)
    assert image.size != (224, 224)  # so the card's crop is what makes them equal
    # The file goes through one preprocessing step, arrays through [0,1] first: a float32
    # rounding apart (measured max difference 3.1e-6 on logits up to 8.9).
    np.testing.assert_allclose(logits(mobilenet, image), from_file, atol=1e-3)
    np.testing.assert_allclose(logits(mobilenet, np.asarray(image)), from_file, atol=1e-3)
    assert logits(mobilenet, image.convert("L")).shape == (1, 1000)  # grey: made RGB


def test_strided_arrays_are_read_in_place_alike(mobilenet):
    rng = np.random.default_rng(1)
    big = rng.random((2, 448, 448, 3), dtype=np.float32)
    view = big[:, ::2, ::2, :]  # strided, not contiguous
    expected = logits(mobilenet, np.ascontiguousarray(view))  # measured: bitwise equal
    np.testing.assert_allclose(logits(mobilenet, view), expected, atol=1e-5)
    nchw = np.ascontiguousarray(view.transpose(0, 3, 1, 2))
    np.testing.assert_allclose(logits(mobilenet, nchw), expected, atol=1e-5)
    # Negative strides (a mirror view) cannot be borrowed: read through a copy.
    mirrored = view[:, :, ::-1, :]
    np.testing.assert_allclose(logits(mobilenet, mirrored), logits(mobilenet, np.ascontiguousarray(mirrored)), atol=1e-5)
    # float64 is cast.
    np.testing.assert_allclose(logits(mobilenet, view.astype(np.float64)), expected, atol=1e-5)


def test_array_outlives_nothing(mobilenet):
    # The module keeps the array alive while it reads it: a temporary works.
    got = logits(mobilenet, np.full((224, 224, 3), 0.5, np.float32) + 0)
    assert got.shape == (1, 1000) and np.isfinite(got).all()


def test_mixed_list(mobilenet, photo_png):
    image = PIL.open(photo_png)
    batch = logits(mobilenet, [photo_png, image, np.zeros((224, 224, 3), np.uint8)])
    assert batch.shape == (3, 1000)
    np.testing.assert_allclose(batch[1], batch[0], atol=1e-3)


def test_torch_tensor_needing_grad(mobilenet):
    torch = pytest.importorskip("torch")
    images = torch.rand(1, 3, 224, 224, generator=torch.Generator().manual_seed(0), requires_grad=True)
    expected = logits(mobilenet, images.detach().numpy())
    np.testing.assert_allclose(logits(mobilenet, images), expected, atol=1e-5)


def test_bad_images_raise(mobilenet):
    with pytest.raises(featvis.Error, match="takes 224x224; pass uint8 photos"):
        mobilenet.classify(np.zeros((100, 120, 3), np.float32))
    with pytest.raises(featvis.Error, match="not dict"):
        mobilenet.classify({})
    with pytest.raises(featvis.Error, match="the list is empty"):
        mobilenet.classify([])
    with pytest.raises(featvis.Error, match="RGB pixels"):
        mobilenet.classify(np.zeros((224, 224), np.uint8))


def test_crop_is_what_the_network_sees(mobilenet, photo):
    crop = mobilenet.crop(photo)
    assert crop.shape == (1, 224, 224, 3) and crop.dtype == np.float32
    assert 0 <= crop.min() and crop.max() <= 1
    # Through [0,1] and back: a float32 rounding apart (measured 2.7e-6 on logits up to 8.9).
    np.testing.assert_allclose(logits(mobilenet, crop), logits(mobilenet, photo), atol=1e-3)
    assert len(mobilenet.labels) >= 1000 and "tench" in mobilenet.labels[0]
