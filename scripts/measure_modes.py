"""Measure PyTensor's CPU compile modes on a character-LM training step built with rnnlab.nn.

For each mode, two fresh processes run the same job: the first with an empty compile cache
(cold start), the second with the cache the first one filled (warm start).  Each process reports
the time from its start to the end of its first training step (compile included: PyTensor compiles
parts of a graph lazily on the first call) and the training speed in characters per second over the
following steps.  Modes are interleaved round by round, so machine noise hits them alike.

    .venv/bin/python scripts/measure_modes.py --modes FAST_COMPILE CVM NUMBA --rounds 1

The network is the benchmark's configuration (a) (docs/benchmarks.md): vocabulary 65, one-hot input, one recurrent
layer of 128 units, softmax output, plain SGD, batch 32, 64 characters per sequence, float32.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

START = time.time()


def _job(mode, cell, steps, batch, seq_len, hidden, vocab):
    """Run in a child process: build, compile, train; print one JSON line."""
    from rnnlab import backend

    backend.configure(mode=mode)
    import numpy as np
    import pytensor
    import pytensor.tensor as T

    import rnnlab.nn as lasagne

    lasagne.ops.prepare()       # rnnlab's NUMBA linker and kernel threads, as the workflow uses

    rng = np.random.RandomState(0)
    lasagne.random.set_rng(np.random.RandomState(0))
    # JAX needs every shape fixed; the other modes get Lasagne's usual (None, None, vocab).
    static = (batch, seq_len, vocab) if mode == "JAX" else (None, None, vocab)
    l_in = lasagne.layers.InputLayer(static, input_var=T.tensor("x", shape=static))
    if cell == "lstm":
        l_rec = lasagne.layers.LSTMLayer(l_in, hidden)
    else:
        l_rec = lasagne.layers.RecurrentLayer(l_in, hidden, nonlinearity=lasagne.nonlinearities.tanh)
    l_out = lasagne.layers.DenseLayer(l_rec, vocab, num_leading_axes=2, nonlinearity=None)
    targets = T.tensor("targets", shape=static)  # one-hot (batch, time, vocab): no index ops
    logits = lasagne.layers.get_output(l_out)
    log_probs = logits - T.logsumexp(logits, axis=-1, keepdims=True)
    loss = -(targets * log_probs).sum(axis=-1).mean()
    params = lasagne.layers.get_all_params(l_out, trainable=True)
    updates = lasagne.updates.sgd(loss, params, learning_rate=0.1)
    train = pytensor.function([l_in.input_var, targets], loss, updates=updates)

    ids = rng.randint(0, vocab, size=(batch, seq_len + 1))
    eye = np.eye(vocab, dtype=pytensor.config.floatX)
    x, y = eye[ids[:, :-1]], eye[ids[:, 1:]]
    float(train(x, y))  # float() waits for the result: JAX returns before the work is done
    first_step = time.time() - START
    tick = time.time()
    for _ in range(steps):
        loss_value = train(x, y)
    float(loss_value)
    elapsed = time.time() - tick
    print(json.dumps({"mode": mode, "cell": cell, "first_step_s": round(first_step, 2),
                      "chars_per_s": round(steps * batch * seq_len / elapsed)}))


def _run_child(mode, cell, cache_dir, args):
    env = dict(os.environ, RNNLAB_CACHE_DIR=cache_dir, OMP_NUM_THREADS="1")
    cmd = [sys.executable, __file__, "--child", mode, "--cell", cell, "--steps", str(args.steps)]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    lines = [ln for ln in out.stdout.splitlines() if ln.startswith("{")]
    if out.returncode != 0 or not lines:
        return {"mode": mode, "cell": cell, "error": out.stderr.strip().splitlines()[-1:]}
    return json.loads(lines[-1])


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--modes", nargs="+", default=["FAST_COMPILE", "CVM", "NUMBA"])
    parser.add_argument("--cells", nargs="+", default=["lstm"], choices=["elman", "lstm"])
    parser.add_argument("--steps", type=int, default=30, help="timed training steps per process")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved repetitions")
    parser.add_argument("--json", help="also write the results to this file")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--cell", default="lstm", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        return _job(args.child, args.cell, args.steps, batch=32, seq_len=64, hidden=128, vocab=65)

    results = []
    for rnd in range(args.rounds):
        for cell in args.cells:
            for mode in args.modes:
                with tempfile.TemporaryDirectory(prefix="rnnlab-modes-") as cache:
                    cold = _run_child(mode, cell, cache, args)
                    warm = _run_child(mode, cell, cache, args)
                row = {"round": rnd, "mode": mode, "cell": cell,
                       "cold_first_step_s": cold.get("first_step_s"),
                       "warm_first_step_s": warm.get("first_step_s"),
                       "chars_per_s": warm.get("chars_per_s"),
                       "error": cold.get("error") or warm.get("error")}
                results.append(row)
                print(json.dumps(row), flush=True)
    print(f"\n{'cell':6} {'mode':13} {'cold start s':>12} {'warm start s':>12} {'chars/s':>9}")
    for r in results:
        print(f"{r['cell']:6} {r['mode']:13} {r['cold_first_step_s'] or '-':>12} "
              f"{r['warm_first_step_s'] or '-':>12} {r['chars_per_s'] or '-':>9}"
              + (f"  error: {r['error']}" if r["error"] else ""))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
