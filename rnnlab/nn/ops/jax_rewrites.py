"""Rewrites that run only when a function is compiled for JAX (the rewrites tagged ``jax``).

* :class:`LoadJAXTranslations` imports the ops' JAX translations
  (:mod:`rnnlab.nn.ops.jax_dispatch`), which import JAX: that must not happen when ``rnnlab.nn``
  is imported (most users never run the JAX backend, many have no JAX).
* :class:`StaticParameterShapes` declares the shapes of the shared variables a function reads
  (the parameters, the optimizer state): PyTensor's JAX backend compiles only graphs whose sizes
  are known when JAX traces them, and a gradient such as that of the gates' concatenated weights
  splits by the weights' sizes.  The declared sizes are the values' when the function is
  compiled, which parameters keep.  Batch and sequence sizes come from the arrays a call
  passes, which JAX traces with their shapes (a new shape traces again).

Graphs are built the same for every backend; only compiling for JAX runs these.

Examples
--------
>>> from pytensor.compile import optdb
>>> isinstance(optdb["rnnlab_load_jax_translations"], LoadJAXTranslations)
True
"""

import importlib

import pytensor.tensor as pt
from pytensor.compile import optdb
from pytensor.compile.sharedvalue import SharedVariable
from pytensor.graph.rewriting.basic import GraphRewriter
from pytensor.tensor.type import TensorType

__all__ = ["LoadJAXTranslations", "StaticParameterShapes"]


class LoadJAXTranslations(GraphRewriter):
    """A rewrite that changes nothing and imports :mod:`rnnlab.nn.ops.jax_dispatch`.

    Examples
    --------
    Registered under the ``jax`` tag, so only the JAX mode runs it:

    >>> from pytensor.compile import optdb
    >>> any(isinstance(r, LoadJAXTranslations) for r in optdb.__db__["jax"])
    True
    """

    def apply(self, fgraph):
        importlib.import_module(f"{__package__}.jax_dispatch")   # works in a vendored copy too


class StaticParameterShapes(GraphRewriter):
    """Declare the current shape of every tensor shared variable a graph reads.

    Each such input ``p`` of unknown sizes is replaced, wherever the graph uses it, by
    ``specify_shape(p, p.get_value().shape)``.

    Examples
    --------
    >>> import pytensor, pytensor.tensor as pt
    >>> from pytensor.graph.fg import FunctionGraph
    >>> W = pytensor.shared(np.ones((2, 3)), name="W")
    >>> fgraph = FunctionGraph([W], [W.sum(axis=0)], clone=False)
    >>> StaticParameterShapes().apply(fgraph)
    >>> fgraph.outputs[0].owner.inputs[0].type.shape
    (2, 3)
    """

    def apply(self, fgraph):
        pairs = []
        for var in fgraph.inputs:
            if (isinstance(var, SharedVariable) and isinstance(var.type, TensorType)
                    and None in var.type.shape and fgraph.clients[var]):
                pairs.append((var, pt.specify_shape(var, var.get_value(borrow=True).shape)))
        for var, declared in pairs:
            for node, i in list(fgraph.clients[var]):
                if node != "output" and node is not declared.owner:
                    fgraph.change_node_input(node, i, declared, reason="StaticParameterShapes")


optdb.register("rnnlab_load_jax_translations", LoadJAXTranslations(), "jax", position=0.01)
optdb.register("rnnlab_static_parameter_shapes", StaticParameterShapes(), "jax", position=0.02)
