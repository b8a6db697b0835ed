"""Learning on real tasks: the layer library has to train networks, not just build graphs.

These tests compile with the C backend (``CVM``): training runs thousands of small steps, which
FAST_COMPILE's Python linker would make ~20x slower.  They are marked ``slow`` but run in CI.
"""

import numpy as np
import pytensor
import pytensor.tensor as T
import pytest

import rnnlab.nn as lasagne

pytestmark = pytest.mark.slow
MODE = "CVM"


@pytest.fixture(autouse=True)
def _c_backend():
    """Build and compile under the C backend (scan's inner graph follows the build-time mode)."""
    with pytensor.config.change_flags(mode=MODE):
        yield


def _compile_classifier(l_in, l_out, lr, mode=MODE):
    """Train and predict functions for sigmoid outputs with binary cross-entropy."""
    targets = T.tensor(dtype=pytensor.config.floatX, shape=(None,) * len(l_out.output_shape))
    prediction = lasagne.layers.get_output(l_out)
    loss = lasagne.objectives.binary_crossentropy(prediction, targets).mean()
    params = lasagne.layers.get_all_params(l_out, trainable=True)
    updates = lasagne.updates.adam(loss, params, learning_rate=lr)
    train = pytensor.function([l_in.input_var, targets], loss, updates=updates, mode=mode)
    predict = pytensor.function([l_in.input_var], prediction, mode=mode)
    return train, predict


def _bits(numbers, width=8):
    """Little-endian bit matrix (n, width) of non-negative integers."""
    return ((numbers[:, None] >> np.arange(width)) & 1).astype(pytensor.config.floatX)


def test_elman_learns_8bit_binary_addition_on_held_out_pairs():
    rng = np.random.RandomState(42)
    lasagne.random.set_rng(np.random.RandomState(42))
    # All pairs with a + b < 256, so the sum fits 8 bits; 20% never seen in training.
    a, b = np.meshgrid(np.arange(128), np.arange(128), indexing="ij")
    a, b = a.ravel(), b.ravel()
    order = rng.permutation(a.size)
    n_test = a.size // 5
    test_idx, train_idx = order[:n_test], order[n_test:]
    x_all = np.stack([_bits(a), _bits(b)], axis=-1)  # (n, 8 time steps LSB first, 2)
    y_all = _bits(a + b)[:, :, None]                 # (n, 8, 1)

    l_in = lasagne.layers.InputLayer((None, 8, 2))
    l_rnn = lasagne.layers.RecurrentLayer(l_in, 16, nonlinearity=lasagne.nonlinearities.tanh,
                                          W_in_to_hid=lasagne.init.GlorotUniform(),
                                          W_hid_to_hid=lasagne.init.Orthogonal())
    l_out = lasagne.layers.DenseLayer(l_rnn, 1, num_leading_axes=2,
                                      nonlinearity=lasagne.nonlinearities.sigmoid)
    train, predict = _compile_classifier(l_in, l_out, lr=0.01)
    for step in range(3000):
        batch = rng.choice(train_idx, 64)
        train(x_all[batch], y_all[batch])
    predicted_bits = predict(x_all[test_idx]) > 0.5
    per_pair_correct = (predicted_bits == (y_all[test_idx] > 0.5)).all(axis=(1, 2))
    assert per_pair_correct.mean() == 1.0, f"held-out accuracy {per_pair_correct.mean():.4f}"


def _memory_task(rng, n, length):
    """Recall the first of ``length`` random signs after ``length - 1`` more signs.

    Inputs (n, length, 2): channel 0 is a random +1/-1 at every step (the distractors arrive on
    the same channel as the information), channel 1 marks step 0.  Target (n, 1): 1 if the sign
    at step 0 was +1.  Chance is 50%: solving it needs a state that is written once and then
    protected from ``length - 1`` later writes.
    """
    signs = rng.randint(0, 2, size=(n, length))
    x = np.zeros((n, length, 2), dtype=pytensor.config.floatX)
    x[:, :, 0] = 2 * signs - 1
    x[:, 0, 1] = 1
    return x, signs[:, :1].astype(pytensor.config.floatX)


@pytest.mark.parametrize("cell", ["lstm", "elman"])
def test_long_lag_memory_lstm_learns_where_elman_stays_near_chance(cell):
    length, units, steps = 100, 8, 800
    rng = np.random.RandomState(7)
    lasagne.random.set_rng(np.random.RandomState(7))
    l_in = lasagne.layers.InputLayer((None, length, 2))
    if cell == "lstm":
        # Chrono initialisation (Tallec & Ollivier, 2018): forget-gate biases log(U(1, T - 1)),
        # input-gate biases their negatives, so the gates start out spanning the task's
        # time scales.  Nothing else differs from Lasagne's defaults.
        b_forget = np.log(rng.uniform(1, length - 1, size=units)).astype(pytensor.config.floatX)
        l_rec = lasagne.layers.LSTMLayer(l_in, units, only_return_final=True,
                                         forgetgate=lasagne.layers.Gate(b=b_forget),
                                         ingate=lasagne.layers.Gate(b=-b_forget))
    else:
        # The strongest plain Elman set-up we know: tanh, Glorot input and orthogonal
        # recurrent weights (it solves the same task at lag 20-50).
        l_rec = lasagne.layers.RecurrentLayer(l_in, units, only_return_final=True,
                                              nonlinearity=lasagne.nonlinearities.tanh,
                                              W_in_to_hid=lasagne.init.GlorotUniform(),
                                              W_hid_to_hid=lasagne.init.Orthogonal())
    l_out = lasagne.layers.DenseLayer(l_rec, 1, nonlinearity=lasagne.nonlinearities.sigmoid)
    train, predict = _compile_classifier(l_in, l_out, lr=0.01)
    for step in range(steps):
        train(*_memory_task(rng, 32, length))
    x_test, y_test = _memory_task(np.random.RandomState(123), 2000, length)
    accuracy = ((predict(x_test) > 0.5) == (y_test > 0.5)).mean()
    if cell == "lstm":
        assert accuracy > 0.95, f"LSTM accuracy {accuracy:.3f}"
    else:
        assert accuracy < 0.6, f"Elman accuracy {accuracy:.3f} is not near chance"
