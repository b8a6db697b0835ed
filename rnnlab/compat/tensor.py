"""``theano.tensor`` for Lasagne-era scripts: ``pytensor.tensor`` plus Theano's ``nnet``.

``from rnnlab.compat.theano import tensor as T`` (or ``from rnnlab.compat import tensor as T``)
gives a module on which every name of ``pytensor.tensor`` is PyTensor's own object
(``T.matrix``, ``T.ivector``, ``T.mean``, ``T.tanh``, ``T.grad``...) and ``T.nnet`` is
:mod:`rnnlab.compat.nnet`, the functions Theano kept in ``theano.tensor.nnet``.  The names are
looked up on ``pytensor.tensor`` when asked for; nothing is added to ``pytensor.tensor`` itself.

Examples
--------
>>> from rnnlab.compat.theano import tensor as T
>>> import pytensor.tensor as pt
>>> T.matrix is pt.matrix and T.mean is pt.mean
True
>>> y = T.ivector("y")
>>> y.type.shape, y.dtype
((None,), 'int32')
>>> T.nnet.sigmoid(T.constant(0.0)).eval()
array(0.5...)
>>> hasattr(pt, "nnet")
False
"""

import pytensor.tensor as _pt

from . import nnet


def __getattr__(name):
    """Every other name is ``pytensor.tensor``'s."""
    try:
        return getattr(_pt, name)
    except AttributeError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r} (nor has "
                             "pytensor.tensor, which stands in for theano.tensor here)") from None


def __dir__():
    return sorted(set(globals()) | {n for n in dir(_pt) if not n.startswith("_")})
