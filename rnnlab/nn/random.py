"""The random number generator shared by the layer library (Lasagne's ``lasagne.random``).

Initializers (:mod:`rnnlab.nn.init`) draw their samples from :func:`get_rng`, and layers that need
symbolic randomness (dropout, noise) seed their PyTensor random streams from it.  Seeding this one
generator therefore makes parameter initialization and noise reproducible::

    lasagne.random.set_rng(np.random.RandomState(1234))

By default it is numpy's global ``RandomState`` (``np.random.mtrand._rand``), as in Lasagne, so
``np.random.seed`` also seeds it.
"""

import numpy as np

__all__ = ["get_rng", "set_rng"]

_rng = np.random.mtrand._rand


def get_rng():
    """Return the random number generator used by initializers and to seed random streams.

    Returns
    -------
    numpy.random.RandomState
        The module-level generator (numpy's global one unless :func:`set_rng` replaced it).

    Examples
    --------
    >>> rng = get_rng()
    >>> rng.uniform(size=(2, 3)).shape
    (2, 3)
    """
    return _rng


def set_rng(new_rng):
    """Replace the random number generator returned by :func:`get_rng`.

    Parameters
    ----------
    new_rng : numpy.random.RandomState
        The new generator; anything with ``RandomState``'s sampling methods (``normal``,
        ``uniform``, ``randint``, ...) is accepted.

    Returns
    -------
    None

    Raises
    ------
    TypeError
        If ``new_rng`` has no ``uniform``/``normal``/``randint`` methods.

    Examples
    --------
    >>> old = get_rng()
    >>> set_rng(np.random.RandomState(42))
    >>> a = get_rng().randint(1000)
    >>> set_rng(np.random.RandomState(42))
    >>> a == get_rng().randint(1000)
    True
    >>> set_rng(old)
    """
    global _rng
    missing = [m for m in ("uniform", "normal", "randint") if not hasattr(new_rng, m)]
    if missing:
        raise TypeError(f"new_rng of type {type(new_rng).__name__} lacks {', '.join(missing)}; "
                        "expected a numpy.random.RandomState")
    _rng = new_rng
