"""rnnlab.compat: opt-in stand-ins for Theano names that PyTensor dropped or renamed.

Lasagne-era scripts write ``import theano`` and ``import theano.tensor as T`` and call
``T.nnet.categorical_crossentropy`` and friends, but PyTensor removed ``theano.tensor.nnet``.
Here live three small modules for such scripts:

=====================  =========================================================================
:mod:`.theano`         ``from rnnlab.compat import theano``: PyTensor under Theano's name
                       (``theano.config``, ``shared``, ``function``, ``scan``, ``grad``...)
:mod:`.tensor`         ``theano.tensor``: every name of ``pytensor.tensor`` plus ``nnet``
:mod:`.nnet`           ``theano.tensor.nnet``: Theano's ``T.nnet`` functions with Theano's
                       semantics, built from PyTensor operations
=====================  =========================================================================

Nothing in rnnlab imports this package: it is for scripts that opt in.  Importing it configures
nothing (PyTensor's flags, floatX and mode stay as they were) and adds no attribute to PyTensor's
own modules: ``pytensor.tensor`` never grows an ``nnet``.  ``rnnlab.compat`` may import PyTensor,
NumPy and :mod:`rnnlab.nn`, and nothing else from ``rnnlab``.
"""
