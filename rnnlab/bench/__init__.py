"""``python -m rnnlab.bench``: rnnlab against PyTorch and the numpy reference on a character LM.

One run trains the same model (embedding -> one Elman / LSTM / GRU layer -> dense softmax, plain
SGD, float32) in every framework from the same initial parameters, on the same batches, and
reports training and sampling characters per second with their ratio to PyTorch, peak memory,
and cold and warm start-up; ``--json`` saves everything with the machine's details.

=====================  =============================================================
module                 what it does
=====================  =============================================================
``specs``              the configurations (a), (b), (c), the shared settings, the
                       rnnlab config that builds the model as ``rnnlab.train`` does
``rnnlab_runner``      rnnlab's session, compiled ``train`` and ``sampling.generate``
``torch_runner``       the PyTorch model and the parameter layout conversion
``numpy_runner``       the numpy reference (:mod:`rnnlab.reference`) with SGD
``measure``            timing, interleaving, resident-set and machine facts
``probe``              memory and start-up, each in a fresh process
``probe_rnnlab``,      those fresh processes, one per framework: their module-level imports
``probe_torch``,       are what a probe measures
``probe_numpy``
``suite``              runs a plan: speed in one process, then the probes
``report``             the printed tables
``cli``                the command line
``torch_train``        ``python -m rnnlab.bench.torch_train``: a text run config's
                       model trained in PyTorch in its budget (the results' baseline)
=====================  =============================================================

Every runner offers the same three methods: ``step()`` (one training step on the next batch,
the state carried; returns the loss), ``sample(length)`` (characters one call at a time) and
``parameters()`` (by rnnlab's names).  PyTorch is optional (``pip install -r
requirements-bench.txt`` or ``pip install rnnlab[bench]``), never a runtime dependency.

A command package like :mod:`rnnlab.commands`: importing it prepares the process
(:func:`rnnlab.backend.prepare_process`), so its modules may import PyTensor at module level.
PyTorch, an optional dependency, is imported inside functions (:mod:`~rnnlab.bench.torch_runner`,
:mod:`~rnnlab.bench.probe_torch`); every rnnlab module at module level.
"""

from rnnlab import backend

backend.prepare_process()
