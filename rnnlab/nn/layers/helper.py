"""Functions that walk a layer graph: outputs, shapes, parameters and their values.

They return plain PyTensor expressions and numpy arrays; nothing is hidden behind an abstraction.
"""

import difflib
import warnings
from collections import deque

import numpy as np

from .. import utils
from ._arguments import accepted_kwargs
from .input import InputLayer

__all__ = ["get_all_layers", "get_output", "get_output_shape", "get_all_params", "count_params",
           "get_all_param_values", "set_all_param_values"]


def _as_list(layer_or_layers):
    """``(layers, several)``: any iterable is several layers, as in Lasagne; a layer is one."""
    if isinstance(layer_or_layers, (list, tuple)):
        return list(layer_or_layers), True
    try:
        return list(layer_or_layers), True
    except TypeError:
        return [layer_or_layers], False


def _incoming(layer):
    """The layers feeding ``layer``, found by attribute as Lasagne does (duck-typed layers too)."""
    if hasattr(layer, "input_layers"):
        return [l for l in layer.input_layers if l is not None]
    incoming = getattr(layer, "input_layer", None)
    return [incoming] if incoming is not None else []


def _is_layer(thing):
    return hasattr(thing, "get_output_for") or hasattr(thing, "output_shape")


def get_all_layers(layer, treat_as_input=None):
    """Return every layer a network's output depends on, in dependency order.

    Parameters
    ----------
    layer : Layer or list of Layer
        The output layer(s).
    treat_as_input : iterable of Layer, optional
        Layers whose own inputs are not followed.

    Returns
    -------
    list of Layer
        Each layer appears after all layers it depends on (inputs first).

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_layers
    >>> l_in = InputLayer((None, 4))
    >>> l_hid = DenseLayer(l_in, 3)
    >>> l_out = DenseLayer(l_hid, 2)
    >>> get_all_layers(l_out) == [l_in, l_hid, l_out]
    True
    """
    roots, _ = _as_list(layer)
    stop = set(treat_as_input or ())
    done, order = set(), []
    # Iterative depth-first search: a layer is emitted once all its inputs were emitted.
    stack = deque((l, False) for l in reversed(roots))
    while stack:
        current, expanded = stack.pop()
        if current in done:
            continue
        if expanded or current in stop:
            done.add(current)
            order.append(current)
            continue
        stack.append((current, True))
        for parent in reversed(_incoming(current)):
            if parent not in done:
                stack.append((parent, False))
    return order


def _warn_unused(kwargs, layers):
    accepted = accepted_kwargs(layers)
    unused = sorted(set(kwargs) - accepted)
    if not unused:
        return
    hints = []
    for name in unused:
        close = difflib.get_close_matches(name, sorted(accepted), n=1)
        hints.append(f"{name} (did you mean {close[0]!r}?)" if close else name)
    warnings.warn("get_output() was called with unused kwargs: " + ", ".join(hints),
                  stacklevel=3)


def get_output(layer_or_layers, inputs=None, **kwargs):
    """Compute the symbolic output of one or more layers.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    inputs : None, Variable, array_like or dict, optional
        ``None`` uses each :class:`InputLayer`'s ``input_var``; an expression or array is used for
        the network's single input layer; a ``{layer: expression}`` dict substitutes the output of
        any layer (which is then treated as an input).
    **kwargs
        Forwarded to every layer's ``get_output_for`` (e.g. ``deterministic=True``).  Keywords no
        layer accepts trigger a warning with a "did you mean" hint.

    Returns
    -------
    Variable or list of Variable
        Shaped as the layers' ``output_shape``; a list if a list of layers was given.

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_output
    >>> l_in = InputLayer((None, 4))
    >>> l_out = DenseLayer(l_in, 2)
    >>> y = get_output(l_out)
    >>> y.ndim
    2
    >>> get_output(l_out, np.ones((5, 4))).eval().shape
    (5, 2)
    """
    roots, is_list = _as_list(layer_or_layers)
    treat_as_input = list(inputs) if isinstance(inputs, dict) else []
    for key in treat_as_input:
        if not _is_layer(key):
            raise TypeError(f"get_output(): the inputs dict has the key {key!r} of type "
                            f"{type(key).__name__}; expected layers as keys")
    layers = get_all_layers(roots, treat_as_input)
    outputs = {l: l.input_var for l in layers
               if isinstance(l, InputLayer) and l not in treat_as_input}
    if isinstance(inputs, dict):
        outputs.update((l, utils.as_theano_expression(e)) for l, e in inputs.items())
    elif inputs is not None:
        if len(outputs) > 1:
            raise ValueError("get_output() was given a single input expression for a network with "
                             f"{len(outputs)} input layers; pass a {{layer: expression}} dict")
        for l in outputs:
            outputs[l] = utils.as_theano_expression(inputs)
    for layer in layers:
        if layer in outputs:
            continue
        try:
            if hasattr(layer, "input_layers"):
                layer_inputs = [outputs[l] for l in layer.input_layers]
            else:
                layer_inputs = outputs[layer.input_layer]
        except KeyError:
            raise ValueError(f"get_output() was called without an input expression for the "
                             f"free-floating layer {layer!r}; pass a {{layer: expression}} "
                             "dict for it") from None
        outputs[layer] = layer.get_output_for(layer_inputs, **kwargs)
    _warn_unused(kwargs, layers)
    result = [outputs[l] for l in roots]
    return result if is_list else result[0]


def get_output_shape(layer_or_layers, input_shapes=None):
    """Compute the output shape of one or more layers.

    Parameters
    ----------
    layer_or_layers : Layer or list of Layer
    input_shapes : None, tuple or dict, optional
        ``None`` uses the layers' declared shapes; a tuple is the shape of the single input
        layer; a ``{layer: shape}`` dict overrides the output shape of any layer.

    Returns
    -------
    tuple or list of tuple

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_output_shape
    >>> l_out = DenseLayer(InputLayer((None, 4)), 2)
    >>> get_output_shape(l_out)
    (None, 2)
    >>> get_output_shape(l_out, (10, 4))
    (10, 2)
    """
    roots, is_list = _as_list(layer_or_layers)
    if input_shapes is None or input_shapes == {}:
        result = [l.output_shape for l in roots]
        return result if is_list else result[0]
    treat_as_input = list(input_shapes) if isinstance(input_shapes, dict) else []
    layers = get_all_layers(roots, treat_as_input)
    shapes = {l: l.shape for l in layers if isinstance(l, InputLayer) and l not in treat_as_input}
    if isinstance(input_shapes, dict):
        shapes.update(input_shapes)
    else:
        if len(shapes) > 1:
            raise ValueError("get_output_shape() was given one input shape for a network with "
                             f"{len(shapes)} input layers; pass a {{layer: shape}} dict")
        for l in shapes:
            shapes[l] = tuple(input_shapes)
    for layer in layers:
        if layer not in shapes:
            if hasattr(layer, "input_layers"):
                shapes[layer] = layer.get_output_shape_for([shapes[l] for l in layer.input_layers])
            else:
                shapes[layer] = layer.get_output_shape_for(shapes[layer.input_layer])
    result = [shapes[l] for l in roots]
    return result if is_list else result[0]


def get_all_params(layer, unwrap_shared=True, **tags):
    """Return the parameters of every layer below (and including) ``layer``.

    Parameters
    ----------
    layer : Layer or list of Layer
    unwrap_shared : bool
        See :meth:`Layer.get_params`.
    **tags
        ``trainable=True``, ``regularizable=False``, ... filter by tag.

    Returns
    -------
    list of Variable
        Each parameter once, in dependency order of the layers.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_params
    >>> l_out = DenseLayer(DenseLayer(InputLayer((None, 4)), 3, name='h'), 2, name='out')
    >>> [p.name for p in get_all_params(l_out)]
    ['h.W', 'h.b', 'out.W', 'out.b']
    >>> [p.name for p in get_all_params(l_out, regularizable=True)]
    ['h.W', 'out.W']
    """
    params = []
    for l in get_all_layers(layer):
        params.extend(l.get_params(unwrap_shared=unwrap_shared, **tags))
    return utils.unique(params)


def count_params(layer, **tags):
    """Count the scalar parameters of a network.

    Parameters
    ----------
    layer : Layer or list of Layer
    **tags
        As for :func:`get_all_params`.

    Returns
    -------
    int

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, count_params
    >>> l_out = DenseLayer(InputLayer((None, 4)), 3)
    >>> count_params(l_out), count_params(l_out, regularizable=True)
    (15, 12)
    """
    params = get_all_params(layer, **tags)
    return int(sum(np.prod(p.get_value(borrow=True).shape) for p in params))


def get_all_param_values(layer, **tags):
    """Return the values of a network's parameters.

    Parameters
    ----------
    layer : Layer or list of Layer
    **tags
        As for :func:`get_all_params`.

    Returns
    -------
    list of numpy.ndarray
        In the order of :func:`get_all_params`.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer, get_all_param_values
    >>> [v.shape for v in get_all_param_values(DenseLayer(InputLayer((None, 4)), 3))]
    [(4, 3), (3,)]
    """
    return [p.get_value() for p in get_all_params(layer, **tags)]


def set_all_param_values(layer, values, **tags):
    """Set a network's parameter values from a list like :func:`get_all_param_values` returns.

    Parameters
    ----------
    layer : Layer or list of Layer
    values : list of numpy.ndarray
        One array per parameter, in the order of :func:`get_all_params`.
    **tags
        As for :func:`get_all_params`.

    Raises
    ------
    ValueError
        If the number of arrays or any shape does not match.

    Examples
    --------
    >>> from rnnlab.nn.layers import InputLayer, DenseLayer
    >>> from rnnlab.nn.layers import get_all_param_values, set_all_param_values
    >>> l_out = DenseLayer(InputLayer((None, 4)), 3)
    >>> set_all_param_values(l_out, [np.zeros((4, 3)), np.ones(3)])
    >>> get_all_param_values(l_out)[1].tolist()
    [1.0, 1.0, 1.0]
    """
    params = get_all_params(layer, **tags)
    if len(params) != len(values):
        raise ValueError(f"mismatch: got {len(values)} values to set {len(params)} parameters")
    for p, v in zip(params, values):
        v = np.asarray(v)
        current = p.get_value(borrow=True)
        if current.shape != v.shape:
            raise ValueError(f"mismatch: parameter {p.name or p} has shape {current.shape} but "
                             f"the value given has shape {v.shape}")
        p.set_value(v.astype(current.dtype, copy=False))
