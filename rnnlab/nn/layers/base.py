"""Base classes of every layer: :class:`Layer` (one input) and :class:`MergeLayer` (several).

A layer is two methods: :meth:`Layer.get_output_for` maps symbolic input(s) to a symbolic output,
and :meth:`Layer.get_output_shape_for` maps input shape tuple(s) to the output shape (``None``
marks a size known only at run time).  Parameters are created only through :meth:`Layer.add_param`
and carry tags (``trainable``, ``regularizable``, ...) used by :meth:`Layer.get_params`.
"""

from collections import OrderedDict

from pytensor.graph.basic import Variable

from .. import utils

__all__ = ["Layer", "MergeLayer"]


def _concrete(layer, shape):
    """``shape`` after checking it holds no symbolic sizes (Lasagne's rule for output shapes)."""
    if any(isinstance(s, Variable) for s in shape):
        raise ValueError(f"{type(layer).__name__} returned a symbolic output shape from its "
                         f"get_output_shape_for() method: {shape!r}. This is not allowed; "
                         "shapes must be tuples of integers for fixed-size dimensions and Nones "
                         "for variable dimensions.")
    return shape


def _check_shape(shape, what):
    if any(d is not None and d <= 0 for d in shape):
        raise ValueError(f"cannot create {what} with a non-positive input_shape dimension: "
                         f"input_shape={shape}")


class Layer:
    """A layer with a single input: the base of most layers.

    Parameters
    ----------
    incoming : Layer or tuple
        The layer feeding this one, or the expected input shape (``None`` for sizes unknown
        before run time).
    name : str, optional
        Prefixed to the names of the layer's parameters (``"name.W"``).

    Attributes
    ----------
    input_shape : tuple
        Shape of the input.
    input_layer : Layer or None
        The incoming layer, ``None`` if a shape was given.
    params : OrderedDict
        Maps each parameter to its set of tags.
    get_output_kwargs : list of str
        Keyword arguments of :func:`~rnnlab.nn.layers.get_output` that this layer uses, beyond
        the named arguments of its :meth:`get_output_for`.

    Examples
    --------
    >>> import pytensor.tensor as T
    >>> from rnnlab.nn.layers import Layer, InputLayer, get_output
    >>> class Double(Layer):
    ...     def get_output_for(self, input, **kwargs):
    ...         return 2 * input
    >>> l_in = InputLayer((None, 3))
    >>> l_double = Double(l_in)
    >>> l_double.output_shape
    (None, 3)
    >>> get_output(l_double, np.ones((1, 3))).eval().tolist()
    [[2.0, 2.0, 2.0]]
    """

    def __init__(self, incoming, name=None):
        if isinstance(incoming, tuple):
            self.input_shape, self.input_layer = incoming, None
        else:
            self.input_shape, self.input_layer = incoming.output_shape, incoming
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []
        _check_shape(self.input_shape, f"{type(self).__name__} {name or ''}".strip())

    def __repr__(self):
        name = f" {self.name!r}" if self.name else ""
        try:
            shape = f" {self.output_shape}"
        except Exception:  # a half-defined layer (a repr in an error message must not fail)
            shape = ""
        return f"<{type(self).__name__}{name}{shape}>"

    @property
    def output_shape(self):
        """tuple: The shape of this layer's output, from its input shape."""
        return _concrete(self, self.get_output_shape_for(self.input_shape))

    def get_params(self, unwrap_shared=True, **tags):
        """Return the layer's parameters, optionally filtered by tags.

        Parameters
        ----------
        unwrap_shared : bool
            If True, a parameter given as an expression is replaced by the shared variables it
            depends on.
        **tags
            ``tag=True`` keeps parameters that have the tag, ``tag=False`` drops them.

        Returns
        -------
        list of Variable
            In order of creation.
        """
        only = {tag for tag, want in tags.items() if want}
        exclude = {tag for tag, want in tags.items() if not want}
        result = [p for p, ptags in self.params.items()
                  if only <= ptags and not (exclude & ptags)]
        return utils.collect_shared_vars(result) if unwrap_shared else result

    def get_output_shape_for(self, input_shape):
        """Compute the output shape for a given input shape (identity by default).

        Parameters
        ----------
        input_shape : tuple
            ``None`` entries mark sizes unknown before run time.

        Returns
        -------
        tuple
        """
        return input_shape

    def get_output_for(self, input, **kwargs):
        """Compute the symbolic output for a symbolic input.

        Parameters
        ----------
        input : Variable
            Shaped as ``input_shape``.
        **kwargs
            Options forwarded by :func:`~rnnlab.nn.layers.get_output` (e.g. ``deterministic``).

        Returns
        -------
        Variable
            Shaped as ``output_shape``.
        """
        raise NotImplementedError(f"{type(self).__name__} does not define get_output_for")

    def add_param(self, spec, shape, name=None, **tags):
        """Create a parameter, register it with its tags and return it.

        Parameters
        ----------
        spec : numpy.ndarray, SharedVariable, expression or callable
            See :func:`rnnlab.nn.utils.create_param`.
        shape : tuple of int
            The parameter's shape.
        name : str, optional
            Prefixed with ``"<layer name>."`` when the layer has a name.
        **tags
            ``trainable`` and ``regularizable`` default to True; other tags are free-form.

        Returns
        -------
        Variable
            The parameter.
        """
        if name is not None and self.name is not None:
            name = f"{self.name}.{name}"
        param = utils.create_param(spec, shape, name)
        tags.setdefault("trainable", True)
        tags.setdefault("regularizable", True)
        self.params[param] = {tag for tag, on in tags.items() if on}
        return param


class MergeLayer(Layer):
    """A layer with several inputs.

    Parameters
    ----------
    incomings : list of Layer or tuple
        The incoming layers or their shapes.
    name : str, optional

    Attributes
    ----------
    input_shapes : list of tuple
    input_layers : list of Layer or None

    Examples
    --------
    >>> from rnnlab.nn.layers import MergeLayer, InputLayer, get_output
    >>> class Product(MergeLayer):
    ...     def get_output_shape_for(self, input_shapes):
    ...         return input_shapes[0]
    ...     def get_output_for(self, inputs, **kwargs):
    ...         return inputs[0] * inputs[1]
    >>> a, b = InputLayer((None, 2)), InputLayer((None, 2))
    >>> Product([a, b]).output_shape
    (None, 2)
    """

    def __init__(self, incomings, name=None):
        self.input_shapes = [inc if isinstance(inc, tuple) else inc.output_shape
                             for inc in incomings]
        self.input_layers = [None if isinstance(inc, tuple) else inc for inc in incomings]
        self.name = name
        self.params = OrderedDict()
        self.get_output_kwargs = []
        for shape in self.input_shapes:
            _check_shape(shape, f"{type(self).__name__} {name or ''}".strip())

    @Layer.output_shape.getter
    def output_shape(self):
        """tuple: The shape of this layer's output, from its input shapes."""
        return _concrete(self, self.get_output_shape_for(self.input_shapes))

    def get_output_shape_for(self, input_shapes):
        """Compute the output shape from the list of input shapes.

        Parameters
        ----------
        input_shapes : list of tuple

        Returns
        -------
        tuple
        """
        raise NotImplementedError(f"{type(self).__name__} does not define get_output_shape_for")

    def get_output_for(self, inputs, **kwargs):
        """Compute the symbolic output from the list of symbolic inputs.

        Parameters
        ----------
        inputs : list of Variable
        **kwargs

        Returns
        -------
        Variable
        """
        raise NotImplementedError(f"{type(self).__name__} does not define get_output_for")
