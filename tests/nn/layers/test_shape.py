"""Tests of rnnlab.nn.layers.shape: reshape, flatten, dimshuffle, slice."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab.nn.layers import (DimshuffleLayer, FlattenLayer, InputLayer, PadLayer, ReshapeLayer,
                              SliceLayer, dimshuffle, flatten, get_output, get_output_shape, pad, reshape)


def evaluate(layers, arrays):
    """Compile one function for several single-input layers; return their outputs and it."""
    inputs = [_input_layer(layer).input_var for layer in layers]
    fn = pytensor.function(inputs, get_output(layers), on_unused_input="ignore")
    return fn(*[np.asarray(a, dtype=v.dtype) for a, v in zip(arrays, inputs)]), fn


def _input_layer(layer):
    while not isinstance(layer, InputLayer):
        layer = layer.input_layer
    return layer


def test_aliases():
    assert reshape is ReshapeLayer and flatten is FlattenLayer and dimshuffle is DimshuffleLayer


@pytest.mark.parametrize("input_shape, spec, expected", [
    ((None, 100, 20), ([0], [1], 5, -1), (None, 100, 5, 4)),
    ((None, 10), ([0], 2, 5), (None, 2, 5)),
    ((None, 100, 20), (-1, 20), (None, 20)),
    ((4, 10), (-1,), (40,)),
    ((4, 10), (8, -1), (8, 5)),
    ((None, None), ([1], [0]), (None, None)),
    ((None, 4), ([0], [0], -1), (None, None, None)),
    ((None, 4), (2, [1], -1), (2, 4, None)),
    ((None, 6), ([0], pt.constant(3), -1), (None, None, None)),
])
def test_reshape_output_shape(input_shape, spec, expected):
    assert ReshapeLayer(input_shape, spec).output_shape == expected


@pytest.mark.parametrize("input_shape, spec", [
    ((None, 10), ([0], 3, -1)),  # 10 does not divide by 3
    ((4, 10), (7, -1)),
    ((4, 10), (5, 7)),
    ((3, 4), ([0], [0], -1)),  # 12 elements cannot fill (3, 3, k)
    ((None, 10), (-1, -1)),
    ((None, 10), ([0], 0, 10)),
    ((None, 10), ([0], -2)),
    ((None, 10), ([2], 10)),
    ((None, 10), ([0, 1], 10)),
    ((None, 10), ("a", 10)),
    ((None, 10), 10),
    ((None, 10), ([0], pt.constant(1.5))),
])
def test_reshape_rejects_impossible_shapes(input_shape, spec):
    with pytest.raises(ValueError, match="ReshapeLayer"):
        ReshapeLayer(input_shape, spec)


def test_reshape_values_match_numpy():
    rng = np.random.default_rng(0)
    cases = [((None, 6, 4), ([0], 3, -1), (2, 6, 4)),
             ((None, 4, 5), ([0], [2], [1]), (3, 4, 5)),
             ((None, 3), (-1,), (5, 3)),
             ((4, None), (2, -1), (4, 5)),
             ((None, 2, None), ([2], -1, [0]), (3, 2, 7))]
    layers = [ReshapeLayer(InputLayer(shape), spec) for shape, spec, _ in cases]
    arrays = [rng.normal(size=concrete) for _, _, concrete in cases]
    outputs, _ = evaluate(layers, arrays)
    for layer, x, y in zip(layers, arrays, outputs):
        concrete_shape = get_output_shape(layer, x.shape)
        assert None not in concrete_shape
        assert y.shape == concrete_shape
        np.testing.assert_allclose(y, x.reshape(concrete_shape), rtol=1e-6)
        # The declared shape agrees wherever it is known.
        assert all(d is None or d == c for d, c in zip(layer.output_shape, y.shape))


def test_flatten_values_and_shapes():
    rng = np.random.default_rng(1)
    l_in = InputLayer((None, 2, 3, 4))
    layers = [FlattenLayer(l_in, outdim=d) for d in (1, 2, 3, 4)]
    assert [l.output_shape for l in layers] == [(None,), (None, 24), (None, 2, 12),
                                                (None, 2, 3, 4)]
    x = rng.normal(size=(5, 2, 3, 4)).astype(l_in.input_var.dtype)
    outputs = pytensor.function([l_in.input_var], get_output(layers))(x)
    for layer, y in zip(layers, outputs):
        assert y.shape == get_output_shape(layer, x.shape)
        np.testing.assert_array_equal(y, x.reshape(y.shape))
    assert FlattenLayer((None, 3, None)).output_shape == (None, None)


@pytest.mark.parametrize("outdim", [0, 1.5])
def test_flatten_rejects_bad_outdim(outdim):
    with pytest.raises(ValueError, match="outdim"):
        FlattenLayer((None, 2, 3), outdim=outdim)


def test_flatten_checks_outdim_against_the_input_when_its_shape_is_asked():
    layer = FlattenLayer((None, 2, 3), outdim=4)   # as Lasagne: no check against the input yet
    with pytest.raises(ValueError, match="outdim=4"):
        layer.output_shape


def test_reshape_takes_any_iterable_and_symbolic_sizes():
    l_in = InputLayer((None, 6))
    assert ReshapeLayer(l_in, iter([[0], 2, 3])).output_shape == (None, 2, 3)
    half = l_in.input_var.shape[1] // 2
    layer = ReshapeLayer(l_in, ([0], half, -1))
    assert layer.output_shape == (None, None, None)
    x = np.zeros((4, 6), l_in.input_var.dtype)
    assert get_output(layer).eval({l_in.input_var: x}).shape == (4, 3, 2)
    with pytest.raises(ValueError, match="must be a tuple"):
        ReshapeLayer(l_in, 6)


def test_dimshuffle_values_shapes_and_runtime_drop_check():
    rng = np.random.default_rng(2)
    l_perm = DimshuffleLayer(InputLayer((None, 3, 4)), (1, "x", 0, 2))
    l_drop_known = DimshuffleLayer(InputLayer((2, 1, 3)), (2, 0))
    l_drop_unknown = DimshuffleLayer(InputLayer((None, None)), (0,))
    assert l_perm.output_shape == (3, 1, None, 4)
    assert l_drop_known.output_shape == (3, 2)
    assert l_drop_unknown.output_shape == (None,)
    layers = [l_perm, l_drop_known, l_drop_unknown]
    arrays = [rng.normal(size=(5, 3, 4)), rng.normal(size=(2, 1, 3)), rng.normal(size=(6, 1))]
    outputs, fn = evaluate(layers, arrays)
    expected = [arrays[0].transpose(1, 0, 2)[:, None], arrays[1][:, 0].T, arrays[2][:, 0]]
    for layer, x, y, e in zip(layers, arrays, outputs, expected):
        assert y.shape == get_output_shape(layer, x.shape)
        np.testing.assert_allclose(y, e, rtol=1e-6)
    # A dropped dimension of unknown size is checked to be 1 when the function runs.
    with pytest.raises(AssertionError, match="SpecifyShape"):
        fn(*[a.astype(pytensor.config.floatX) for a in arrays[:2]],
           np.zeros((6, 2), dtype=pytensor.config.floatX))


@pytest.mark.parametrize("input_shape, pattern", [
    ((None, 3), (0,)),  # drops a dimension of size 3
    ((None, 3), (0, 0)),
    ((None, 3), (0, 2)),
    ((None, 3), (0, "y")),
    ((None, 3), (0, -1)),
])
def test_dimshuffle_rejects_bad_patterns(input_shape, pattern):
    with pytest.raises(ValueError, match="DimshuffleLayer"):
        DimshuffleLayer(input_shape, pattern)


def test_slice_values_and_shapes():
    rng = np.random.default_rng(3)
    specs = [(-1, 1), (0, -1), (slice(2, None, 3), 1), (slice(None, 2), -1), (slice(-3, None), 0)]
    layers = [SliceLayer(InputLayer((None, 10, 3)), idx, axis=axis) for idx, axis in specs]
    assert [l.output_shape for l in layers] == [(None, 3), (None, 10), (None, 3, 3),
                                                (None, 10, 2), (None, 10, 3)]
    arrays = [rng.normal(size=(4, 10, 3)) for _ in specs]
    outputs, _ = evaluate(layers, arrays)
    for (idx, axis), layer, x, y in zip(specs, layers, arrays, outputs):
        index = [slice(None)] * 3
        index[axis] = idx
        np.testing.assert_allclose(y, x[tuple(index)], rtol=1e-6)
        assert y.shape == get_output_shape(layer, x.shape)


@pytest.mark.parametrize("indices, axis", [(10, 1), (-11, 1), (0, 3), (0, -4), ("a", 1),
                                           (0, 1.0)])
def test_slice_rejects_bad_arguments(indices, axis):
    with pytest.raises(ValueError, match="SliceLayer"):
        SliceLayer((None, 10, 3), indices, axis=axis)


@pytest.mark.parametrize("width, batch_ndim, expected_widths", [
    (1, 2, [(0, 0), (0, 0), (1, 1), (1, 1)]),
    ([2, (0, 3)], 2, [(0, 0), (0, 0), (2, 2), (0, 3)]),
    ([(1, 0), 0, 2], 1, [(0, 0), (1, 0), (0, 0), (2, 2)]),
    ([(2, 1)], 2, [(0, 0), (0, 0), (2, 1), (0, 0)]),          # a short list: the first axes
])
def test_pad_layer_against_numpy(width, batch_ndim, expected_widths):
    x = np.arange(2 * 3 * 4 * 5, dtype=pytensor.config.floatX).reshape(2, 3, 4, 5)
    layer = pad(InputLayer((None, 3, 4, None)), width, val=-1, batch_ndim=batch_ndim)
    assert isinstance(layer, PadLayer)
    expected = np.pad(x, expected_widths, constant_values=-1)
    assert layer.output_shape == (None,) + expected.shape[1:3] + (None,)
    np.testing.assert_array_equal(get_output(layer, x).eval(), expected)


def test_pad_layer_rejects_bad_widths():
    for width in ([1, 2, 3], [(1, -1), 0], 1.5):
        with pytest.raises(ValueError, match="PadLayer"):
            PadLayer((None, 3, 4, 5), width)
    with pytest.raises(ValueError, match="batch_ndim"):
        PadLayer((None, 3), 1, batch_ndim=2)


def test_slice_layer_keeps_lasagnes_attribute_and_input_layer_takes_numpy_sizes():
    assert SliceLayer((None, 5), slice(1, 3)).slice == slice(1, 3)
    sizes = np.zeros((7, 3)).shape                     # numpy ints, e.g. from X.shape
    assert InputLayer((None, np.int64(sizes[1]))).shape == (None, 3)
