"""A two-layer LSTM character model written exactly in the Lasagne idiom.

This is the classic Lasagne recipe (one-hot characters -> LSTM -> LSTM -> softmax over the next
character, adagrad, compiled train and predict functions).  The only change from Lasagne-era code
is the three imports: PyTensor stands in for Theano and ``rnnlab.nn`` for Lasagne.  Importing
``rnnlab.nn`` configures nothing; the call before the imports, ``backend.configure()``, chooses
rnnlab's compile mode, floatX and compile cache, and ``lasagne.ops.prepare()`` after them rnnlab's
NUMBA linker and the kernels' threads (without both the script runs on PyTensor's own settings,
the same graph, slower).

Run it from the project root::

    .venv/bin/python experiments/lasagne_char_lstm.py --text data/shakespeare.txt --steps 200

Every option has a default; ``--help`` lists them.
"""

import argparse
import time

import numpy as np

from rnnlab import backend

backend.configure()  # rnnlab's settings, before PyTensor is imported
import rnnlab.nn as lasagne  # noqa: E402
import pytensor as theano  # noqa: E402
import pytensor.tensor as T  # noqa: E402

lasagne.ops.prepare()  # rnnlab's NUMBA linker (one compile per function), the kernels' threads


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--text", default="data/shakespeare.txt", help="UTF-8 text file to model")
    parser.add_argument("--seq-len", type=int, default=20, help="characters of context per example")
    parser.add_argument("--hidden", type=int, default=128, help="units in each LSTM layer")
    parser.add_argument("--batch-size", type=int, default=64, help="examples per update")
    parser.add_argument("--lr", type=float, default=0.05, help="adagrad learning rate")
    parser.add_argument("--grad-clip", type=float, default=100.0, help="LSTM grad_clipping")
    parser.add_argument("--steps", type=int, default=200, help="training updates")
    parser.add_argument("--print-every", type=int, default=50, help="report loss every N updates")
    parser.add_argument("--sample-len", type=int, default=200, help="characters to generate at the end")
    parser.add_argument("--seed", type=int, default=1234, help="random seed")
    return parser.parse_args(argv)


def one_hot_batch(data, char_to_ix, positions, seq_len):
    """Inputs (batch, seq_len, vocab) one-hot and targets (batch,) ids of the next character."""
    x = np.zeros((len(positions), seq_len, len(char_to_ix)), dtype=theano.config.floatX)
    y = np.zeros(len(positions), dtype="int32")
    for n, p in enumerate(positions):
        for t in range(seq_len):
            x[n, t, char_to_ix[data[p + t]]] = 1.0
        y[n] = char_to_ix[data[p + seq_len]]
    return x, y


def main(argv=None):
    args = parse_args(argv)
    with open(args.text, encoding="utf-8") as f:
        data = f.read()
    chars = sorted(set(data))
    char_to_ix = {ch: i for i, ch in enumerate(chars)}
    vocab_size = len(chars)
    if len(data) <= args.seq_len + 1:
        raise SystemExit(f"{args.text}: {len(data)} characters; need more than --seq-len + 1")
    lasagne.random.set_rng(np.random.RandomState(args.seed))
    rng = np.random.RandomState(args.seed)

    # The network, layer by layer, as in the Lasagne recipes.
    l_in = lasagne.layers.InputLayer(shape=(None, None, vocab_size))
    l_forward_1 = lasagne.layers.LSTMLayer(
        l_in, args.hidden, grad_clipping=args.grad_clip,
        nonlinearity=lasagne.nonlinearities.tanh)
    l_forward_2 = lasagne.layers.LSTMLayer(
        l_forward_1, args.hidden, grad_clipping=args.grad_clip,
        nonlinearity=lasagne.nonlinearities.tanh, only_return_final=True)
    l_out = lasagne.layers.DenseLayer(
        l_forward_2, num_units=vocab_size, W=lasagne.init.Normal(),
        nonlinearity=lasagne.nonlinearities.softmax)

    target_values = T.ivector("target_output")
    network_output = lasagne.layers.get_output(l_out)
    cost = lasagne.objectives.categorical_crossentropy(network_output, target_values).mean()
    all_params = lasagne.layers.get_all_params(l_out, trainable=True)
    updates = lasagne.updates.adagrad(cost, all_params, args.lr)

    print("Compiling functions ...", flush=True)
    start = time.time()
    train = theano.function([l_in.input_var, target_values], cost, updates=updates,
                            allow_input_downcast=True)
    compute_cost = theano.function([l_in.input_var, target_values], cost,
                                   allow_input_downcast=True)
    probs = theano.function([l_in.input_var], network_output, allow_input_downcast=True)
    print(f"Compiled in {time.time() - start:.1f} s; "
          f"{lasagne.layers.count_params(l_out)} parameters", flush=True)

    last = len(data) - args.seq_len - 1
    val_positions = rng.randint(0, last + 1, size=args.batch_size)
    x_val, y_val = one_hot_batch(data, char_to_ix, val_positions, args.seq_len)
    start, avg_cost = time.time(), 0.0
    for step in range(1, args.steps + 1):
        positions = rng.randint(0, last + 1, size=args.batch_size)
        x, y = one_hot_batch(data, char_to_ix, positions, args.seq_len)
        avg_cost += float(train(x, y))
        if step % args.print_every == 0 or step == args.steps:
            n = step % args.print_every or args.print_every
            print(f"step {step}: train loss {avg_cost / n:.3f} nats/char, "
                  f"held-out batch {float(compute_cost(x_val, y_val)):.3f}, "
                  f"{time.time() - start:.1f} s", flush=True)
            avg_cost = 0.0

    # Generate text one character at a time from the model's predicted distribution.
    seed_pos = rng.randint(0, last + 1)
    generated = data[seed_pos:seed_pos + args.seq_len]
    x, _ = one_hot_batch(data, char_to_ix, [seed_pos], args.seq_len)
    for _ in range(args.sample_len):
        p = probs(x)[0].astype("float64")
        ix = rng.choice(vocab_size, p=p / p.sum())
        generated += chars[ix]
        x[:, :-1] = x[:, 1:]
        x[:, -1] = 0.0
        x[0, -1, ix] = 1.0
    print("----\n" + generated + "\n----")
    return generated


if __name__ == "__main__":
    main()
