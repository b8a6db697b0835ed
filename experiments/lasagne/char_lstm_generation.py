"""Character-level text generation with two LSTM layers, in Theano-era spelling.

A script of the Theano days called ``T.nnet.softmax`` and ``T.nnet.categorical_crossentropy``,
kept its learning rate in a ``theano.shared`` and compiled with ``theano.function``.  PyTensor
dropped ``T.nnet``, so this program takes Theano from the opt-in shim ``rnnlab.compat.theano``
(PyTensor under Theano's name, plus ``nnet``) and Lasagne from ``rnnlab.nn``; nothing else is
adapted.  ``experiments/lasagne_char_lstm.py`` is the same kind of model with PyTensor's own
names and rnnlab's settings.

It learns from a UTF-8 text (``data/shakespeare.txt`` of the repository unless ``--text``
names another), reading it in order, window after window, and prints the mean cost every
``--print-every`` updates.  Then it continues ``--seed-text`` one character at a time, each
time taking the likeliest next character, and prints the seed and what followed::

    .venv/bin/python experiments/lasagne/char_lstm_generation.py --iterations 300
"""

import argparse
import sys
from pathlib import Path

import numpy as np
from rnnlab.compat import theano
import rnnlab.nn as lasagne

T = theano.tensor
SHAKESPEARE = Path(__file__).resolve().parents[2] / "data" / "shakespeare.txt"


OPTIONS = [  # flag, type, default, help
    ("--text", Path, SHAKESPEARE, "UTF-8 text to learn"),
    ("--iterations", int, 300, "training updates"),
    ("--print-every", int, 50, "updates per cost report"),
    ("--window", int, 25, "characters of context"),
    ("--batch-size", int, 50, "windows per update"),
    ("--units", int, 128, "units in each LSTM layer"),
    ("--lr", float, 0.05, "adagrad learning rate"),
    ("--grad-clip", float, 5.0, "LSTM grad_clipping"),
    ("--seed-text", str, "ROMEO:\nBut soft", "start of the generated text"),
    ("--length", int, 200, "characters to generate"),
    ("--seed", int, 7, "seed of numpy and of lasagne.random"),
]


def options(argv):
    parser = argparse.ArgumentParser(description="Two-layer character LSTM, Theano-era spelling.")
    for flag, kind, default, text in OPTIONS:
        shown = repr(default) if kind is str else default
        parser.add_argument(flag, type=kind, default=default, help=f"{text} (default: {shown})")
    args = parser.parse_args(argv)
    if min(args.iterations, args.print_every, args.window, args.batch_size, args.units) < 1:
        parser.error("--iterations, --print-every, --window, --batch-size and --units must be >= 1")
    return parser, args


def main(argv=None):
    parser, args = options(sys.argv[1:] if argv is None else argv)
    try:
        text = args.text.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        parser.error(f"cannot read --text {args.text}: {error}")
    alphabet = sorted(set(text))              # sorted: the same ids in every run
    index = {c: i for i, c in enumerate(alphabet)}
    ids = np.array([index[c] for c in text], dtype="int32")
    unknown = sorted(set(args.seed_text) - set(alphabet))
    if not args.seed_text:
        parser.error("--seed-text may not be empty")
    if unknown:
        parser.error(f"--seed-text has characters the text lacks: {''.join(unknown)!r}")
    if len(ids) < args.window + args.batch_size + 1:
        parser.error(f"{args.text} is too short for --window {args.window} "
                     f"and --batch-size {args.batch_size}")
    np.random.seed(args.seed)
    lasagne.random.set_rng(np.random.RandomState(args.seed))
    one_hot = np.eye(len(alphabet), dtype=theano.config.floatX)

    l_chars = lasagne.layers.InputLayer((None, None, len(alphabet)))
    l_lower = lasagne.layers.LSTMLayer(l_chars, args.units, grad_clipping=args.grad_clip)
    l_upper = lasagne.layers.LSTMLayer(l_lower, args.units, grad_clipping=args.grad_clip,
                                       only_return_final=True)
    l_next = lasagne.layers.DenseLayer(l_upper, len(alphabet), nonlinearity=T.nnet.softmax)

    next_ids = T.ivector("next_ids")
    predicted = lasagne.layers.get_output(l_next)
    cost = T.nnet.categorical_crossentropy(predicted, next_ids).mean()
    learning_rate = theano.shared(np.asarray(args.lr, dtype=theano.config.floatX), "lr")
    updates = lasagne.updates.adagrad(cost, lasagne.layers.get_all_params(l_next, trainable=True),
                                      learning_rate)
    train = theano.function([l_chars.input_var, next_ids], cost, updates=updates)
    predict = theano.function([l_chars.input_var], predicted)

    # Each update reads batch_size windows side by side, each starting one character after the
    # previous; the next update starts where this one's last window ended.
    offsets = np.arange(args.batch_size)[:, None] + np.arange(args.window + 1)
    start, total = 0, 0.0
    for iteration in range(1, args.iterations + 1):
        if start + offsets[-1, -1] >= len(ids):
            start = 0
        chunk = ids[start + offsets]
        total += float(train(one_hot[chunk[:, :-1]], chunk[:, -1]))
        start += args.batch_size + args.window
        if iteration % args.print_every == 0 or iteration == args.iterations:
            reports = iteration % args.print_every or args.print_every
            print(f"iteration {iteration}: cost {total / reports:.4f}", flush=True)
            total = 0.0

    context = [index[c] for c in args.seed_text][-args.window:]
    generated = []
    for _ in range(args.length):
        choice = int(np.argmax(predict(one_hot[context][None])[0]))
        generated.append(alphabet[choice])
        context = (context + [choice])[-args.window:]
    print("----\n" + args.seed_text + "".join(generated) + "\n----")


if __name__ == "__main__":
    main()
