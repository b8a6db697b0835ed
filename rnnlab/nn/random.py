"""The random number generator shared by the layer library (Lasagne's ``lasagne.random``).

Initializers (:mod:`rnnlab.nn.init`) draw their samples from :func:`get_rng`, and layers that need
symbolic randomness (dropout, noise) seed their PyTensor random streams from it.  Seeding this one
generator therefore makes parameter initialization and noise reproducible::

    lasagne.random.set_rng(np.random.RandomState(1234))

By default it is numpy's global ``RandomState`` (``np.random.mtrand._rand``), as in Lasagne, so
``np.random.seed`` also seeds it.  :class:`RandomStreams` is what the random layers keep as
``layer._srng``, where Lasagne kept Theano's ``MRG_RandomStreams``.
"""

import warnings

import numpy as np
import pytensor.tensor as pt

__all__ = ["get_rng", "set_rng", "RandomStreams"]

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


class RandomStreams:
    """Self-advancing PyTensor random generators for the layers that draw noise.

    Each :meth:`draw` gets its own shared generator, seeded from this object's seed sequence
    and registered as a *default update*: a function compiled with ``pytensor.function`` advances
    it on each call, so each call draws new numbers (as Theano's ``RandomStreams`` did for
    Lasagne's dropout).

    Parameters
    ----------
    seed : int, optional
        Default: drawn from :func:`get_rng` (``randint(1, 2147462579)``, as Lasagne seeded its
        streams), so seeding that generator makes the noise reproducible.

    Attributes
    ----------
    rngs : list of SharedVariable
        Every generator variable handed out, in order.

    Examples
    --------
    >>> import pytensor
    >>> streams = RandomStreams(seed=3)
    >>> draw = pytensor.function([], streams.draw("uniform", 0.0, 1.0, size=(2,)))
    >>> first, second = draw(), draw()          # each call advances the generator
    >>> first.shape, bool((first != second).all())
    ((2,), True)
    >>> streams.seed(3)                         # back to the start, as Lasagne's _srng.seed(3)
    >>> bool((draw() == first).all())
    True
    """

    def __init__(self, seed=None):
        self.rngs = []
        self._seed = get_rng().randint(1, 2147462579) if seed is None else seed
        self._seeds = np.random.default_rng(self._seed)

    def _generator(self):
        return np.random.default_rng(self._seeds.integers(2 ** 31))

    def draw(self, method, *args, **kwargs):
        """A symbolic sample of ``pytensor.tensor.random``'s ``method``, from a fresh generator.

        Parameters
        ----------
        method : str
            ``"uniform"``, ``"normal"``, ``"bernoulli"``, ...: a method of PyTensor's random
            generator variables.
        *args, **kwargs
            Its arguments (``size=`` gives the sample's shape).

        Returns
        -------
        TensorVariable
            The sample, shaped by ``size``.
        """
        rng = pt.random.shared_rng(self._generator())
        next_rng, sample = getattr(rng, method)(*args, **kwargs)
        # PyTensor deprecates default updates in favour of explicit ``updates``, but they are
        # the only way to keep Lasagne's ``theano.function(inputs, loss, updates=updates)``
        # drawing fresh noise on every call without the caller knowing about generators.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            rng.default_update = next_rng
        self.rngs.append(rng)
        return sample

    def seed(self, seed):
        """Reseed every generator handed out so far, and those to come, from ``seed``.

        Parameters
        ----------
        seed : int
            The same seed gives the same numbers again, in functions already compiled too.
        """
        self._seed, self._seeds = seed, np.random.default_rng(seed)
        for rng in self.rngs:
            rng.set_value(self._generator(), borrow=True)
