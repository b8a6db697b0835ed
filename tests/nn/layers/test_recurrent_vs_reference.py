"""Symbolic gradients of the recurrent layers against the hand-derived numpy reference.

Acceptance point 2 of issue 2: the outputs of ``RecurrentLayer`` (tanh) and ``LSTMLayer``
(peepholes off and on) and PyTensor's gradients of ``L = sum(H * R)`` (``R`` fixed and random) with
respect to the input, the initial states and every parameter equal those of
:mod:`rnnlab.reference` (forward pass and hand-derived BPTT, float64) to ``1e-6`` relative, with
full and truncated BPTT (``gradient_steps``), masks, ``backwards=True`` and two-layer stacks.

One function is compiled per layer kind: every configuration of that kind is a separate layer over
the same input variables, and the function returns all outputs and gradients at once
(cached by ``results_of``).  The reference sees the same parameter values (set from
``init_*_params``), initial states, mask and ``dH = R``.
"""

import functools

import numpy as np
import pytensor
import pytensor.tensor as pt
import pytest

from rnnlab import reference
from rnnlab.nn import nonlinearities
from rnnlab.nn.layers import InputLayer, LSTMLayer, RecurrentLayer, get_output

B, T, D, U = 3, 6, 4, 5
TOL = 1e-6
# Masked steps at the end, in the middle and at t = 0 (where h0/c0 are copied forward).
MASK = np.array([[1, 1, 1, 1, 1, 1], [1, 1, 1, 1, 0, 0], [0, 1, 0, 1, 1, 0]], dtype=float)
KINDS = ("elman", "lstm", "lstm_peep")

# name -> per-layer options; a stack is a list of two layers, the second reading the first's H.
# "mask": use MASK; "own_init": hid_init (and cell_init) as the layer's own learned (1, U)
# parameters instead of input layers.
CONFIGS = {
    "full": [dict(gradient_steps=-1)],
    "k1": [dict(gradient_steps=1)],
    "k3": [dict(gradient_steps=3)],
    "kT": [dict(gradient_steps=T)],
    "backwards_full": [dict(gradient_steps=-1, backwards=True)],
    "backwards_k3": [dict(gradient_steps=3, backwards=True)],
    "unmasked_own_init_k4": [dict(gradient_steps=4, mask=False, own_init=True)],
    "stack_k3": [dict(gradient_steps=3), dict(gradient_steps=3)],
    "stack_forward_backward": [dict(gradient_steps=-1), dict(gradient_steps=-1, backwards=True)],
}
STATES = {"elman": ("hid",), "lstm": ("hid", "cell"), "lstm_peep": ("hid", "cell")}
# Stacks chain the same layers: Elman over Elman and LSTM over LSTM (with peepholes) suffice.
CASES = [(kind, name) for kind in KINDS for name in CONFIGS
         if not (kind == "lstm" and name.startswith("stack"))]


def rel_error(a, b):
    """``||a - b|| / max(||a||, ||b||)``; 0 when both are zero."""
    scale = max(np.linalg.norm(a), np.linalg.norm(b))
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def reference_params(kind, num_inputs, seed):
    if kind == "elman":
        return reference.init_elman_params(num_inputs, U, rng=seed)
    return reference.init_lstm_params(num_inputs, U, rng=seed, peepholes=kind == "lstm_peep")


def reference_layer(kind, params, x, states, mask, backwards):
    """Reference forward pass in the layer's time order; returns ``H`` and ``backward(dH, k)``.

    ``backwards`` runs the reference over ``x``, ``mask`` (and later ``dH``) reversed in time and
    re-reverses ``H`` and ``dL/dx``, as the reference's docstring prescribes.
    """
    def flip(a):
        return a[:, ::-1] if backwards and a is not None else a
    if kind == "elman":
        H, cache = reference.elman_forward(params, flip(x), states["hid"], mask=flip(mask),
                                           nonlinearity="tanh")
        backward_fn = reference.elman_backward
    else:
        H, cache = reference.lstm_forward(params, flip(x), states["hid"], states["cell"],
                                          mask=flip(mask))
        backward_fn = reference.lstm_backward

    def backward(dH, gradient_steps):
        grads = backward_fn(params, cache, flip(dH), gradient_steps=gradient_steps)
        grads["x"] = flip(grads["x"])
        grads["hid"] = grads.pop("h0")
        if "c0" in grads:
            grads["cell"] = grads.pop("c0")
        return grads
    return flip(H), backward


def reference_stack(kind, data, options, params, gradient_steps=None):
    """Reference outputs and gradients of a (stack of) layer(s), keyed like the layer results.

    ``gradient_steps`` overrides every layer's truncation (to show the comparison is sensitive).
    """
    x, H, backwards = data["x"], [], []
    for i, (opts, p) in enumerate(zip(options, params)):
        mask = MASK if opts.get("mask", True) else None
        states = {s: data[f"{s}0.{i}"] for s in STATES[kind]}
        x, backward = reference_layer(kind, p, x, states, mask, opts.get("backwards", False))
        H.append(x)
        backwards.append(backward)
    out, dH = {"H": H[-1]}, data["R"]
    for i in reversed(range(len(options))):
        steps = options[i]["gradient_steps"] if gradient_steps is None else gradient_steps
        grads = backwards[i](dH, steps)
        dH = grads.pop("x")
        for name, value in grads.items():
            if name in STATES[kind] and options[i].get("own_init"):
                value = value.sum(axis=0, keepdims=True)  # one (1, U) parameter for the batch
            out[f"{name}.{i}"] = value
    out["x"] = dH
    return out


def build(kind, options, inputs, params):
    """The layers of one configuration and the symbolic ``{key: array}`` to compare."""
    incoming, layers, wrt = inputs["x"], [], {"x": inputs["x"].input_var}
    for i, (opts, p) in enumerate(zip(options, params)):
        kw = dict(gradient_steps=opts["gradient_steps"], backwards=opts.get("backwards", False))
        if opts.get("mask", True):
            kw["mask_input"] = inputs["mask"]
        for s in STATES[kind]:
            if opts.get("own_init"):
                kw[f"{s}_init"] = inputs[f"{s}0.{i}.value"][:1]
                kw["learn_init"] = True
            else:
                kw[f"{s}_init"] = inputs[f"{s}0.{i}"]
        if kind == "elman":
            layer = RecurrentLayer(incoming, U, nonlinearity=nonlinearities.tanh, **kw)
        else:
            layer = LSTMLayer(incoming, U, peepholes=kind == "lstm_peep", **kw)
        for name, value in p.items():
            getattr(layer, name).set_value(value)
        for s in STATES[kind]:
            init = getattr(layer, f"{s}_init")
            wrt[f"{s}.{i}"] = init if opts.get("own_init") else init.input_var
        wrt.update({f"{name}.{i}": getattr(layer, name) for name in p})
        layers.append(layer)
        incoming = layer
    H = get_output(layers[-1])
    grads = pytensor.grad((H * inputs["R"]).sum(), list(wrt.values()))
    return {"H": H, **dict(zip(wrt, grads))}


@functools.cache
def results_of(kind):
    """Layer and reference values of every configuration of one kind, from one compiled function.

    Cached for the whole module (a plain cache rather than a module-scoped fixture, which pytest
    would rebuild when differently parametrized tests interleave).
    """
    rng = np.random.default_rng(11)
    data = {"x": rng.normal(size=(B, T, D)), "R": rng.normal(size=(B, T, U))}
    for i in range(2):
        for s in STATES[kind]:
            data[f"{s}0.{i}"] = 0.5 * rng.normal(size=(B, U))
    # Layer 0 reads x (D features); a stack's layer 1 reads layer 0's H (U features).
    params = [reference_params(kind, D, seed=1), reference_params(kind, U, seed=2)]
    # traceback__limit=0: no stack trace per graph node, which halves building the scan gradients.
    with pytensor.config.change_flags(floatX="float64", traceback__limit=0):
        inputs = {"x": InputLayer((None, None, D)), "mask": InputLayer((None, None)),
                  "R": pt.tensor3("R")}
        for i in range(2):
            for s in STATES[kind]:
                inputs[f"{s}0.{i}"] = InputLayer((None, U))
                inputs[f"{s}0.{i}.value"] = data[f"{s}0.{i}"]
        symbolic = {name: build(kind, CONFIGS[name], inputs, params[:len(CONFIGS[name])])
                    for k, name in CASES if k == kind}
        keys = [(name, key) for name, exprs in symbolic.items() for key in exprs]
        states = [f"{s}0.{i}" for i in range(max(len(CONFIGS[name]) for name in symbolic))
                  for s in STATES[kind]]
        fn = pytensor.function(
            [inputs["x"].input_var, inputs["mask"].input_var, inputs["R"]]
            + [inputs[state].input_var for state in states],
            [symbolic[name][key] for name, key in keys])
    values = fn(data["x"], MASK, data["R"], *(data[state] for state in states))
    layer = {name: {} for name in symbolic}
    for (name, key), value in zip(keys, values):
        layer[name][key] = value
    # With own_init the layer starts every sequence from row 0 of the initial states.
    own = {**data, **{f"{s}0.0": np.repeat(data[f"{s}0.0"][:1], B, axis=0)
                      for s in STATES[kind]}}
    ref = {name: reference_stack(kind, own if options[0].get("own_init") else data, options,
                                 params)
           for name, options in CONFIGS.items() if name in symbolic}
    return {"data": data, "params": params, "layer": layer, "reference": ref}


@pytest.mark.parametrize("kind, config", CASES)
def test_outputs_and_gradients_equal_the_reference(kind, config):
    results = results_of(kind)
    layer, ref = results["layer"][config], results["reference"][config]
    assert set(layer) == set(ref)
    expected_keys = {"H", "x"} | {f"{s}.{i}" for i in range(len(CONFIGS[config]))
                                  for s in STATES[kind]}
    assert expected_keys <= set(layer)
    errors = {key: rel_error(layer[key], ref[key]) for key in ref}
    assert all(layer[key].shape == ref[key].shape for key in ref)
    assert max(errors.values()) < TOL, {k: f"{e:.1e}" for k, e in errors.items() if e >= TOL}


@pytest.mark.parametrize("kind", KINDS)
def test_truncation_and_masks_are_exercised(kind):
    """The configurations differ where they should, so agreeing with the reference means
    something: truncation changes the parameter gradients, zeroes dL/dx before the last k steps
    and dL/d(initial states); the mask holds states; backwards changes the output."""
    results = results_of(kind)
    layer = results["layer"]
    w_hid = "W_hid_to_hid.0" if kind == "elman" else "W_hid_to_cell.0"
    assert rel_error(layer["k3"][w_hid], layer["full"][w_hid]) > 1e-2
    np.testing.assert_array_equal(layer["k3"]["x"][:, :T - 3], 0)
    reached = np.abs(layer["k3"]["x"][:, T - 3:]).sum(axis=-1)       # (B, 3) per step
    np.testing.assert_array_equal(reached > 0, MASK[:, T - 3:] == 1)  # masked steps get none
    np.testing.assert_array_equal(layer["backwards_k3"]["x"][:, 3:], 0)
    for s in STATES[kind]:
        np.testing.assert_array_equal(layer["k3"][f"{s}.0"], 0)
        assert np.abs(layer["full"][f"{s}.0"]).max() > 1e-3
        # kT backpropagates every step: identical to full BPTT.
        np.testing.assert_array_equal(layer["kT"][f"{s}.0"], layer["full"][f"{s}.0"])
    H = layer["full"]["H"]
    np.testing.assert_array_equal(H[1, 4], H[1, 3])                   # masked steps hold h
    np.testing.assert_array_equal(H[2, 0], results["data"]["hid0.0"][2])  # ... and h0
    assert rel_error(layer["backwards_full"]["H"], H) > 1e-2


@pytest.mark.parametrize("kind", KINDS)
def test_comparison_is_sensitive(kind):
    """A reference with the wrong truncation, mask or initial state is off by far more than TOL."""
    results = results_of(kind)
    data, params, layer = results["data"], results["params"], results["layer"]
    wrong_steps = reference_stack(kind, data, CONFIGS["k3"], params, gradient_steps=4)
    assert max(rel_error(layer["k3"][k], wrong_steps[k]) for k in wrong_steps) > 1e-2
    assert rel_error(layer["k3"]["H"], wrong_steps["H"]) < 1e-12  # truncation is backward-only
    unmasked = reference_stack(kind, data, [dict(gradient_steps=-1, mask=False)], params)
    assert rel_error(layer["full"]["H"], unmasked["H"]) > 1e-2
    # own_init's reference must start from the layer's (1, U) state, not the per-row data.
    per_row = reference_stack(kind, data, CONFIGS["unmasked_own_init_k4"], params)
    assert rel_error(layer["unmasked_own_init_k4"]["H"], per_row["H"]) > 1e-2
