"""Objectives built in Python: the C++ algebra and descriptions, and the text form."""
import numpy as np
import pytest

import featvis
from featvis import objective as fo


def test_kind_descriptions_are_the_cpp_ones():
    # The strings tests/objective/kinds_test.cpp expects of the same C++ calls.
    assert str(fo.channel("a", 1)) == "a:1"
    assert str(fo.neuron("a", 1)) == "a:1@center"
    assert str(fo.neuron("a", 1, x=2, y=0)) == "a:1@2,0"
    assert str(fo.deepdream("a")) == "a"
    assert str(fo.logit("logits", 0)) == "logit:0"
    assert str(fo.probability("logits", 1)) == "prob:1"
    assert str(fo.direction("a", np.array([1.0, 0.0]))) == "direction(a, vector[2])"
    assert str(fo.direction("a", np.array([1.0, 0.0]), cosine=False)) == "dot(a, vector[2])"
    assert str(fo.direction_neuron("a", np.array([1.0, 0.0]), x=1, y=0, cosine=False)) == "dot_neuron(a, vector[2], 1, 0)"
    assert str(fo.diversity("a")) == "diversity(a)"
    assert str(fo.alignment("a", 3)) == "alignment(a, 3)"
    assert str(fo.channel_interpolate("a", 0, "b", 1)) == "channel_interpolate(a:0, b:1)"
    assert str(fo.l1()) == "l1"
    assert str(fo.l1(0)) == "l1(0)"
    assert str(fo.l2(0.5, 1e-8)) == "l2(0.5, 1e-08)"
    assert str(fo.total_variation()) == "tv"


def test_algebra_descriptions_are_the_cpp_ones():
    a, b = fo.channel("a", 1), fo.channel("b", 0)
    assert str(a + b) == "a:1 + b:0"
    assert str(2.5 * (a + b)) == "2.5*(a:1 + b:0)"
    assert str((a + b) * 2) == "(a:1 + b:0)*2"
    assert repr(a) == "featvis.Objective('a:1')"


def test_alternatives_are_one_list():
    a, b, c = fo.channel("a", 1), fo.channel("a", 2), fo.channel("a", 3)
    alt = a | b | c
    assert alt.batch_size == 3
    assert str(alt) == str(fo.per_item([a, b, c]))
    assert (a + b).batch_size == 0
    assert alt.layers == {"a"}


def test_alternatives_of_different_batch_sizes_raise():
    with pytest.raises(featvis.Error):
        (fo.channel("a", 1) | fo.channel("a", 2)) + (fo.channel("a", 1) | fo.channel("a", 2) | fo.channel("a", 3))


def test_python_algebra_equals_text_form(mobilenet):
    layer = mobilenet.resolve("expanded_conv_8/expand")
    built = fo.channel(layer, 7) - 0.5 * fo.diversity(layer)
    parsed = fo.parse(f"{layer}:7 - 0.5*diversity({layer})", mobilenet)
    assert str(built) == str(parsed)
    alt = fo.channel(layer, 1) | fo.channel(layer, 2)
    assert str(alt) == str(fo.parse(f"{layer}:1 | {layer}:2", mobilenet))
    # Short names in the text form become full names.
    assert fo.parse("expanded_conv_8/expand:7", mobilenet).layers == {layer}


# Text-form names whose Python builder is called otherwise.
PYTHON_NAMES = {"prob": "probability", "tv": "total_variation", "dot": "direction", "dot_neuron": "direction_neuron"}


def test_every_kind_of_the_table_has_a_builder():
    kinds = fo.kinds()
    assert "diversity(LAYER)" in [k["signature"] for k in kinds]
    for kind in kinds:
        assert kind["summary"]
        assert callable(getattr(fo, PYTHON_NAMES.get(kind["name"], kind["name"]), None)), kind["name"]
