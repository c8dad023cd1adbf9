"""featvis.Picture and featvis.contact_sheet: pictures side by side for a notebook."""
import numpy as np
import pytest

import featvis
from test_render import png_size


def test_contact_sheet_scales_small_pictures_to_the_cell():
    black = np.zeros((32, 32, 3), np.float32)
    white_small = np.full((16, 16, 3), 255, np.uint8)
    grey_tall = np.full((3, 32, 16), 0.5, np.float32)  # channels first
    sheet = featvis.contact_sheet([black, white_small, grey_tall], columns=3)
    array = np.asarray(sheet)
    assert array.shape == (32, 3 * 32 + 2 * 4, 3)  # white gaps of 4 pixels
    assert (array[:, :32] == 0).all()
    assert (array[:, 36:68] == 1).all()  # the 16x16 picture fills its cell
    middle = array[:, 72:104]
    assert (middle[:, 8:24] == 0.5).all() and (middle[:, :8] == 1).all()  # centred, white beside
    assert png_size(sheet._repr_png_()) == (104, 32)


def test_picture_round_trip(tmp_path):
    image = np.random.default_rng(0).random((8, 12, 3), dtype=np.float32)
    picture = featvis.Picture(image)
    assert repr(picture) == "featvis.Picture(8x12)"
    np.testing.assert_allclose(picture.array, image)
    picture.save(str(tmp_path / "p.png"))
    assert (tmp_path / "p.png").read_bytes()[:4] == b"\x89PNG"


def test_bad_pictures_raise():
    with pytest.raises(featvis.Error, match="no images"):
        featvis.contact_sheet([])
    with pytest.raises(featvis.Error, match=r"\(H,W,3\) or \(3,H,W\)"):
        featvis.Picture(np.zeros((4, 4)))
