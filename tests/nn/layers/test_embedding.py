"""Tests of rnnlab.nn.layers.embedding.EmbeddingLayer."""

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest
from pytensor.gradient import verify_grad

from rnnlab.nn.layers import EmbeddingLayer, InputLayer, get_output, get_output_shape


@pytest.mark.parametrize("input_shape", [(None,), (None, 7), (2, None, 3)])
def test_output_shape_appends_output_size(input_shape):
    layer = EmbeddingLayer(input_shape, input_size=10, output_size=4)
    assert layer.output_shape == input_shape + (4,)
    assert layer.W.get_value().shape == (10, 4)


def test_values_match_numpy_indexing():
    rng = np.random.default_rng(0)
    layers = [EmbeddingLayer(InputLayer((None,), input_var=pt.ivector()), 6, 3),
              EmbeddingLayer(InputLayer((None, None), input_var=pt.imatrix()), 6, 3),
              EmbeddingLayer(InputLayer((2, None, 4), input_var=pt.itensor3()), 6, 2)]
    ids = [rng.integers(0, 6, size=s).astype("int32") for s in [(5,), (3, 7), (2, 3, 4)]]
    inputs = [l.input_layer.input_var for l in layers]
    outputs = pytensor.function(inputs, get_output(layers))(*ids)
    for layer, i, y in zip(layers, ids, outputs):
        assert y.shape == get_output_shape(layer, i.shape)
        np.testing.assert_array_equal(y, layer.W.get_value()[i])


def test_params_and_argument_checks():
    layer = EmbeddingLayer((None, 5), 8, 3, name="emb")
    assert [p.name for p in layer.get_params()] == ["emb.W"]
    assert layer.get_params(trainable=True, regularizable=True) == [layer.W]
    W = np.arange(6.).reshape(3, 2)
    np.testing.assert_array_equal(EmbeddingLayer((None,), 3, 2, W=W).W.get_value(), W)
    with pytest.raises(ValueError, match="should be"):
        EmbeddingLayer((None,), 4, 2, W=W)  # W has 3 rows
    for sizes in [(0, 3), (3, 0), (2.5, 3)]:
        with pytest.raises(ValueError, match="EmbeddingLayer"):
            EmbeddingLayer((None,), *sizes)
    with pytest.raises(TypeError, match="integer"):
        get_output(EmbeddingLayer(InputLayer((None,)), 3, 2))  # default input_var is float


def test_gradient(float64):
    rng = np.random.default_rng(1)
    ids = np.array([[0, 2, 2], [4, 0, 2]], dtype="int32")

    def embed(W):
        return get_output(EmbeddingLayer(InputLayer((None, 3)), 5, 4, W=W), ids)

    verify_grad(embed, [rng.normal(size=(5, 4))], rng=rng, n_tests=1)
    # The gradient of the summed output counts how often each id occurs.
    W = pt.matrix("W")
    grad = pytensor.grad(embed(W).sum(), W).eval({W: np.zeros((5, 4))})
    np.testing.assert_array_equal(grad, np.repeat(np.bincount(ids.ravel(), minlength=5)[:, None],
                                                  4, axis=1))
