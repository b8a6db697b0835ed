"""Typed, frozen config records: one per section, and :class:`Config` holding the five.

The records are made from :data:`rnnlab.config.schema.DEFAULTS`, so every key is an attribute
of its section's record with the default's type (``data.covariates`` is a tuple of strings).
A record checks its values when it is made (:func:`rnnlab.config.checks.check_value`: type,
choice, range) and cannot be changed afterwards, so code that holds one never checks a value
again.  :func:`validate` is the way in from a plain dict (a TOML file, ``config.json``), and
:meth:`Config.replace` the way to a changed copy; :meth:`Config.to_dict` is the way out, to JSON.
"""

import dataclasses

from rnnlab.config.checks import (bad_value_error, check_value, source_of, source_prefix,
                                  unknown_key_error)
from rnnlab.config.schema import DEFAULTS
from rnnlab.errors import ConfigError

__all__ = ["Config", "DataConfig", "ModelConfig", "TrainConfig", "RunConfig", "DeviceConfig",
           "SECTIONS", "validate"]

_TYPES = {bool: bool, int: int, float: float, str: str, list: tuple[str, ...]}


def _check_section(record):
    for field in dataclasses.fields(record):
        dotted = f"{record.SECTION}.{field.name}"
        value = check_value(dotted, getattr(record, field.name), None)
        if isinstance(value, list):
            value = tuple(value)
        object.__setattr__(record, field.name, value)


def _section_record(section, name):
    keys = DEFAULTS[section]
    fields = [(key, _TYPES[type(default)],
               dataclasses.field(default=tuple(default) if isinstance(default, list) else default))
              for key, (default, _) in keys.items()]
    lines = [f"The ``[{section}]`` section of a config, checked when made and frozen.", "",
             "Attributes", "----------"]
    for key, (default, comment) in keys.items():
        # reST would read the '*' of glob patterns (data.path) as emphasis.
        lines += [f"{key} : {_TYPES[type(default)].__name__}",
                  "    " + comment.replace("*", "\\*") + "."]
    first, (default, _) = next(iter(keys.items()))
    lines += ["", "Examples", "--------", f">>> {name}().{first}", repr(default)]
    cls = dataclasses.make_dataclass(
        name, fields, frozen=True,
        namespace={"SECTION": section, "__post_init__": _check_section,
                   "__module__": __name__, "__doc__": "\n".join(lines)})
    return cls


DataConfig = _section_record("data", "DataConfig")
ModelConfig = _section_record("model", "ModelConfig")
TrainConfig = _section_record("train", "TrainConfig")
RunConfig = _section_record("run", "RunConfig")
DeviceConfig = _section_record("device", "DeviceConfig")

#: The record of each section, in the order of :data:`rnnlab.config.schema.DEFAULTS`.
SECTIONS = {"data": DataConfig, "model": ModelConfig, "train": TrainConfig, "run": RunConfig,
            "device": DeviceConfig}


@dataclasses.dataclass(frozen=True)
class Config:
    """A resolved config: five section records, checked when made and frozen.

    Read values as attributes (``cfg.model.hidden``); make a changed copy with
    :meth:`replace`; write it as JSON with :meth:`to_dict`.  Besides each value's own check,
    a config checks the rules that tie keys together: validation and test fractions that leave
    data to train on, a validation part for early stopping, a target column for series data, and a date column for ``data.freq``,
    ``data.val_start`` and ``data.test_start``.

    Parameters
    ----------
    data, model, train, run, device : record
        The sections (:class:`DataConfig`, ...); each defaults to its section's defaults.

    Examples
    --------
    >>> cfg = Config()
    >>> cfg.model.cell, cfg.train.lr, cfg.data.covariates
    ('lstm', 0.002, ())
    >>> cfg.replace(model={"cell": "gru", "hidden": 16}).model
    ModelConfig(cell='gru', hidden=16, layers=1, dropout=0.0, embedding=0, grad_clipping=0.0, gradient_steps=-1)
    >>> cfg.replace(model={"hidden": 0})
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: model.hidden = 0: expected an integer from 1 to 8192
    """

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    run: RunConfig = dataclasses.field(default_factory=RunConfig)
    device: DeviceConfig = dataclasses.field(default_factory=DeviceConfig)

    def __post_init__(self):
        for section, record in SECTIONS.items():
            if not isinstance(getattr(self, section), record):
                raise ConfigError(f"section '{section}' is a {type(getattr(self, section)).__name__}"
                                  f"; expected a {record.__name__}")
        data = self.data
        if data.val_fraction + data.test_fraction >= 1:
            err = ConfigError(f"data.val_fraction + data.test_fraction = {data.val_fraction!r} + "
                              f"{data.test_fraction!r}: expected a sum < 1 (data left to train on)")
            err.key = "data.test_fraction"
            raise err
        if self.train.patience and data.val_fraction == 0 and not data.val_start:
            raise bad_value_error("train.patience", self.train.patience, None,
                                  "0 when data.val_fraction = 0 (early stopping needs a "
                                  "validation part)")
        if data.kind == "series" and not data.target:
            raise bad_value_error("data.target", "", None, "the name of the column to forecast "
                                  "(required when data.kind = 'series')")
        if data.kind == "series" and data.freq and not data.date:
            raise bad_value_error("data.freq", data.freq, None, "'' without a date column (set "
                                  "data.date to the column the step applies to)")
        if data.split_by == "file" and data.kind != "text":
            raise bad_value_error("data.split_by", data.split_by, None,
                                  "'position' for series data (one CSV; its parts are by "
                                  "position or by date)")
        for key in ("val_start", "test_start"):
            if getattr(data, key) and (data.kind != "series" or not data.date):
                raise bad_value_error(f"data.{key}", getattr(data, key), None,
                                      "'' unless the data is a series with dates (data.kind = "
                                      "'series' and data.date naming the date column)")

    def replace(self, **sections):
        """A copy with some values changed, checked like any new config.

        Parameters
        ----------
        **sections : dict
            ``section={key: value}`` for each section to change.

        Returns
        -------
        Config

        Raises
        ------
        rnnlab.errors.ConfigError
            For an unknown section or key, or a value the key does not take.

        Examples
        --------
        >>> Config().replace(train={"lr": 1}).train.lr
        1.0
        >>> Config().replace(train={"cell": "gru"})
        Traceback (most recent call last):
        ...
        rnnlab.errors.ConfigError: unknown key 'train.cell' (did you mean 'model.cell'?)
        """
        changed = {}
        for section, values in sections.items():
            if section not in SECTIONS:
                raise unknown_key_error(section, None, None)
            for key in values:
                if key not in DEFAULTS[section]:
                    raise unknown_key_error(section, key, None)
            changed[section] = dataclasses.replace(getattr(self, section), **values)
        return dataclasses.replace(self, **changed)

    def to_dict(self):
        """The config as ``{section: {key: value}}``, lists for tuples: what JSON and TOML hold.

        Returns
        -------
        dict
            A new dict; :func:`validate` turns it back into an equal config.

        Examples
        --------
        >>> Config().to_dict()["data"]["covariates"]
        []
        >>> validate(Config().to_dict()) == Config()
        True
        """
        return {section: {key: list(value) if isinstance(value, tuple) else value
                          for key, value in dataclasses.asdict(getattr(self, section)).items()}
                for section in SECTIONS}


def validate(cfg, sources=None):
    """Check a complete config dict and make the :class:`Config` it describes.

    This checks no file: see :func:`rnnlab.config.check_paths`.

    Parameters
    ----------
    cfg : dict
        ``{section: {key: value}}`` with exactly the sections and keys of
        :data:`~rnnlab.config.schema.DEFAULTS`.
    sources : str or dict, optional
        Where the values came from, for error messages: one name (a file) for all, or a dict
        ``{"section.key": name}`` (what :func:`rnnlab.config.load` passes).

    Returns
    -------
    Config
        Int values of float keys become floats, lists become tuples.

    Raises
    ------
    ConfigError
        Naming the source, the key, the value and what was expected.

    Examples
    --------
    >>> from rnnlab.config import defaults
    >>> cfg = defaults()
    >>> cfg["train"]["lr"] = 1
    >>> validate(cfg).train.lr
    1.0
    >>> cfg["model"]["layers"] = 4
    >>> validate(cfg, "lstm.toml")
    Traceback (most recent call last):
    ...
    rnnlab.errors.ConfigError: lstm.toml: model.layers = 4: expected an integer from 1 to 3
    """
    if not isinstance(cfg, dict):
        raise ConfigError(f"{source_prefix(source_of(sources, None))}config is a "
                          f"{type(cfg).__name__}; expected a dict of sections")
    for section in cfg:
        if section not in DEFAULTS:
            raise unknown_key_error(section, None, source_of(sources, None))
    records = {}
    for section, record in SECTIONS.items():
        values = cfg.get(section)
        if not isinstance(values, dict):
            raise ConfigError(f"{source_prefix(source_of(sources, None))}section '{section}' is "
                              f"{'missing' if values is None else repr(values)}; expected a "
                              f"table of keys")
        for key in values:
            if key not in DEFAULTS[section]:
                raise unknown_key_error(section, key, source_of(sources, f"{section}.{key}"))
        for key in DEFAULTS[section]:
            if key not in values:
                raise ConfigError(f"{source_prefix(source_of(sources, f'{section}.{key}'))}missing "
                                  f"key '{section}.{key}'; expected every key (start from "
                                  f"rnnlab.config.defaults())")
        records[section] = _sourced(record, values, sources)
    return _sourced(Config, records, sources)


def _sourced(make, values, sources):
    """``make(**values)``, its error prefixed with where the value at fault came from."""
    try:
        return make(**values)
    except ConfigError as err:
        source = source_of(sources, getattr(err, "key", None))
        if not source:
            raise
        raise ConfigError(source_prefix(source) + str(err)) from None
