"""Long calls: progress bars Python shows (tqdm, or plain lines), the GIL released while
the C++ engine works, and Ctrl-C (see also test_render.py and test_examples.py)."""
import sys
import threading
import time

import pytest

import featvis

LAYER = "expanded_conv_8/expand:7"


def test_render_progress_with_tqdm(mobilenet, capsys):
    pytest.importorskip("tqdm")
    featvis.render(mobilenet, LAYER, steps=4, size=32, progress=True)
    err = capsys.readouterr().err
    assert "render" in err and "4/4" in err and "100%" in err


def test_render_progress_without_tqdm(mobilenet, capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm.std", None)  # import tqdm.std now fails
    featvis.render(mobilenet, LAYER, steps=4, size=32, progress=True)
    assert "render: 4/4 (100%)" in capsys.readouterr().err


def test_no_progress_when_off(mobilenet, capsys):
    featvis.render(mobilenet, LAYER, steps=2, size=32, progress=False)
    assert capsys.readouterr().err == ""


def longest_pause_of_a_python_thread(call):
    """Runs call() while another Python thread ticks; returns (call seconds, the longest
    time the ticking thread waited for the GIL)."""
    ticks, done = [], threading.Event()

    def tick():
        while not done.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    thread = threading.Thread(target=tick, daemon=True)
    thread.start()
    time.sleep(0.05)
    start = time.perf_counter()
    try:
        call()
    finally:
        seconds = time.perf_counter() - start
        done.set()
        thread.join()
    during = [t for t in ticks if t >= start - 0.01]
    return seconds, max(b - a for a, b in zip(during, during[1:]))


@pytest.mark.parametrize("work", ["render", "attribute"])
def test_the_gil_is_released(mobilenet, photo, work):
    if work == "render":
        call = lambda: featvis.render(mobilenet, LAYER, steps=16, size=128, progress=False)
    else:
        call = lambda: featvis.attribute(mobilenet, photo, method="ig", steps=16)
    seconds, pause = longest_pause_of_a_python_thread(call)
    # Holding the GIL would pause the thread for the whole call (measured at 1 thread:
    # render 6 steps at 96 px 0.36 s, longest pause 0.06 s; ig 3.0 s, longest pause 0.05 s).
    assert seconds > 0.1
    assert pause < seconds / 2, (seconds, pause)
