"""Every public function and class carries a numpydoc docstring with a runnable Example.

pytest runs those Examples as doctests (``--doctest-modules`` in pytest.ini); this test makes
sure no public name is missing one.
"""

import importlib
import importlib.util
import inspect
import pkgutil

import pytest

import rnnlab
from rnnlab.nn.ops import OPTIONAL_MODULES

#: Modules that import an optional dependency at module level are walked only where it is
#: installed (the README's set-up does not install JAX; CI adds it, see .ci/run); conftest.py
#: skips their doctests by the same table.
OPTIONAL = OPTIONAL_MODULES


def _public_names():
    for info in pkgutil.walk_packages(rnnlab.__path__, "rnnlab."):
        if info.name.endswith("__main__"):
            continue
        if info.name in OPTIONAL and importlib.util.find_spec(OPTIONAL[info.name]) is None:
            continue
        module = importlib.import_module(info.name)
        for name in getattr(module, "__all__", []):
            obj = getattr(module, name)
            if (inspect.isfunction(obj) or inspect.isclass(obj)) and obj.__module__ == info.name:
                yield f"{info.name}.{name}", obj


PUBLIC = sorted(_public_names(), key=lambda item: item[0])


def test_the_walk_finds_the_library():
    names = {name for name, _ in PUBLIC}
    assert {"rnnlab.nn.layers.recurrent.LSTMLayer", "rnnlab.nn.updates.sgd",
            "rnnlab.reference.elman.elman_backward"} <= names
    assert len(names) > 150


@pytest.mark.parametrize("name, obj", PUBLIC, ids=[name for name, _ in PUBLIC])
def test_public_name_has_numpydoc_docstring_with_example(name, obj):
    doc = inspect.getdoc(obj) or ""
    assert doc.strip(), f"{name} has no docstring"
    assert "Examples\n--------" in doc and ">>>" in doc, f"{name} has no Examples section"
