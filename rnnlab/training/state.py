"""A session's state as named arrays and JSON: what a checkpoint saves and restores.

Everything a checkpoint holds as arrays goes through :func:`checkpoint_arrays` and
:func:`restore_arrays`, named ``"param/<name>"`` (parameters), ``"opt/<name>"`` (optimizer state,
see :mod:`rnnlab.nn.updates`) and ``"state/<i>"`` (the carried recurrent states);
:func:`random_state` and :func:`set_random_state` do the same for the dropout generators, as
JSON (their 128-bit states are exact integers there).  Each takes a
:class:`~rnnlab.training.session.Session`.
"""

import numpy as np

from rnnlab.errors import CheckpointError
from rnnlab.nn.layers import get_all_params
from rnnlab.nn.updates import get_state_values, set_state_values

__all__ = ["checkpoint_arrays", "restore_arrays", "expected_arrays", "random_state",
           "set_random_state"]


def _all_params(session):
    params = get_all_params(session.network.output)
    names = [p.name for p in params]
    if None in names or len(set(names)) != len(names):
        raise CheckpointError(f"the network's parameters need unique names to be saved; got "
                              f"{names}")
    return params


def checkpoint_arrays(session, states):
    """Name every array a checkpoint must hold to resume exactly.

    Parameters
    ----------
    session : Session
    states : sequence of numpy.ndarray
        The carried recurrent states, each ``(batch, hidden)`` (``[]`` for series).

    Returns
    -------
    dict of str to numpy.ndarray
        ``"param/<name>"`` for every parameter of the network (its own shape, e.g.
        ``(hidden, hidden)`` for ``W_hid_to_hid``), ``"opt/<name>"`` for the optimizer state
        (shaped like its parameter, or ``()`` for a step count) and ``"state/<i>"`` for
        ``states[i]``, ``(batch, hidden)``; copies, safe to keep.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training.session import build_session
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> session = build_session(config.load(None, [f"data.path={path}", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4"]))
    >>> states = session.functions.initial_states(2)  # one (batch, hidden) = (2, 4) per layer
    >>> arrays = checkpoint_arrays(session, states)
    >>> [name for name in arrays if not name.startswith("opt/")]
    ['param/rec0.W_in_to_hid', 'param/rec0.b', 'param/rec0.W_hid_to_hid', 'param/out.W',
     'param/out.b', 'state/0']
    >>> arrays["param/rec0.W_in_to_hid"].shape, arrays["state/0"].shape, arrays["opt/adam.t"]
    ((3, 4), (2, 4), array(0., dtype=float32))
    >>> arrays["opt/rec0.W_in_to_hid.adam.m"].shape  # Adam's moments: one per parameter
    (3, 4)
    >>> tmp.cleanup()
    """
    arrays = {f"param/{p.name}": np.array(p.get_value()) for p in _all_params(session)}
    for name, value in get_state_values(session.functions.updates).items():
        arrays[f"opt/{name}"] = value
    for index, state in enumerate(states):
        arrays[f"state/{index}"] = np.array(state)
    return arrays


def expected_arrays(session, batch_size=None):
    """The names, shapes and dtypes :func:`restore_arrays` needs, for ``load_checkpoint``.

    Parameters
    ----------
    session : Session
    batch_size : int, optional
        Rows of the carried states; default ``train.batch_size``.

    Returns
    -------
    dict of str to (tuple, numpy.dtype)
        The names of :func:`checkpoint_arrays`, each with its shape and dtype (None for the
        optimizer's 0-d step counters: :func:`restore_arrays` checks those); the carried
        states are ``(batch_size, hidden)``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training.session import build_session
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> session = build_session(config.load(None, [f"data.path={path}", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4"]))
    >>> expected = expected_arrays(session, batch_size=3)
    >>> expected["param/out.W"], expected["state/0"]  # out.W is (hidden, vocabulary)
    (((4, 3), dtype('float32')), ((3, 4), dtype('float32')))
    >>> from rnnlab.run.checkpoint import load_checkpoint, save_checkpoint
    >>> stem = pathlib.Path(tmp.name) / "latest"
    >>> _ = save_checkpoint(stem, checkpoint_arrays(session, session.functions.initial_states(2)),
    ...                     {"step": 0})
    >>> arrays, meta = load_checkpoint(stem, expected_arrays(session))  # batch_size=2: matches
    >>> load_checkpoint(stem, expected)
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: ...: array 'state/0' has shape (2, 4)...
    >>> tmp.cleanup()
    """
    batch_size = session.cfg.train.batch_size if batch_size is None else batch_size
    arrays = checkpoint_arrays(session, session.functions.initial_states(batch_size))
    # A step counter's dtype is left to set_state_values, which also restores the int32
    # counters of rnnlab 0.1 (today's are floats, as in Lasagne).
    return {name: (array.shape, None if name.startswith("opt/") and array.shape == ()
                   else array.dtype) for name, array in arrays.items()}


def restore_arrays(session, arrays):
    """Set the parameters and optimizer state from :func:`checkpoint_arrays`'s names.

    Parameters
    ----------
    session : Session
    arrays : dict of str to numpy.ndarray
        As saved; every parameter and optimizer-state name must be present with its shape and
        dtype.

    Returns
    -------
    list of numpy.ndarray
        The carried states ``"state/0"``, ``"state/1"``, ... in order, each ``(batch, hidden)``
        (``[]`` if none).

    Raises
    ------
    CheckpointError
        Naming the first missing array or shape/dtype mismatch; nothing is changed then.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training.session import build_session
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> session = build_session(config.load(None, [f"data.path={path}", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4"]))
    >>> saved = checkpoint_arrays(session, session.functions.initial_states(2))
    >>> x, y = session.task.train_batch(0, 0)  # character ids, both (batch, seq_len) = (2, 5)
    >>> loss, grad_norm, state = session.functions.train(x, y, *session.functions.initial_states(2))
    >>> checkpoint_arrays(session, [state])["opt/adam.t"]  # one update taken
    array(1., dtype=float32)
    >>> [state.shape for state in restore_arrays(session, saved)]
    [(2, 4)]
    >>> now = checkpoint_arrays(session, [])
    >>> all(np.array_equal(now[name], saved[name]) for name in now)
    True
    >>> restore_arrays(session, {})
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: checkpoint lacks 'param/rec0.W_in_to_hid'; ...
    >>> tmp.cleanup()
    """
    params = _all_params(session)
    for param in params:
        key = f"param/{param.name}"
        if key not in arrays:
            raise CheckpointError(f"checkpoint lacks {key!r}; expected the arrays of this model")
        current = param.get_value(borrow=True)
        if arrays[key].shape != current.shape or arrays[key].dtype != current.dtype:
            raise CheckpointError(f"checkpoint array {key!r} has shape {arrays[key].shape} "
                                  f"{arrays[key].dtype}; the model expects {current.shape} "
                                  f"{current.dtype}")
    optimizer = {name[4:]: value for name, value in arrays.items() if name.startswith("opt/")}
    try:
        set_state_values(session.functions.updates, optimizer)
    except ValueError as err:
        raise CheckpointError(f"checkpoint optimizer state: {err}") from None
    for param in params:
        param.set_value(np.array(arrays[f"param/{param.name}"]))
    count = sum(name.startswith("state/") for name in arrays)
    return [np.array(arrays[f"state/{index}"]) for index in range(count)]


def random_state(session):
    """The states of the dropout generators (``functions.random_state``), JSON-ready.

    Parameters
    ----------
    session : Session

    Returns
    -------
    list of dict
        ``Generator.bit_generator.state`` of each, in order (``[]`` without dropout).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training.session import build_session
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> session = build_session(config.load(None, [f"data.path={path}", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4", "model.dropout=0.5"]))
    >>> states = random_state(session)
    >>> len(states), states[0]["bit_generator"]
    (1, 'PCG64')
    >>> import json
    >>> json.loads(json.dumps(states)) == states  # 128-bit integers survive JSON exactly
    True
    >>> tmp.cleanup()
    """
    return [var.get_value(borrow=True).bit_generator.state
            for var in session.functions.random_state]


def set_random_state(session, states):
    """Restore the dropout generators from :func:`random_state`'s output.

    Parameters
    ----------
    session : Session
    states : list of dict
        As returned by :func:`random_state` (or read back from JSON), one per generator.

    Raises
    ------
    CheckpointError
        If the number of generators or their kind differs.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from rnnlab import config
    >>> from rnnlab.training.session import build_session
    >>> tmp = tempfile.TemporaryDirectory()
    >>> path = pathlib.Path(tmp.name) / "tiny.txt"
    >>> _ = path.write_text("abcab" * 40)
    >>> session = build_session(config.load(None, [f"data.path={path}", "data.seq_len=5",
    ...     "train.batch_size=2", "model.cell=elman", "model.hidden=4", "model.dropout=0.5"]))
    >>> arrays, generators = checkpoint_arrays(session, []), random_state(session)
    >>> x, y = session.task.train_batch(0, 0)  # character ids, both (batch, seq_len) = (2, 5)
    >>> h0 = session.functions.initial_states(2)  # [(2, 4)]
    >>> first = session.functions.train(x, y, *h0)[0]
    >>> _ = restore_arrays(session, arrays)  # the parameters alone: new dropout masks
    >>> bool(session.functions.train(x, y, *h0)[0] == first)
    False
    >>> _ = restore_arrays(session, arrays)
    >>> set_random_state(session, generators)  # and the generators: the same step again
    >>> bool(session.functions.train(x, y, *h0)[0] == first)
    True
    >>> set_random_state(session, [])
    Traceback (most recent call last):
    ...
    rnnlab.errors.CheckpointError: checkpoint holds 0 dropout generator states; the model has 1
    >>> tmp.cleanup()
    """
    variables = session.functions.random_state
    if not isinstance(states, list) or not all(isinstance(state, dict) for state in states):
        raise CheckpointError(f"checkpoint random_state = {states!r:.40}: expected a list of "
                              f"generator states (objects)")
    if len(states) != len(variables):
        raise CheckpointError(f"checkpoint holds {len(states)} dropout generator states; the "
                              f"model has {len(variables)}")
    generators = []
    for var, state in zip(variables, states):
        generator = var.get_value(borrow=False)
        if state.get("bit_generator") != generator.bit_generator.state["bit_generator"]:
            raise CheckpointError(f"checkpoint generator {state.get('bit_generator')!r} differs "
                                  f"from the model's {type(generator.bit_generator).__name__}")
        try:
            generator.bit_generator.state = state
        except (TypeError, ValueError, KeyError) as err:
            raise CheckpointError(f"checkpoint generator state {state!r:.40} is malformed "
                                  f"({err})") from None
        generators.append(generator)
    for var, generator in zip(variables, generators):  # all or nothing
        var.set_value(generator, borrow=True)
