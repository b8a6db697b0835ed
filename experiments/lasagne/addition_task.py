"""The addition problem, learned by a bidirectional Elman network written in the Lasagne idiom.

Hochreiter & Schmidhuber (1997) posed it to show what plain recurrent networks struggle with:
every step of a sequence carries a value drawn from [0, 1] and a marker that is 0 or 1.  Exactly
two steps are marked, one near the start and one in the second half, and the network must
answer the sum of their two values (a number in [0, 2]) after reading the whole sequence.
Sequences have random lengths, so a batch is padded to the longest and comes with a mask.

The network reads each batch both ways: one ``RecurrentLayer`` from the first step to the last,
one from the last to the first (``backwards=True``), each keeping only its final state.  The two
states are joined by a ``ConcatLayer`` and a linear ``DenseLayer`` turns them into the answer.

rnnlab's own program, written the way Lasagne's examples were: Theano is PyTensor and Lasagne is
``rnnlab.nn``, and PyTensor's own settings (``PYTENSOR_FLAGS``) apply.  From the project root::

    .venv/bin/python experiments/lasagne/addition_task.py --epochs 5

Each epoch is ``--epoch-size`` updates; after each one the script prints the cost on a fixed
validation batch.  Guessing the mean answer every time costs the variance of the answers, about
1/6; the first line of output gives its exact value for the validation batch.
"""

import argparse
import sys

import numpy as np
import pytensor as theano
import pytensor.tensor as T
import rnnlab.nn as lasagne


def build_parser():
    parser = argparse.ArgumentParser(
        description="Train a bidirectional Elman network on the addition problem.")
    add = parser.add_argument
    add("--epochs", type=int, default=10, help="validation reports (default: %(default)s)")
    add("--epoch-size", type=int, default=100, help="updates per epoch (default: %(default)s)")
    add("--batch-size", type=int, default=100, help="sequences per update (default: %(default)s)")
    add("--min-length", type=int, default=50, help="shortest sequence (default: %(default)s)")
    add("--max-length", type=int, default=55, help="longest sequence (default: %(default)s)")
    add("--hidden", type=int, default=100, help="units in each direction (default: %(default)s)")
    add("--lr", type=float, default=0.01, help="adagrad learning rate (default: %(default)s)")
    add("--grad-clip", type=float, default=100.0,
        help="grad_clipping of the recurrent layers (default: %(default)s)")
    add("--seed", type=int, default=0,
        help="seed of the data and the weights (default: %(default)s)")
    return parser


def parse_args(argv):
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("epochs", "epoch_size", "batch_size", "hidden"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    if not 2 <= args.min_length <= args.max_length:
        parser.error("need 2 <= --min-length <= --max-length")
    return args


def addition_batch(rng, count, shortest, longest):
    """``count`` random sequences of the addition problem, padded to ``longest`` steps.

    Returns ``inputs`` (count, longest, 2) holding (value, marker) pairs, ``mask`` (count,
    longest), 1 on the steps a sequence has, and ``sums`` (count,), the sum of the two marked
    values.  Padding steps are all zero.  One marker falls in the first tenth of the sequence (the
    first step if it is shorter than ten), the other in its second half.
    """
    lengths = rng.randint(shortest, longest + 1, size=count)
    mask = np.arange(longest) < lengths[:, None]
    values = rng.uniform(0.0, 1.0, size=(count, longest)) * mask

    rows = np.arange(count)
    early = rng.randint(0, np.maximum(lengths // 10, 1))
    late = rng.randint(lengths // 2, lengths)
    markers = np.zeros((count, longest))
    markers[rows, early] = 1.0
    markers[rows, late] = 1.0

    floatX = theano.config.floatX
    inputs = np.stack([values, markers], axis=-1).astype(floatX)
    sums = (values[rows, early] + values[rows, late]).astype(floatX)
    return inputs, mask.astype(floatX), sums


def validation_batch(args):
    """The fixed batch the script reports on: drawn first from a generator seeded with --seed."""
    rng = np.random.RandomState(args.seed)
    return addition_batch(rng, args.batch_size, args.min_length, args.max_length), rng


def elman_direction(l_seq, l_mask, args, backwards):
    return lasagne.layers.RecurrentLayer(
        l_seq, args.hidden, mask_input=l_mask, backwards=backwards,
        W_in_to_hid=lasagne.init.HeUniform(), W_hid_to_hid=lasagne.init.HeUniform(),
        nonlinearity=lasagne.nonlinearities.tanh, grad_clipping=args.grad_clip,
        only_return_final=True)


def main(argv=None):
    args = parse_args(sys.argv[1:] if argv is None else argv)
    (val_inputs, val_mask, val_sums), rng = validation_batch(args)
    lasagne.random.set_rng(np.random.RandomState(args.seed + 1))
    print(f"always answering the mean costs {float(np.var(val_sums)):.6f} on the validation batch",
          flush=True)

    # (batch, time, 2) pairs and a (batch, time) mask; any batch size and length.
    l_seq = lasagne.layers.InputLayer((None, None, 2))
    l_mask = lasagne.layers.InputLayer((None, None))
    l_both = lasagne.layers.ConcatLayer([elman_direction(l_seq, l_mask, args, backwards=False),
                                         elman_direction(l_seq, l_mask, args, backwards=True)])
    l_answer = lasagne.layers.DenseLayer(l_both, num_units=1,
                                         nonlinearity=lasagne.nonlinearities.linear)

    sums = T.vector("sums")
    guess = lasagne.layers.get_output(l_answer)[:, 0]
    squared_error = T.mean(T.sqr(guess - sums))
    params = lasagne.layers.get_all_params(l_answer, trainable=True)
    updates = lasagne.updates.adagrad(squared_error, params, learning_rate=args.lr)

    print("compiling ...", flush=True)
    inputs = [l_seq.input_var, l_mask.input_var, sums]
    step = theano.function(inputs, squared_error, updates=updates)
    evaluate = theano.function(inputs, squared_error)

    for epoch in range(1, args.epochs + 1):
        for _ in range(args.epoch_size):
            batch_inputs, batch_mask, batch_sums = addition_batch(
                rng, args.batch_size, args.min_length, args.max_length)
            step(batch_inputs, batch_mask, batch_sums)
        cost = float(evaluate(val_inputs, val_mask, val_sums))
        print(f"epoch {epoch}: validation cost {cost:.6f}", flush=True)
    return cost


if __name__ == "__main__":
    main()
