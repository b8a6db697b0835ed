"""Sphinx configuration of rnnlab's documentation (``make docs`` builds it into docs/_build/html).

The pages are Markdown (MyST); the reference pages are generated from the numpydoc docstrings
(``sphinx.ext.autodoc`` with ``sphinx.ext.napoleon``).  The build treats every warning as an
error (``-W`` in the Makefile's ``docs`` target, which ``tests/test_makefile.py`` runs).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

project = "rnnlab"
author = "the rnnlab team"
copyright = "2026, the rnnlab team"

extensions = ["myst_parser", "sphinx.ext.autodoc", "sphinx.ext.napoleon",
              "sphinx.ext.viewcode"]
source_suffix = {".md": "markdown", ".rst": "restructuredtext"}
exclude_patterns = ["_build"]
myst_heading_anchors = 3

napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_use_ivar = True  # "Attributes" as fields: autodoc documents dataclass fields itself
autodoc_member_order = "bysource"
# Each object once, in the module that defines it (packages re-export names in __all__).
autodoc_default_options = {"members": True, "show-inheritance": True, "ignore-module-all": True}
# The shapes in the docstrings' type fields ("shape (batch, vocab)") are words, not references:
# where such a word happens to name two attributes, Sphinx would warn that it is ambiguous.
suppress_warnings = ["ref.python"]
# Optional dependencies the reference pages must not need: the JAX translations of the ops.
autodoc_mock_imports = ["jax"]

html_theme = "alabaster"
html_title = "rnnlab"
