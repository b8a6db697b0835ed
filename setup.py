"""Packaging for rnnlab: recurrent networks the Theano + Lasagne way, on PyTensor.

``pip install .`` installs the pinned runtime set (``requirements.txt``) and one console script
per command (``rnnlab-train`` runs what ``python -m rnnlab.train`` runs, and so on).  Extras:
``gpu`` (JAX with CUDA 12, for ``--device gpu``), ``jax`` (JAX on the CPU, ``device.mode=JAX``),
``sweep`` (joblib and dask.distributed, for
``rnnlab-compare --jobs`` / ``--dask-scheduler``) and ``dev`` (the test suite's tools, sweep
included).
"""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent

#: console script -> module whose ``cli`` it runs (see rnnlab/commands/cli.py, console_script).
COMMANDS = {"rnnlab-train": "rnnlab.commands.train", "rnnlab-sample": "rnnlab.commands.sample",
            "rnnlab-forecast": "rnnlab.commands.forecast",
            "rnnlab-compare": "rnnlab.commands.compare",
            "rnnlab-bench": "rnnlab.bench.cli", "rnnlab-warmup": "rnnlab.commands.warmup"}


def _requirements(name):
    lines = (HERE / name).read_text().splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.startswith(("#", "-r"))]


setup(
    name="rnnlab",
    version="0.1.0",
    description="Recurrent neural networks with symbolic gradients and Lasagne-style layers on PyTensor",
    long_description=(HERE / "README.md").read_text(encoding="utf-8"),
    long_description_content_type="text/markdown",
    python_requires=">=3.11",
    packages=find_packages(include=["rnnlab", "rnnlab.*"]),
    install_requires=_requirements("requirements.txt"),
    extras_require={"gpu": _requirements("requirements-gpu.txt"),
                    "jax": _requirements("requirements-jax.txt"),
                    "sweep": _requirements("requirements-sweep.txt"),
                    "bench": _requirements("requirements-bench.txt"),
                    "mkl": _requirements("requirements-mkl.txt"),
                    "dev": _requirements("requirements-dev.txt")
                    + _requirements("requirements-sweep.txt")},
    entry_points={"console_scripts": [f"{name} = {module}:cli"
                                      for name, module in COMMANDS.items()]},
)
