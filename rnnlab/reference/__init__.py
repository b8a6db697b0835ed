"""Numpy reference RNNs with hand-derived backpropagation through time (float64).

The "first iteration" of the project: an Elman network and an LSTM written as readable loops over
time, each with a forward pass and a backward pass derived by hand (no autodiff, no PyTensor).
They follow the semantics of :mod:`rnnlab.nn`'s ``RecurrentLayer`` and ``LSTMLayer`` -- batch-first
shapes ``(B, T, D)``, masks that copy the previous state forward, and ``gradient_steps`` truncation
identical to ``scan(truncate_gradient=k)`` -- so the symbolic layers' values and gradients can be
tested against them.  May import NumPy only: an independent check must not share code with what
it checks.

Examples
--------
>>> from rnnlab import reference
>>> params = reference.init_elman_params(2, 3, rng=0)
>>> H, cache = reference.elman_forward(params, np.zeros((4, 5, 2)), np.zeros((4, 3)))
>>> grads = reference.elman_backward(params, cache, np.ones_like(H))
>>> H.shape, grads["x"].shape, grads["W_hid_to_hid"].shape
((4, 5, 3), (4, 5, 2), (3, 3))
"""

from rnnlab.reference.elman import elman_backward, elman_forward, init_elman_params
from rnnlab.reference.lstm import init_lstm_params, lstm_backward, lstm_forward

__all__ = ["init_elman_params", "elman_forward", "elman_backward",
           "init_lstm_params", "lstm_forward", "lstm_backward"]
