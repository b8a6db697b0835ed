"""Tests of rnnlab.nn.layers.merge: concatenation, elementwise merges and cropping."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn.layers import (ConcatLayer, DenseLayer, ElemwiseMergeLayer, ElemwiseSumLayer,
                              InputLayer, autocrop_array_shapes, concat, get_output, get_output_shape)


def evaluate(layers, values):
    """Compile one function for several layers; ``values`` maps InputLayer -> array."""
    inputs = list(values)
    fn = pytensor.function([l.input_var for l in inputs], get_output(layers))
    return fn(*[np.asarray(values[l], dtype=l.input_var.dtype) for l in inputs])


def test_concat_alias():
    assert concat is ConcatLayer


@pytest.mark.parametrize("shapes, axis, expected", [
    ([(None, 3), (None, 2)], 1, (None, 5)),
    ([(None, 3), (5, 2)], 1, (5, 5)),
    ([(None, 3), (4, 3)], 0, (None, 3)),
    ([(2, 3), (4, 3)], 0, (6, 3)),
    ([(None, 4, 3), (None, 4, 2), (None, None, 1)], -1, (None, 4, 6)),
])
def test_concat_output_shape(shapes, axis, expected):
    assert ConcatLayer(shapes, axis=axis).output_shape == expected


@pytest.mark.parametrize("shapes, axis", [
    ([(None, 3, 4), (None, 2, 5)], 1),  # differ off the concatenation axis
    ([(None, 3), (None, 2, 1)], 1),  # different numbers of dimensions
    ([(None, 3), (None, 2)], 2),
])
def test_concat_rejects_mismatched_inputs_when_its_shape_is_asked_as_in_lasagne(shapes, axis):
    layer = ConcatLayer(shapes, axis=axis)       # Lasagne checks in get_output_shape_for
    with pytest.raises(ValueError, match="ConcatLayer"):
        layer.output_shape
    with pytest.raises(ValueError, match="ConcatLayer"):
        DenseLayer(layer, 2)                     # so the next layer's construction fails
    with pytest.raises(ValueError, match="ConcatLayer"):
        ConcatLayer([], axis=axis)


def test_bad_cropping_is_rejected():
    with pytest.raises(ValueError, match="cropping"):
        ConcatLayer([(None, 3), (None, 2)], cropping=["middle"])
    with pytest.raises(ValueError, match="cropping"):
        ElemwiseSumLayer([(None, 3), (None, 2)], cropping="lower")


def test_autocrop_array_shapes():
    shapes = [(1, 5, 7, 2), (1, 3, None, 9), (1, 4, 6, 3)]
    assert autocrop_array_shapes(shapes, None) == shapes
    assert autocrop_array_shapes(shapes, [None, "lower", "upper"]) == [(1, 3, None, 2),
                                                                       (1, 3, None, 9),
                                                                       (1, 3, None, 3)]
    with pytest.raises(ValueError, match="dimensions"):
        autocrop_array_shapes([(1, 2), (1, 2, 3)], ["lower"])


def test_concat_values_with_and_without_cropping():
    rng = np.random.default_rng(0)
    a, b, c = InputLayer((None, 3, 5)), InputLayer((None, 4, 3)), InputLayer((None, 2, 5))
    layers = [ConcatLayer([a, c], axis=1),
              ConcatLayer([a, c], axis=-2),
              ConcatLayer([a, b], axis=1, cropping=[None, None, "lower"]),
              ConcatLayer([a, b], axis=1, cropping=[None, None, "center"]),
              ConcatLayer([a, b], axis=1, cropping=[None, None, "upper"])]
    assert [l.output_shape for l in layers] == [(None, 5, 5)] * 2 + [(None, 7, 3)] * 3
    x = {a: rng.normal(size=(2, 3, 5)), b: rng.normal(size=(2, 4, 3)),
         c: rng.normal(size=(2, 2, 5))}
    outputs = evaluate(layers, x)
    expected = [np.concatenate([x[a], x[c]], axis=1)] * 2 + [
        np.concatenate([x[a][:, :, :3], x[b]], axis=1),
        np.concatenate([x[a][:, :, 1:4], x[b]], axis=1),
        np.concatenate([x[a][:, :, 2:], x[b]], axis=1)]
    for layer, y, e in zip(layers, outputs, expected):
        assert y.shape == get_output_shape(layer, {l: v.shape for l, v in x.items()})
        np.testing.assert_allclose(y, e, rtol=1e-6)


@pytest.mark.parametrize("shapes, expected", [
    ([(None, 3), (4, None)], (4, 3)),
    ([(None, 3), (None, 3), (None, 3)], (None, 3)),
    ([(2, 3), (2, 3)], (2, 3)),
])
def test_elemwise_output_shape(shapes, expected):
    assert ElemwiseMergeLayer(shapes, pt.mul).output_shape == expected
    assert ElemwiseSumLayer(shapes).output_shape == expected


@pytest.mark.parametrize("shapes", [[(None, 3), (None, 2)], [(None, 3), (None, 3, 1)]])
def test_elemwise_rejects_mismatched_inputs_when_its_shape_is_asked(shapes):
    with pytest.raises(ValueError, match="ElemwiseSumLayer"):
        ElemwiseSumLayer(shapes).output_shape
    with pytest.raises(ValueError, match="ElemwiseMergeLayer"):
        ElemwiseMergeLayer(shapes, pt.mul).output_shape
    with pytest.raises(ValueError, match="ElemwiseSumLayer"):
        ElemwiseSumLayer([])


def test_elemwise_argument_checks():
    with pytest.raises(ValueError, match="coeffs"):
        ElemwiseSumLayer([(None, 3), (None, 3)], coeffs=[1, 2, 3])
    with pytest.raises(TypeError, match="merge_function"):
        ElemwiseMergeLayer([(None, 3), (None, 3)], "mul")


def test_elemwise_values():
    rng = np.random.default_rng(1)
    a, b, c = (InputLayer((None, 4)) for _ in range(3))
    d = InputLayer((None, 6))
    layers = [ElemwiseMergeLayer([a, b, c], pt.mul),
              ElemwiseMergeLayer([a, b], pt.maximum),
              ElemwiseSumLayer([a, b, c]),
              ElemwiseSumLayer([a, b], coeffs=2),
              ElemwiseSumLayer([a, b, c], coeffs=[1, -0.5, 3]),
              ElemwiseSumLayer([a, d], cropping=[None, "upper"])]
    x = {l: rng.normal(size=(3, l.shape[1])) for l in (a, b, c, d)}
    xa, xb, xc, xd = (x[l] for l in (a, b, c, d))
    expected = [xa * xb * xc, np.maximum(xa, xb), xa + xb + xc, 2 * (xa + xb),
                xa - 0.5 * xb + 3 * xc, xa + xd[:, 2:]]
    for layer, y, e in zip(layers, evaluate(layers, x), expected):
        assert y.shape == get_output_shape(layer, {l: v.shape for l, v in x.items()})
        assert y.dtype == pytensor.config.floatX
        np.testing.assert_allclose(y, e, rtol=1e-5, atol=1e-6)
