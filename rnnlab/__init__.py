"""rnnlab: recurrent neural networks the Theano + Lasagne way, on PyTensor.

The packages, in the order data flows through a run (each may import only those above it; the
test ``tests/test_layout.py`` holds the order):

=================  ===============================================================================
``errors``         the exceptions every command turns into one line (a module)
``files``          atomic file writes and safe JSON reading (a module)
``nn``             the Lasagne-compatible layer library, standalone; ``nn.ops`` the fused ops
``reference``      numpy Elman and LSTM with hand-derived BPTT, the independent check
``compat``         opt-in Theano names for Lasagne-era scripts: ``theano``, ``theano.tensor.nnet``
``backend``        the one place PyTensor is configured: device, mode, floatX, cache (a module)
``config``         the run configuration: defaults, TOML files, overrides, checks
``datasets``       time-series CSVs to windows, character text to ids and batches
``run``            the run directory: its layout, checkpoints, the metrics log
``evaluation``     forecast metrics, baselines, the test forecast, plots
``tasks``          the two data kinds (text, series) behind one interface; sampling text
``model``          the layer stacks of the workflow and their compiled functions
``training``       a session (task + network + functions), its state, the training loop
``reports``        statistics over runs, the comparison report, gradient-vs-lag analysis
``commands``       ``python -m rnnlab.train`` and the other commands (the top-level modules
                   ``train``, ``sample``, ``forecast``, ``compare`` and ``warmup`` run them)
``bench``          ``python -m rnnlab.bench``: rnnlab against PyTorch and the numpy reference
=================  ===============================================================================
"""

__version__ = "0.1.0"
