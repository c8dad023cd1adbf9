"""featvis.examples (dataset examples) and featvis.microscope.build: the CLI's work, from Python."""
import json
import os
import signal
import threading
import time

import numpy as np
import pytest

import featvis
from conftest import SAMPLES, run_cli
from test_render import png_size

LAYER = "expanded_conv_8/expand"


@pytest.fixture(scope="module")
def photos(tmp_path_factory):
    """A folder of 12 sample photos (links), so that a scan takes a few seconds."""
    if not SAMPLES.is_dir():
        pytest.skip(f"sample photos absent: {SAMPLES}")
    folder = tmp_path_factory.mktemp("photos")
    for path in sorted(SAMPLES.glob("*.JPEG"))[:12]:
        (folder / path.name).symlink_to(path.resolve())
    return str(folder)


@pytest.fixture(scope="module")
def scanned(mobilenet, photos, tmp_path_factory):
    out = str(tmp_path_factory.mktemp("examples"))
    return featvis.examples(mobilenet, photos, out, [LAYER], top=3, batch=4, thumbnail=64, progress=False)


def test_examples_equal_the_cli(mobilenet, photos, scanned, tmp_path):
    assert not scanned.interrupted and scanned.images == scanned.images_done == 12
    assert scanned.layers == [mobilenet.resolve(LAYER)]
    run_cli("examples", "mobilenet_v2", "--images", photos, "--out", str(tmp_path), "--layers", LAYER, "--top", "3",
            "--batch", "4", "--thumbnail", "64")
    ours = json.load(open(os.path.join(scanned.dir, "index.json")))
    cli = json.load(open(tmp_path / "index.json"))
    assert ours["images"] == cli["images"]
    for a, b in zip(ours["layers"][0]["units"], cli["layers"][0]["units"]):
        assert [e["image"] for e in a["top_max"]] == [e["image"] for e in b["top_max"]]
        assert [e["score"] for e in a["top_mean"]] == pytest.approx([e["score"] for e in b["top_mean"]], abs=1e-5)


def test_unit_entries_crops_and_sheet(mobilenet, scanned):
    top = scanned.unit(LAYER, 5)
    assert len(top) == 3
    assert top[0]["score"] >= top[1]["score"] >= top[2]["score"]
    assert os.path.isfile(top[0]["image"]) and os.path.isfile(top[0]["crop"])
    x0, y0, x1, y1 = top[0]["box"]
    assert 0 <= x0 < x1 <= 224 and 0 <= y0 < y1 <= 224
    assert len(scanned.unit(LAYER, 5, "bottom_mean")) == 3
    crops = scanned.crops(LAYER, 5)
    assert len(crops) == 3 and all(c.ndim == 3 and c.shape[2] == 3 and max(c.shape[:2]) <= 64 for c in crops)
    width, height = png_size(scanned.sheet(LAYER, 5)._repr_png_())
    assert width > 64 or height > 64
    again = featvis.load_examples(mobilenet, scanned.dir)
    assert again.unit(LAYER, 5) == top
    with pytest.raises(featvis.Error, match="unit 99999 is out of range"):
        scanned.unit(LAYER, 99999)
    with pytest.raises(featvis.Error, match="was not scanned"):
        scanned.unit("expanded_conv_10/expand", 0)
    with pytest.raises(featvis.Error, match="unknown examples list"):
        scanned.unit(LAYER, 0, "best")


def test_examples_ctrl_c_keeps_a_checkpoint(mobilenet, tmp_path):
    if len(list(SAMPLES.glob("*.JPEG"))) < 500:
        pytest.skip("needs the 1000 sample photos")
    # Ctrl-C as soon as the first batch is saved, not after a fixed time: a fast machine
    # scans the 1000 photos before any fixed delay ends.
    saved = tmp_path / "checkpoint.cbor"
    finished = threading.Event()

    def interrupt_once_saved():
        while not finished.is_set():
            if saved.is_file():
                os.kill(os.getpid(), signal.SIGINT)
                return
            time.sleep(0.001)

    watcher = threading.Thread(target=interrupt_once_saved, daemon=True)
    watcher.start()
    try:
        result = featvis.examples(mobilenet, str(SAMPLES), str(tmp_path), ["Conv2d_0_0"], batch=2,
                                  checkpoint_every=1, progress=False)
    finally:
        finished.set()
        watcher.join()
    assert result.interrupted
    assert 0 < result.images_done < result.images
    assert (tmp_path / "checkpoint.cbor").is_file()
    with pytest.raises(featvis.Error, match="interrupted"):
        result.unit("Conv2d_0_0", 0)


def test_microscope_build_and_resume(mobilenet, scanned, tmp_path):
    site = str(tmp_path / "site")
    summary = featvis.microscope.build(mobilenet, site, [LAYER], units=2, steps=2, size=32, batch=2, diversity=0,
                                       examples=scanned, progress=False)
    assert summary["units_rendered"] == 2 and not summary["interrupted"]
    assert "examples" in " ".join(summary["lenses"])
    manifest = json.load(open(summary["manifest"]))
    assert manifest
    assert os.path.isfile(os.path.join(site, "index.html"))
    again = featvis.microscope.build(mobilenet, site, [LAYER], units=2, steps=2, size=32, batch=2, diversity=0,
                                     examples=scanned.dir, resume=True, progress=False)
    assert again["units_rendered"] == 0 and again["units_skipped"] == 2
    with pytest.raises(featvis.Error, match="units"):
        featvis.microscope.build(mobilenet, site, [LAYER], units="many", progress=False)
    cppn = featvis.microscope.build(mobilenet, str(tmp_path / "cppn"), [LAYER], units=1, steps=2, size=32, batch=1,
                                    diversity=0, param="cppn", progress=False)
    assert json.load(open(os.path.join(cppn["model_dir"], "build.json")))["param"] == "cppn"
    with pytest.raises(featvis.Error, match="unknown parameterization 'wavelet'"):
        featvis.microscope.build(mobilenet, str(tmp_path / "w"), [LAYER], units=1, param="wavelet", progress=False)


def test_microscope_lenses_image_format_shards_and_finalize(mobilenet, scanned, tmp_path, monkeypatch):
    """lenses, image_format and shard as `microscope build --lenses/--image-format/--shard`, then finalize:
    two shards (one from SLURM's variables) give the same files as one call."""
    kw = dict(units=2, steps=2, size=32, batch=1, diversity=0, examples=scanned, lenses=["examples", "channel"],
              image_format="png", progress=False)
    one = str(tmp_path / "one")
    whole = featvis.microscope.build(mobilenet, one, [LAYER], **kw)
    assert whole["lenses"] == ["channel", "examples"] and whole["shard"] is None
    record = json.load(open(os.path.join(whole["model_dir"], "build.json")))
    assert record["image_format"] == "png" and record["selected_lenses"] == ["channel", "examples"]
    unit = os.path.join(whole["model_dir"], "MobileNetV2_expanded_conv_8_expand", "0")
    assert os.path.isfile(os.path.join(unit, "channel.png")) and not os.path.exists(os.path.join(unit, "neuron.png"))
    assert sorted(json.load(open(os.path.join(unit, "unit.json")))["lenses"]) == ["channel", "examples"]

    sharded = str(tmp_path / "sharded")
    first = featvis.microscope.build(mobilenet, sharded, [LAYER], shard="0/2", **kw)
    assert first["shard"] == (0, 2) and first["manifest"] == ""
    partial = featvis.microscope.finalize(mobilenet, sharded, shards=2)
    assert partial["missing"] and all("(shard 1/2)" in m for m in partial["missing"]), partial
    monkeypatch.setenv("SLURM_ARRAY_TASK_ID", "1")
    monkeypatch.setenv("SLURM_ARRAY_TASK_COUNT", "2")
    monkeypatch.setenv("SLURM_ARRAY_TASK_MIN", "0")
    second = featvis.microscope.build(mobilenet, sharded, [LAYER], shard="env", **kw)
    assert second["shard"] == (1, 2) and second["units_rendered"] + first["units_rendered"] == 2
    done = featvis.microscope.finalize(mobilenet, sharded)
    assert done["missing"] == [] and done["units"] == 2 and done["manifest"]

    def files(root):
        return {os.path.relpath(os.path.join(d, f), root) for d, _, fs in os.walk(root) for f in fs}
    assert files(one) == files(sharded)
    for f in files(one):
        assert open(os.path.join(one, f), "rb").read() == open(os.path.join(sharded, f), "rb").read(), f

    with pytest.raises(featvis.Error, match="different|lenses"):  # another selection does not join the build
        featvis.microscope.build(mobilenet, sharded, [LAYER], **{**kw, "lenses": ["channel"]}, shard="0/2")
    with pytest.raises(featvis.Error, match=r"unknown lens 'dreams' \(known: channel, neuron"):
        featvis.microscope.build(mobilenet, str(tmp_path / "x"), [LAYER], **{**kw, "lenses": ["dreams"]})
    with pytest.raises(featvis.Error, match="webp"):
        featvis.microscope.build(mobilenet, str(tmp_path / "x"), [LAYER], **{**kw, "image_format": "gif"})
    with pytest.raises(featvis.Error, match="shard"):
        featvis.microscope.build(mobilenet, str(tmp_path / "x"), [LAYER], **kw, shard="2/2")
    with pytest.raises(featvis.Error, match="no microscope build"):
        featvis.microscope.finalize(mobilenet, str(tmp_path / "x"))
