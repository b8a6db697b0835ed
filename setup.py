"""Packaging for rnnlab: recurrent networks the Theano + Lasagne way, on PyTensor."""
from pathlib import Path

from setuptools import find_packages, setup

HERE = Path(__file__).parent


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
    extras_require={"dev": _requirements("requirements-dev.txt")
                    + _requirements("requirements-sweep.txt"),
                    "sweep": _requirements("requirements-sweep.txt"),
                    "bench": _requirements("requirements-bench.txt")},
)
