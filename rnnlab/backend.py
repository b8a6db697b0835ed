"""The one place where PyTensor is configured: device, compile mode, floatX and compile cache.

No library package of rnnlab configures anything when it is imported (:mod:`rnnlab.nn` least of
all).  A command process first writes the compile cache into the environment
(:func:`prepare_process`, which importing :mod:`rnnlab.commands` or :mod:`rnnlab.bench` calls),
then applies its config's device section with :func:`configure`; Python or Lasagne-style code may
call :func:`configure` too, before importing :mod:`rnnlab.nn` or PyTensor.  Code that
never calls it runs on PyTensor's own settings (``PYTENSOR_FLAGS``, its defaults) with correct
results, only without rnnlab's faster choices.

PyTensor reads some of its configuration (notably ``base_compiledir``) once, when it is first
imported, so :func:`configure` writes ``PYTENSOR_FLAGS`` *before* that import when it can; called
later it applies the mode and floatX at run time and keeps the cache PyTensor already uses.  It
imports nothing of rnnlab's library: the process-wide choices of the fast path (rnnlab's NUMBA
linker, the kernels' BLAS, SciPy's BLAS on one thread) are :func:`rnnlab.nn.ops.prepare`'s, which
rnnlab's workflow calls where it compiles (:func:`rnnlab.model.compile.compile_network`).

=====================  ================================================  ======================
environment variable   meaning                                           default
=====================  ================================================  ======================
``RNNLAB_DEVICE``      ``cpu`` or ``gpu`` (``gpu`` = PyTensor's JAX       ``cpu``
                       backend on a CUDA device)
``RNNLAB_MODE``        ``FAST_COMPILE``, ``CVM``, ``NUMBA`` or ``JAX``    see ``DEFAULT_MODE``
``RNNLAB_FLOATX``      ``float32`` or ``float64``                         ``float32``
``RNNLAB_CACHE_DIR``   PyTensor's ``base_compiledir`` (Numba's cache      ``.cache/pytensor`` in
                       and, unless ``NUMBA_CACHE_DIR`` is set, rnnlab's   a source checkout, else
                       compiled kernels live below it too)                ``~/.cache/rnnlab``
=====================  ================================================  ======================
"""

import importlib.util
import os
import sys
from pathlib import Path

from .errors import BackendError

__all__ = ["configure", "prepare_process", "check_device", "settings", "cache_dir", "DEVICES",
           "MODES", "DEFAULT_MODE"]

DEVICES = ("cpu", "gpu")
#: Compile modes rnnlab supports, by PyTensor's predefined mode names.
MODES = ("FAST_COMPILE", "CVM", "NUMBA", "JAX")
#: The mode used on the CPU when none is asked for (chosen by measurement: docs/backend.md).
DEFAULT_MODE = "NUMBA"
FLOATX = ("float32", "float64")

_settings = {}
_user_flags = {}  # PYTENSOR_FLAGS as the user set them, before rnnlab added its own


def _default_cache_dir():
    package_root = Path(__file__).resolve().parent.parent
    if (package_root / "setup.py").exists():  # running from a source checkout
        return package_root / ".cache" / "pytensor"
    return Path.home() / ".cache" / "rnnlab" / "pytensor"


def _choose(name, value, env, allowed, default):
    source = "argument"
    if value is None:
        value, source = os.environ.get(env), env
    if value is None or value == "":
        value, source = default, "default"
    canonical = {"device": str.lower, "mode": str.upper}.get(name, str)(value)
    if canonical not in allowed:
        raise BackendError(f"{name} {value!r} (from {source}) is not one of {', '.join(allowed)}")
    return canonical


def check_device(device):
    """Raise :class:`~rnnlab.errors.BackendError` (one line) unless ``device`` can compute here.

    Parameters
    ----------
    device : {'cpu', 'gpu'}
        ``gpu`` needs JAX with CUDA support and a GPU that JAX sees.

    Examples
    --------
    >>> check_device("cpu")
    >>> check_device("tpu")
    Traceback (most recent call last):
    ...
    rnnlab.errors.BackendError: device 'tpu' is not one of cpu, gpu
    """
    if device not in DEVICES:
        raise BackendError(f"device {device!r} is not one of {', '.join(DEVICES)}")
    if device == "gpu":
        _check_gpu()


def _check_gpu():
    try:
        import jax
    except ImportError:
        raise BackendError("device 'gpu' needs JAX with CUDA support (pip install 'jax[cuda12]'); "
                           "it is not installed") from None
    try:
        gpus = jax.devices("gpu")
    except RuntimeError:
        gpus = []
    if not gpus:
        raise BackendError("device 'gpu' was asked for but JAX sees no GPU on this machine "
                           f"(JAX devices: {', '.join(str(d) for d in jax.devices())})")


def configure(device=None, mode=None, floatX=None, cache_dir=None):
    """Configure PyTensor (and Numba's cache) for rnnlab; best before PyTensor is imported.

    Arguments left as ``None`` keep the settings in force when rnnlab was configured before;
    otherwise they come from the ``RNNLAB_*`` environment variables, then from the defaults.
    Calling again with the same settings (or with none) is a no-op, so every module may call it;
    asking for different settings after PyTensor was imported is an error for the cache
    directory, and is applied at run time for the mode and floatX.

    Parameters
    ----------
    device : {'cpu', 'gpu'}, optional
        ``gpu`` selects PyTensor's JAX backend and fails with :class:`~rnnlab.errors.BackendError`
        when no GPU is usable: rnnlab never falls back to the CPU silently.
    mode : {'FAST_COMPILE', 'CVM', 'NUMBA', 'JAX'}, optional
        PyTensor compile mode for ``pytensor.function``.
    floatX : {'float32', 'float64'}, optional
        Default float type of parameters and inputs.
    cache_dir : str or path, optional
        PyTensor's ``base_compiledir``.

    Returns
    -------
    dict
        The settings in force: ``device``, ``mode``, ``floatX``, ``cache_dir``.

    Examples
    --------
    >>> from rnnlab import backend
    >>> s = backend.configure()
    >>> sorted(s)
    ['cache_dir', 'device', 'floatX', 'mode']
    >>> import pytensor
    >>> pytensor.config.floatX == s['floatX']
    True
    """
    new = _resolve(device, mode, floatX, cache_dir)
    if new["device"] == "gpu":
        _check_gpu()
    if new == _settings:
        return dict(_settings)
    _make_cache_dir(new["cache_dir"])  # an unusable folder is named, whatever imported first
    if "pytensor" in sys.modules:
        _apply_at_runtime(new)
    else:
        _apply_before_import(new)
    _settings.clear()
    _settings.update(new)
    return dict(_settings)


def _resolve(device, mode, floatX, cache_dir):
    """The settings asked for: arguments, else those in force, else ``RNNLAB_*``, else defaults."""
    if _settings:  # already configured: arguments left as None keep their current values
        device = device if device is not None else _settings["device"]
        mode = mode if mode is not None else _settings["mode"]
        floatX = floatX if floatX is not None else _settings["floatX"]
        cache_dir = cache_dir if cache_dir is not None else _settings["cache_dir"]
    device = _choose("device", device, "RNNLAB_DEVICE", DEVICES, "cpu")
    default_mode = "JAX" if device == "gpu" else DEFAULT_MODE
    mode = _choose("mode", mode, "RNNLAB_MODE", MODES, default_mode)
    if device == "gpu" and mode != "JAX":
        raise BackendError(f"device 'gpu' runs through PyTensor's JAX backend; mode {mode!r} "
                           "cannot use it (leave mode unset or use JAX)")
    if mode == "JAX" and device == "cpu" and importlib.util.find_spec("jax") is None:
        raise BackendError("mode 'JAX' needs JAX (pip install -r requirements-jax.txt); it is "
                           "not installed")
    floatX = _choose("floatX", floatX, "RNNLAB_FLOATX", FLOATX, "float32")
    cache_dir = str(Path(cache_dir or os.environ.get("RNNLAB_CACHE_DIR") or _default_cache_dir()))
    return {"device": device, "mode": mode, "floatX": floatX, "cache_dir": cache_dir}


def prepare_process():
    """Write the ``RNNLAB_*`` settings into ``PYTENSOR_FLAGS`` and ``NUMBA_CACHE_DIR``; no imports.

    What a command process does first (importing :mod:`rnnlab.commands` calls it), so that its
    modules may import PyTensor at module level and still get rnnlab's compile cache: PyTensor
    reads ``base_compiledir`` and Numba its cache folder once, when they are imported.  The
    config's own ``device`` section is applied later, by :func:`configure`.  Nothing happens once
    PyTensor is imported or :func:`configure` ran, nor for unusable ``RNNLAB_*`` values (the
    command's :func:`configure` reports them as one line).

    Returns
    -------
    bool
        Whether the environment was written.

    Examples
    --------
    >>> import pytensor
    >>> prepare_process()   # too late in this process: PyTensor is imported
    False
    """
    if _settings or "pytensor" in sys.modules:
        return False
    try:
        _apply_before_import(_resolve(None, None, None, None))
    except BackendError:
        return False
    return True


def _make_cache_dir(path):
    try:
        Path(path).mkdir(parents=True, exist_ok=True)
    except OSError as err:
        reason = "it is a file" if isinstance(err, FileExistsError) else (err.strerror or err)
        raise BackendError(f"{path}: cannot use as the compile cache folder ({reason}); "
                           f"expected a writable directory (RNNLAB_CACHE_DIR)") from None


def _apply_before_import(new):
    _make_cache_dir(new["cache_dir"])
    flags = [f"base_compiledir={new['cache_dir']}", f"floatX={new['floatX']}", f"mode={new['mode']}"]
    if "blas__ldflags" not in os.environ.get("PYTENSOR_FLAGS", ""):
        # pip gives PyTensor's C backend no BLAS to link; say so explicitly instead of warning on
        # every import (the C backend then calls BLAS through NumPy's C API).
        flags.append("blas__ldflags=")
    if "numba" not in sys.modules:
        # rnnlab's own compiled kernels (rnnlab.nn.ops.kernels) cache beside PyTensor's,
        # so an empty cache directory means a really cold start and clean-cache clears both.
        os.environ.setdefault("NUMBA_CACHE_DIR", str(Path(new["cache_dir"]) / "rnnlab-kernels"))
    # The user's own PYTENSOR_FLAGS (as they were before rnnlab wrote any) come last so they win
    # where they overlap.
    user = _user_flags.setdefault("PYTENSOR_FLAGS", os.environ.get("PYTENSOR_FLAGS", ""))
    os.environ["PYTENSOR_FLAGS"] = ",".join(flags + ([user] if user else []))


def _apply_at_runtime(new):
    import pytensor

    if Path(pytensor.config.base_compiledir).resolve() != Path(new["cache_dir"]).resolve():
        if _settings or os.environ.get("RNNLAB_CACHE_DIR"):
            raise BackendError(f"compile cache {new['cache_dir']!r} must be chosen before PyTensor "
                               f"is imported (it already uses {pytensor.config.base_compiledir!r}): "
                               "call rnnlab.backend.configure() before importing rnnlab's "
                               "modules or PyTensor")
        new["cache_dir"] = str(pytensor.config.base_compiledir)
    pytensor.config.floatX = new["floatX"]
    pytensor.config.mode = new["mode"]


def settings():
    """Return the settings in force, configuring with the defaults first if needed.

    Returns
    -------
    dict
        ``device``, ``mode``, ``floatX`` and ``cache_dir``.

    Examples
    --------
    >>> from rnnlab import backend
    >>> backend.settings()['device'] in backend.DEVICES
    True
    """
    return dict(_settings) if _settings else configure()


def cache_dir():
    """The compile cache folder: the one in force, else the one :func:`configure` would choose.

    Unlike :func:`settings` this configures nothing and imports nothing, so the command runner can
    ask for it after any failure (it keeps crash reports there, see
    :func:`rnnlab.commands.cli.run_command`).

    Returns
    -------
    pathlib.Path
        ``RNNLAB_CACHE_DIR`` or the default (``.cache/pytensor`` in a source checkout, else
        ``~/.cache/rnnlab/pytensor``) unless :func:`configure` chose another.

    Examples
    --------
    >>> from rnnlab import backend
    >>> backend.cache_dir().name != ""
    True
    """
    if _settings:
        return Path(_settings["cache_dir"])
    return Path(os.environ.get("RNNLAB_CACHE_DIR") or _default_cache_dir())
