"""The inner graphs of rnnlab's scans compile in the outer function's FAST_COMPILE mode.

``pytensor.scan`` compiles its inner graph (one time step) when the outer function first runs,
in the mode given to ``scan`` when the graph was *built*; with none, in the optimising C backend
(CVM), whatever mode the outer function was compiled in.  A FAST_COMPILE function (rnnlab's unit
tests) would then spend seconds compiling C for every step graph on a cold cache.  The graphs
:func:`~rnnlab.nn.layers.recur` builds must not depend on the mode in force when they are built,
so they leave the inner mode unset, and this rewrite, which runs only when a function is
compiled in FAST_COMPILE, gives those scans (found by their name, :data:`SCAN_NAME`, which their
gradients' ``grad_of_...`` names contain too) the FAST_COMPILE inner mode.  Other scans are left
alone; the NUMBA and JAX backends translate the whole loop themselves and use no inner mode.

Examples
--------
>>> import pytensor, pytensor.tensor as pt
>>> from rnnlab.nn.ops.scan_mode import SCAN_NAME
>>> x = pt.vector("x")
>>> total = pytensor.scan(lambda x_t, s: s + x_t, sequences=[x], outputs_info=[pt.zeros(())],
...                       return_updates=False, name=SCAN_NAME)
>>> f = pytensor.function([x], total[-1], mode="FAST_COMPILE")
>>> [n.op.mode for n in f.maker.fgraph.apply_nodes if n.op.__class__.__name__ == "Scan"]
['FAST_COMPILE']
>>> float(f(np.ones(3, dtype=x.dtype)))
3.0
"""

from pytensor.compile import optdb
from pytensor.graph.rewriting.basic import WalkingGraphRewriter, node_rewriter
from pytensor.scan.op import Scan

__all__ = ["SCAN_NAME", "local_fast_compile_inner_scan"]

#: The name of the scans :func:`~rnnlab.nn.layers.recur` builds; scans whose names contain it
#: (their gradients' ``grad_of_rnnlab_recur`` too) are rnnlab's.
SCAN_NAME = "rnnlab_recur"


@node_rewriter([Scan])
def local_fast_compile_inner_scan(fgraph, node):
    """Replace one of rnnlab's scans without an inner mode by one with ``mode='FAST_COMPILE'``."""
    op = node.op
    if op.mode is not None or SCAN_NAME not in (op.name or ""):
        return False
    new = op.clone()
    new.mode = "FAST_COMPILE"
    return new.make_node(*node.inputs).outputs


optdb.register("rnnlab_fast_compile_inner_scan",
               WalkingGraphRewriter(local_fast_compile_inner_scan), "fast_compile",
               position=49.9)
