"""The one recurrence behind every recurrent layer, and the layer base class that plugs it in.

:func:`recur` runs any cell (see :mod:`~rnnlab.nn.layers.cells`) over a batch of sequences: it owns
the loop (``pytensor.scan`` or an unrolled Python loop), masks, ``backwards``, truncated
backpropagation through time (``gradient_steps``), ``precompute_input`` and
``only_return_final``.  :class:`BaseRecurrentLayer` owns what every recurrent layer shares on the
layer side: the extra incomings (mask, initial-state layers), the initial-state parameters, the
output shape and the ``final_states`` keyword of :func:`~rnnlab.nn.layers.get_output`.  The layers
in :mod:`~rnnlab.nn.layers.recurrent` only create their weights and build their cell.
"""

import numbers

import pytensor
from pytensor.gradient import zero_grad
import pytensor.tensor as pt

from .. import init
from .base import Layer, MergeLayer
from ._arguments import check_grad_clipping
from ..ops.recurrence import fused_recur
from ..ops.scan_mode import SCAN_NAME

__all__ = ["recur", "BaseRecurrentLayer"]


def _check_options(gradient_steps, unroll_scan, n_steps):
    if (isinstance(gradient_steps, bool) or not isinstance(gradient_steps, numbers.Integral)
            or not (gradient_steps == -1 or gradient_steps > 0)):
        raise ValueError(f"gradient_steps={gradient_steps!r}: expected -1 (full backpropagation "
                         "through time) or a positive int")
    if unroll_scan and gradient_steps != -1:
        raise ValueError(f"gradient_steps={gradient_steps}: unroll_scan=True needs "
                         "gradient_steps=-1 (truncated backpropagation needs scan)")
    if unroll_scan and n_steps is None:
        raise ValueError("unroll_scan=True needs a sequence length known in advance, but the "
                         "input's time dimension (input_shape[1]) is None")


def _time_major(x):
    """Swap the first two axes: ``(batch, time, ...)`` <-> ``(time, batch, ...)``."""
    return x.dimshuffle(1, 0, *range(2, x.ndim))


def _sizes(x):
    """``x``'s shape as a tuple: Python ints where its type knows them, else symbolic sizes.

    Constant sizes keep the static shape information that reshapes would otherwise lose (the
    JAX backend compiles only graphs whose sizes are constants; a size of 1 stays broadcastable).
    """
    return tuple(x.shape[i] if s is None else s for i, s in enumerate(x.type.shape))


def _precompute(cell, x):
    """Apply ``cell.project`` to all time steps at once: ``(time, batch, ...)`` in and out.

    When ``x`` is an embedding lookup, the compiler computes the lookup and the projection's
    product as one op (:class:`~rnnlab.nn.ops.embedding.EmbeddingProjectionRewrite`).
    """
    n_time, n_batch, *features = _sizes(x)
    proj = cell.project(x.reshape((n_time * n_batch, *features)))
    return proj.reshape((n_time, n_batch, *_sizes(proj)[1:]))


def _unroll(step, sequences, init, n_steps):
    """A Python loop with scan's calling convention; returns time-major stacked states."""
    states, history = list(init), [[] for _ in init]
    for t in range(n_steps):
        states = step(*(seq[t] for seq in sequences), *states)
        for past, state in zip(history, states):
            past.append(state)
    return [pt.stack(past) for past in history]


def recur(cell, input, init_states, mask=None, backwards=False, gradient_steps=-1,
          unroll_scan=False, precompute_input=True, only_return_final=False, n_steps=None):
    """Run a cell over a batch of sequences.

    Parameters
    ----------
    cell : cell
        An object with ``state_names``, ``project(x)`` and ``step(x_proj, *states)`` (see
        :mod:`~rnnlab.nn.layers.cells`).
    input : tensor, shape ``(batch, time, features...)``
    init_states : dict
        One ``(batch,) + state_shape`` tensor per name in ``cell.state_names``.
    mask : tensor, shape ``(batch, time)``, optional
        1 where a step is real, 0 where it is padding; at a masked step every state is copied
        from the previous step (so the output there repeats the previous output).
    backwards : bool
        Process time in reverse.  The outputs are re-reversed, so ``output[:, t]`` still belongs
        to ``input[:, t]``.
    gradient_steps : int
        -1 for full backpropagation through time, ``k > 0`` to backpropagate through the last
        ``k`` steps only (the gradients of ``pytensor.scan``'s ``truncate_gradient``).
    unroll_scan : bool
        Build a Python loop of ``n_steps`` steps instead of a scan (same values).
    precompute_input : bool
        Compute ``cell.project`` for all time steps before the loop (one big matrix product)
        instead of inside each step (same values).
    only_return_final : bool
        Return the state after the last processed step instead of the whole sequence.
    n_steps : int, optional
        The sequence length; required with ``unroll_scan``.

    Returns
    -------
    outputs : dict
        Per state name, ``(batch, time) + state_shape``, or ``(batch,) + state_shape`` with
        ``only_return_final``.
    final_states : dict
        Per state name, the ``(batch,) + state_shape`` state after the last processed step
        (time ``T - 1``, or time 0 with ``backwards``), taken from the same loop as ``outputs``.

    Raises
    ------
    ValueError
        On inconsistent options or state names.

    Examples
    --------
    An Elman cell with identity weights sums its inputs:

    >>> import pytensor.tensor as pt
    >>> from rnnlab.nn.layers import ElmanCell, recur
    >>> x = pt.as_tensor(np.arange(6.).reshape(1, 3, 2))       # (batch, time, features)
    >>> cell = ElmanCell(lambda x: x, lambda h: h)
    >>> outputs, final = recur(cell, x, {'hid': pt.zeros((1, 2))}, unroll_scan=True, n_steps=3)
    >>> outputs['hid'].eval().tolist()
    [[[0.0, 1.0], [2.0, 4.0], [6.0, 9.0]]]
    >>> final['hid'].eval().tolist()
    [[6.0, 9.0]]
    """
    names = tuple(cell.state_names)
    if set(init_states) != set(names):
        raise ValueError(f"init_states has keys {sorted(init_states)}, expected the cell's "
                         f"state names {sorted(names)}")
    _check_options(gradient_steps, unroll_scan, n_steps)
    input = pt.as_tensor_variable(input)
    if input.ndim < 3:
        raise ValueError(f"input has {input.ndim} dimensions, expected at least 3 "
                         "(batch, time, features...)")
    x = _time_major(input)
    spec = None if unroll_scan else getattr(cell, "fused_spec", None)
    spec = spec() if spec is not None else None
    if spec is not None:
        return _fused(cell, spec, x, mask, [init_states[name] for name in names], backwards,
                      gradient_steps, only_return_final)
    if unroll_scan:  # a wrong length would otherwise be silently truncated
        x = pt.specify_shape(x, (n_steps,) + (None,) * (x.ndim - 1))
    sequences = [_precompute(cell, x) if precompute_input else x]
    if mask is not None:
        mask = pt.as_tensor_variable(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask has {mask.ndim} dimensions, expected 2 (batch, time)")
        sequences.append(_time_major(mask))
    if backwards:
        sequences = [seq[::-1] for seq in sequences]
    # Truncated BPTT cuts the gradient inside the step: the states of the steps before the last
    # gradient_steps pass none (zero_grad).  That gives scan(truncate_gradient=k)'s gradients in
    # a graph every backend runs (PyTensor's JAX backend cannot run the gradient of a truncated
    # scan); the backward loop still visits every step.
    keep_grad = gradient_steps != -1 and not unroll_scan
    if keep_grad:  # per loop step: True for the last gradient_steps steps
        n_loop = _sizes(x)[0]
        sequences.append(pt.ge(pt.arange(n_loop), n_loop - gradient_steps))

    def step(*args):
        x_t, prev = args[0], args[len(sequences):]
        new = cell.step(x_t if precompute_input else cell.project(x_t), *prev)
        if mask is not None:
            mask_t = args[1]
            new = [pt.switch(pt.shape_padright(mask_t, s.ndim - 1), s, p)
                   for s, p in zip(new, prev)]
        if keep_grad:
            keep_t = args[len(sequences) - 1]
            new = [pt.switch(keep_t, s, zero_grad(s)) for s in new]
        return list(new)

    init = [init_states[name] for name in names]
    if unroll_scan:
        histories = _unroll(step, sequences, init, n_steps)
    else:
        histories = pytensor.scan(step, sequences=sequences, outputs_info=init,
                                  return_list=True, return_updates=False, name=SCAN_NAME)
    return _finish(names, histories, backwards, only_return_final)


def _fused(cell, spec, x, mask, init, backwards, gradient_steps, only_return_final):
    """:func:`recur` through one :class:`~rnnlab.nn.ops.recurrence.FusedRecurrence` op."""
    x_proj = _precompute(cell, x)
    if mask is not None:
        mask = pt.as_tensor_variable(mask)
        if mask.ndim != 2:
            raise ValueError(f"mask has {mask.ndim} dimensions, expected 2 (batch, time)")
        mask = _time_major(mask)
    if backwards:
        x_proj = x_proj[::-1]
        mask = None if mask is None else mask[::-1]
    histories = fused_recur(spec, x_proj, mask, init, gradient_steps, cell.grad_clipping)
    return _finish(cell.state_names, histories, backwards, only_return_final)


def _finish(names, histories, backwards, only_return_final):
    """``recur``'s return value from the time-major state sequences of the loop."""
    final_states = {name: h[-1] for name, h in zip(names, histories)}
    if only_return_final:
        return dict(final_states), final_states
    if backwards:
        histories = [h[::-1] for h in histories]
    return {name: _time_major(h) for name, h in zip(names, histories)}, final_states


class BaseRecurrentLayer(MergeLayer):
    """The layer side of every recurrent layer: incomings, initial states, shapes, final states.

    Subclasses create their weights, call :meth:`add_initial_states` last in ``__init__`` and
    implement :meth:`make_cell`; :meth:`get_output_for` runs the cell through :func:`recur`.

    Parameters
    ----------
    incoming : Layer or tuple
        Input of shape ``(batch, time, features...)``.
    hid_init : initializer, numpy.ndarray, SharedVariable or Layer
        The initial hidden state: a ``(1,) + state_shape`` parameter (tiled over the batch;
        learned only with ``learn_init``) or a layer whose output is ``(batch,) + state_shape``.
    cell_init : same as ``hid_init``, or None
        The initial cell state, for cells that have one (LSTM).
    mask_input : Layer, optional
        Output ``(batch, time)``: 1 for real steps, 0 for padding (the state is carried over).
    backwards, gradient_steps, unroll_scan, precompute_input, only_return_final
        See :func:`recur`.
    learn_init : bool
        Tag the initial-state parameters ``trainable`` (they are never ``regularizable``).
    grad_clipping : float
        Clip the gradients of the pre-activations to ``[-grad_clipping, grad_clipping]`` (0: off).
    name : str, optional

    Attributes
    ----------
    hid_init, cell_init : Variable or Layer
    mask_incoming_index, hid_init_incoming_index, cell_init_incoming_index : int
        Positions of the extra incomings in ``input_layers``, -1 when absent.
    state_shape : tuple of int
        Shape of a state without the batch axis, e.g. ``(num_units,)``.

    Examples
    --------
    A layer that outputs the running sum of its inputs:

    >>> from rnnlab.nn.layers import BaseRecurrentLayer, ElmanCell, InputLayer
    >>> class RunningSum(BaseRecurrentLayer):
    ...     def __init__(self, incoming, **kwargs):
    ...         super().__init__(incoming, **kwargs)
    ...         self.add_initial_states(self.input_shapes[0][2:])
    ...     def make_cell(self, **kwargs):
    ...         return ElmanCell(lambda x: x, lambda h: h)
    >>> layer = RunningSum(InputLayer((None, 4, 3)), only_return_final=True)
    >>> layer.output_shape, [p.name for p in layer.get_params()]
    ((None, 3), ['hid_init'])
    >>> layer.get_params(trainable=True)
    []
    """

    def __init__(self, incoming, hid_init=init.Constant(0.), cell_init=None, mask_input=None,
                 backwards=False, learn_init=False, gradient_steps=-1, grad_clipping=0,
                 unroll_scan=False, precompute_input=True, only_return_final=False, name=None):
        if hid_init is None:
            raise ValueError("hid_init=None: expected an initializer, array, shared variable or "
                             "Layer")
        incomings = [incoming]
        self.mask_incoming_index = self.hid_init_incoming_index = -1
        self.cell_init_incoming_index = -1
        for what, extra in (("mask", mask_input), ("hid_init", hid_init), ("cell_init", cell_init)):
            if isinstance(extra, Layer):
                setattr(self, f"{what}_incoming_index", len(incomings))
                incomings.append(extra)
        super().__init__(incomings, name=name)
        input_shape = self.input_shapes[0]
        if len(input_shape) < 3:
            raise ValueError(f"{type(self).__name__}: input shape {input_shape} has "
                             f"{len(input_shape)} dimensions, expected at least 3 "
                             "(batch, time, features...)")
        if mask_input is not None and not isinstance(mask_input, Layer):
            raise TypeError(f"mask_input={mask_input!r}: expected a Layer or None")
        if mask_input is not None:
            mask_shape = self.input_shapes[self.mask_incoming_index]
            if len(mask_shape) != 2:
                raise ValueError(f"mask_input output shape {mask_shape}: expected 2 dimensions "
                                 "(batch, time)")
        _check_options(gradient_steps, unroll_scan, input_shape[1])
        self.grad_clipping = check_grad_clipping(grad_clipping)
        self.backwards = bool(backwards)
        self.learn_init = bool(learn_init)
        self.gradient_steps = gradient_steps
        self.unroll_scan = bool(unroll_scan)
        self.precompute_input = bool(precompute_input)
        self.only_return_final = bool(only_return_final)
        self.hid_init, self.cell_init = hid_init, cell_init
        self.state_shape = None

    def add_initial_states(self, state_shape):
        """Create the initial-state parameters (or check the initial-state layers' shapes).

        Parameters
        ----------
        state_shape : tuple of int
            Shape of one example's state, e.g. ``(num_units,)``.
        """
        self.state_shape = tuple(state_shape)
        # Parameters in Lasagne's order: cell_init before hid_init.
        for what in ("cell_init", "hid_init"):
            spec = getattr(self, what)
            if spec is None:
                continue
            index = getattr(self, f"{what}_incoming_index")
            if index > 0:
                shape = self.input_shapes[index]
                if len(shape) != 1 + len(self.state_shape) or any(
                        s is not None and s != t for s, t in zip(shape[1:], self.state_shape)):
                    raise ValueError(f"{what} layer output shape {shape}: expected "
                                     f"{(None,) + self.state_shape}")
            else:
                setattr(self, what, self.add_param(spec, (1,) + self.state_shape, name=what,
                                                   trainable=self.learn_init,
                                                   regularizable=False))

    def make_cell(self, **kwargs):
        """Build the cell from the layer's current parameters (subclasses implement this).

        Parameters
        ----------
        **kwargs
            The keyword arguments of :func:`~rnnlab.nn.layers.get_output`.

        Returns
        -------
        cell
            Whose ``state_names`` are ``('hid',)`` or ``('hid', 'cell')``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define make_cell")

    def get_output_shape_for(self, input_shapes):
        """``(batch, time) + state_shape``, or ``(batch,) + state_shape`` with only_return_final."""
        batch, time = input_shapes[0][:2]
        return ((batch,) if self.only_return_final else (batch, time)) + self.state_shape

    def get_output_for(self, inputs, final_states=None, **kwargs):
        """Run the recurrence.

        Parameters
        ----------
        inputs : list of Variable
            The input ``(batch, time, features...)``, then the mask and initial-state layers'
            outputs if any (see the ``*_incoming_index`` attributes).
        final_states : dict, optional
            If given, ``final_states[self]`` is set to ``{'hid': (batch,) + state_shape}`` (plus
            ``'cell'`` for LSTM): the states after the last processed step.
        **kwargs
            Passed to :meth:`make_cell`.

        Returns
        -------
        Variable
            The hidden states, shaped as :meth:`get_output_shape_for` says.
        """
        cell = self.make_cell(**kwargs)
        input = inputs[0]
        mask = inputs[self.mask_incoming_index] if self.mask_incoming_index > 0 else None
        init = {}
        for what in ("hid", "cell"):
            spec = getattr(self, f"{what}_init")
            index = getattr(self, f"{what}_init_incoming_index")
            if index > 0:
                init[what] = inputs[index]
            elif spec is not None:
                # Sized from the (1,) + state_shape parameter, not from state_shape: a size in
                # the graph is a constant in its compile-cache key, one compile per width.
                init[what] = pt.alloc(spec, input.shape[0],
                                      *(spec.shape[1 + i] for i in range(len(self.state_shape))))
        outputs, finals = recur(
            cell, input, init, mask=mask, backwards=self.backwards,
            gradient_steps=self.gradient_steps, unroll_scan=self.unroll_scan,
            precompute_input=self.precompute_input, only_return_final=self.only_return_final,
            n_steps=self.input_shapes[0][1])
        if final_states is not None:
            final_states[self] = finals
        return outputs["hid"]
