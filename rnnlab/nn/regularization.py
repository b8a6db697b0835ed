"""Weight penalties (Lasagne's ``lasagne.regularization``).

A penalty maps one tensor to a scalar (:func:`l1`, :func:`l2`, or any such function); the helpers
apply it to a layer's, a network's, or an explicit list of parameters and sum the results.  By
default only parameters tagged ``regularizable`` are penalized (layers tag weights, not biases)::

    loss = loss + 1e-4 * regularize_network_params(network, l2)
"""

import pytensor
import pytensor.tensor as pt
from pytensor.graph.basic import Variable

from .layers.base import Layer
from .layers.helper import get_all_params

__all__ = ["l1", "l2", "apply_penalty", "regularize_layer_params",
           "regularize_layer_params_weighted", "regularize_network_params"]


def l1(x):
    """L1 penalty: the sum of absolute values.

    Parameters
    ----------
    x : tensor, any shape

    Returns
    -------
    scalar tensor
        ``sum(|x|)``.

    Examples
    --------
    >>> float(l1(pt.constant(np.array([[1.0, -2.0], [0.5, 0.0]]))).eval())
    3.5
    """
    return pt.sum(abs(x))


def l2(x):
    """L2 penalty: the sum of squares (no factor 1/2, no square root).

    Parameters
    ----------
    x : tensor, any shape

    Returns
    -------
    scalar tensor
        ``sum(x ** 2)``.

    Examples
    --------
    >>> float(l2(pt.constant(np.array([3.0, -4.0]))).eval())
    25.0
    """
    return pt.sum(x ** 2)


def apply_penalty(tensor_or_tensors, penalty, **kwargs):
    """Apply a penalty to a tensor, or to each of several tensors and sum the results.

    Parameters
    ----------
    tensor_or_tensors : tensor or iterable of tensors
        Any shapes.
    penalty : callable
        Maps one tensor (and ``**kwargs``) to a scalar, e.g. :func:`l2`.
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    scalar tensor or int
        The (summed) penalty; the integer 0 for an empty iterable, as in Lasagne (so
        ``loss + apply_penalty([], l2)`` is ``loss``).

    Raises
    ------
    TypeError
        If ``penalty`` is not callable.

    Examples
    --------
    >>> a = pytensor.shared(np.array([1.0, 2.0]))
    >>> b = pytensor.shared(np.array([[3.0]]))
    >>> float(apply_penalty([a, b], l2).eval())
    14.0
    >>> apply_penalty([], l2)
    0
    """
    if not callable(penalty):
        raise TypeError(f"penalty {penalty!r} is not callable; expected a function such as l2")
    if isinstance(tensor_or_tensors, Variable):
        return penalty(tensor_or_tensors, **kwargs)
    total = None
    for x in tensor_or_tensors:
        term = penalty(x, **kwargs)
        total = term if total is None else total + term
    return 0 if total is None else total


def _check_tags(tags):
    if not isinstance(tags, dict):
        raise TypeError(f"tags {tags!r} is not a dict of tag -> bool, "
                        "e.g. {'regularizable': True}")
    return tags


def regularize_layer_params(layer, penalty, tags={"regularizable": True}, **kwargs):
    """Penalize the parameters of one layer or a list of layers (not of the layers below them).

    Parameters
    ----------
    layer : Layer or list of Layer
    penalty : callable
        Maps one tensor to a scalar, e.g. :func:`l2`.
    tags : dict
        Only parameters with these tags (``{tag: True}``) or without them (``{tag: False}``)
        are penalized; default: those tagged ``regularizable``.
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    scalar tensor
        The summed penalty.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, Layer
    >>> layer = Layer(InputLayer((None, 2)))
    >>> W = layer.add_param(np.ones((2, 3)), (2, 3), name='W')
    >>> b = layer.add_param(np.ones(3), (3,), name='b', regularizable=False)
    >>> float(regularize_layer_params(layer, l1).eval())
    6.0
    """
    tags = _check_tags(tags)
    layers = [layer] if isinstance(layer, Layer) else list(layer)
    for lyr in layers:
        if not isinstance(lyr, Layer):
            raise TypeError(f"layer {lyr!r} is not a Layer or a list of Layers")
    params = [p for lyr in layers for p in lyr.get_params(**tags)]
    return apply_penalty(params, penalty, **kwargs)


def regularize_layer_params_weighted(layers, penalty, tags={"regularizable": True}, **kwargs):
    """Penalize the parameters of several layers, each with its own coefficient.

    Parameters
    ----------
    layers : dict of Layer -> float
        Each layer's coefficient (a number or a scalar tensor).
    penalty : callable
        Maps one tensor to a scalar, e.g. :func:`l2`.
    tags : dict
        Which parameters to penalize; see :func:`regularize_layer_params`.
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    scalar tensor
        ``sum(coefficient * penalty of the layer's parameters)``.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, Layer
    >>> l_a = Layer(InputLayer((None, 2)))
    >>> _ = l_a.add_param(np.ones((2, 2)), (2, 2), name='W')
    >>> l_b = Layer(l_a)
    >>> _ = l_b.add_param(np.full((2, 2), 2.0), (2, 2), name='W')
    >>> float(regularize_layer_params_weighted({l_a: 0.5, l_b: 0.25}, l2).eval())
    6.0
    """
    if not isinstance(layers, dict):
        raise TypeError(f"layers of type {type(layers).__name__} is not a dict of Layer -> "
                        "coefficient")
    total = None
    for layer, coefficient in layers.items():
        term = coefficient * regularize_layer_params(layer, penalty, tags, **kwargs)
        total = term if total is None else total + term
    return 0 if total is None else total


def regularize_network_params(layer, penalty, tags={"regularizable": True}, **kwargs):
    """Penalize the parameters of a whole network: the given layer(s) and every layer below.

    Parameters
    ----------
    layer : Layer or list of Layer
        The network's output layer(s).
    penalty : callable
        Maps one tensor to a scalar, e.g. :func:`l2`.
    tags : dict
        Which parameters to penalize; see :func:`regularize_layer_params`.
    **kwargs
        Passed on to ``penalty``.

    Returns
    -------
    scalar tensor
        The summed penalty; each shared parameter is counted once.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, Layer
    >>> l_a = Layer(InputLayer((None, 2)))
    >>> _ = l_a.add_param(np.ones((2, 2)), (2, 2), name='W')
    >>> l_b = Layer(l_a)
    >>> _ = l_b.add_param(np.full((2, 2), 2.0), (2, 2), name='W')
    >>> float(regularize_network_params(l_b, l2).eval())
    20.0
    """
    tags = _check_tags(tags)
    return apply_penalty(get_all_params(layer, **tags), penalty, **kwargs)
