"""PyTensor under Theano's name, for Lasagne-era scripts: ``from rnnlab.compat import theano``.

The names such scripts use are PyTensor's own objects: ``theano.config`` (so
``theano.config.floatX`` is PyTensor's floatX), ``theano.shared``, ``theano.function``,
``theano.grad`` and every other name PyTensor still has (``theano.printing``, ``theano.In``,
``theano.ifelse``...), looked up on ``pytensor`` when asked for.  Two differ from ``import
pytensor as theano``:

* :data:`tensor` is :mod:`rnnlab.compat.tensor`: ``pytensor.tensor`` plus the ``nnet``
  namespace Theano had (:mod:`rnnlab.compat.nnet`);
* :func:`scan` returns Theano's pair ``(outputs, updates)``, which PyTensor's ``scan`` still
  returns by default but with a warning that it will soon return the outputs alone.

Importing this module configures nothing and adds nothing to PyTensor's modules.

Examples
--------
>>> from rnnlab.compat import theano
>>> import pytensor
>>> theano.config is pytensor.config and theano.function is pytensor.function
True
>>> T = theano.tensor
>>> x = T.matrix("x")
>>> f = theano.function([x], T.nnet.softmax(x))
>>> f(np.zeros((1, 4), dtype=theano.config.floatX)).tolist()
[[0.25, 0.25, 0.25, 0.25]]
"""

import warnings

import pytensor
from pytensor import config, function, grad, shared

from . import tensor

__all__ = ["config", "function", "grad", "scan", "shared", "tensor"]


def scan(fn, *args, **kwargs):
    """Theano's ``scan``: ``outputs, updates = theano.scan(fn, sequences=..., ...)``.

    The arguments are PyTensor's ``pytensor.scan`` (``sequences``, ``outputs_info``,
    ``non_sequences``, ``n_steps``, ``truncate_gradient``, ``go_backwards``, ``mode``, ``name``,
    ``strict``...), as in Theano.  What differs is only the return value, kept Theano's: the
    pair of the outputs and the updates (an ordered dict, empty unless ``fn`` updates shared
    variables, e.g. random streams), without PyTensor's warning that its ``scan`` will soon
    return the outputs alone.

    Parameters
    ----------
    fn : callable
        The step: takes one slice of each sequence, the previous value of each recurrent output
        and the non-sequences; returns the new outputs (and updates), as in Theano.
    *args, **kwargs
        Passed on to ``pytensor.scan`` (``return_updates`` may not be given).

    Returns
    -------
    outputs : TensorVariable or list of TensorVariable
        Each output stacked over the steps: shape ``(n_steps,) + step output shape``.
    updates : dict
        The updates to pass to ``theano.function(..., updates=updates)``.

    Examples
    --------
    >>> from rnnlab.compat import theano
    >>> T = theano.tensor
    >>> x = T.vector("x")
    >>> sums, updates = theano.scan(lambda v, total: total + v, sequences=x,
    ...                             outputs_info=T.zeros((), dtype=x.dtype))
    >>> theano.function([x], sums, updates=updates)(np.arange(1, 5, dtype=x.dtype)).tolist()
    [1.0, 3.0, 6.0, 10.0]
    >>> len(updates)
    0
    """
    if "return_updates" in kwargs:
        raise TypeError("theano.scan returns (outputs, updates) as Theano's did: "
                        "return_updates is pytensor.scan's and cannot be given here")
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message="Scan return signature will change",
                                category=DeprecationWarning)
        return pytensor.scan(fn, *args, return_updates=True, **kwargs)


def __getattr__(name):
    """Any other name is PyTensor's (``theano.printing``, ``theano.In``, ``theano.ifelse``...)."""
    try:
        return getattr(pytensor, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (nor has PyTensor, "
                             "which stands in for Theano here)") from None


def __dir__():
    return sorted(set(globals()) | {n for n in dir(pytensor) if not n.startswith("_")})
