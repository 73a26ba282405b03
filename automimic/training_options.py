"""The model and training options of every command that trains (``train``, ``run``, ``pautomac``).

Each option is one row of :data:`OPTIONS` naming a field of :class:`neural.RNNConfig` or
:class:`neural.TrainConfig`; its type, the default shown in ``--help`` and its checks come from
that field. They are read only when needed (a given option is parsed, help is printed), so a
command that does not train never pays for importing torch. A new config field needs one row.
"""

from __future__ import annotations

import argparse
import math
import typing
from dataclasses import MISSING, dataclass, fields
from types import NoneType, UnionType

from automimic.errors import CliError

MODEL = "RNNConfig"  # the groups: the name of their class in neural
TRAINING = "TrainConfig"
GROUP_TITLES = {MODEL: "model options", TRAINING: "training options"}
GROUP_KEYS = {MODEL: "model", TRAINING: "training"}  # as in pipeline.RunOptions


@dataclass(frozen=True)
class Option:
    """One command-line option: the config class, the field it sets, its help (the default is
    added), the flag (default ``--field-name``); ``switch`` makes a bool field ``--x/--no-x``."""

    group: str
    field: str
    help: str
    flag: str = ""
    switch: bool = False

    @property
    def name(self) -> str:
        """The flag on the command line.

        >>> Option(TRAINING, "batch_size", "").name, Option(MODEL, "hidden_size", "", "--hidden").name
        ('--batch-size', '--hidden')
        """
        return self.flag or "--" + self.field.replace("_", "-")


OPTIONS = (
    Option(MODEL, "cell", "elman, lstm or gru"),
    Option(MODEL, "nonlinearity", "of the elman cell: sigmoid or tanh"),
    Option(MODEL, "hidden_size", "hidden units per layer", "--hidden"),
    Option(MODEL, "num_layers", "recurrent layers", "--layers"),
    Option(MODEL, "input", "onehot or embedding"),
    Option(MODEL, "embedding_dim", "size of learned input vectors"),
    Option(MODEL, "dropout", "locked dropout after every recurrent layer, the top one included (training only)"),
    Option(MODEL, "input_dropout", "drop whole symbols of a string from the input (training only)"),
    Option(MODEL, "weight_dropout", "DropConnect on the recurrent weights W_hh (training only)"),
    Option(TRAINING, "epochs", "maximum epochs"),
    Option(TRAINING, "lr", "Adam learning rate"),
    Option(TRAINING, "schedule", "constant, cosine or plateau"),
    Option(TRAINING, "min_lr_ratio", "final learning rate of the cosine schedule, relative to --lr"),
    Option(TRAINING, "schedule_epochs", "the epochs the cosine schedule spans, or none: the epochs trained"),
    Option(TRAINING, "weight_decay", "Adam's L2 penalty"),
    Option(TRAINING, "batch_size", "strings (or streams with --bptt) per batch"),
    Option(TRAINING, "bptt", "truncated BPTT: train on one stream in chunks of K steps"),
    Option(TRAINING, "clip", "maximum gradient norm, or none: no clipping"),
    Option(TRAINING, "max_tokens", "fewer epochs when they would train on more tokens than this, or none"),
    Option(TRAINING, "patience", "stop after this many epochs without improvement, or none: never"),
    Option(TRAINING, "min_delta", "bits per symbol: a smaller improvement does not count"),
    Option(TRAINING, "eval_batch_size", "strings per batch when validating"),
    Option(TRAINING, "precision", "fp32, or bf16: training steps autocast to bfloat16 (refused where the "
                                  "device or cell cannot)"),
    Option(TRAINING, "ensemble", "train K models (seeds seed … seed+K-1) and average their distributions"),
    Option(TRAINING, "tune", "seconds to try a small grid of settings around these; the best on validation "
                             "is kept (0: off)"),
    Option(TRAINING, "tune_average", "with --tune, keep the average of the trials that lower the validation "
                                     "loss together, where they do", switch=True),
    Option(TRAINING, "ema", "decay per step of a moving average of the weights, which is validated and "
                            "saved (0: off)"),
    Option(TRAINING, "refit_head", "after training, fit the output layer again with dropout off; kept where "
                                   "it lowers the validation loss", switch=True),
    Option(TRAINING, "refit", "then train again on the training and validation strings together, for the "
                              "epochs validation chose; that model is kept", switch=True),
)


def add_training_options(parser: argparse.ArgumentParser, defaults: dict | None = None) -> None:
    """Add the model and training options to ``parser``, in two help groups, and ``--device``.

    Options not given are absent from the parsed namespace (the config's default applies, or the
    saved one on resume); ``none`` gives None to a field that admits it. ``defaults`` are the
    fields whose default the command itself sets otherwise (its help shows them; the command
    applies them).

    Examples
    --------
    >>> parser = argparse.ArgumentParser()
    >>> add_training_options(parser)
    >>> vars(parser.parse_args(["--hidden", "8", "--patience", "none"]))
    {'device': 'auto', 'hidden_size': 8, 'patience': None}
    """
    groups = {key: parser.add_argument_group(title) for key, title in GROUP_TITLES.items()}
    for option in OPTIONS:
        group = groups[option.group]
        if option.switch:
            action = group.add_argument(option.name, dest=option.field, default=argparse.SUPPRESS,
                                        action=argparse.BooleanOptionalAction, help=option.help)
        else:
            action = group.add_argument(option.name, dest=option.field, default=argparse.SUPPRESS,
                                        type=_FieldType(option), metavar=option.field.upper(),
                                        help=option.help)
        action.config_option = option  # read by the help formatter
        if option.field in (defaults or {}):
            action.command_default = defaults[option.field]
    groups[TRAINING].add_argument("--device", default="auto",
                                  help="auto, cpu, cuda or cuda:N (auto)")
    parser.formatter_class = ConfigDefaultsHelpFormatter


def chosen_options(args: argparse.Namespace) -> dict[str, dict]:
    """The fields given on the command line, by group (``model``, ``training``).

    >>> chosen_options(argparse.Namespace(lr=0.1, out="runs/x"))
    {'model': {}, 'training': {'lr': 0.1}}
    """
    chosen: dict[str, dict] = {key: {} for key in GROUP_KEYS.values()}
    for option in OPTIONS:
        if hasattr(args, option.field):
            chosen[GROUP_KEYS[option.group]][option.field] = getattr(args, option.field)
    return chosen


def build_configs(model: dict, training: dict):
    """The RNNConfig and TrainConfig of these fields; errors name the command-line options.

    Examples
    --------
    >>> build_configs({"hidden_size": 8}, {})[0].hidden_size
    8
    >>> build_configs({"hidden_size": 0}, {})
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: --hidden must be at least 1, got 0
    """
    configs = []
    for group, values in ((MODEL, model), (TRAINING, training)):
        try:
            configs.append(config_class(group)(**values))
        except ValueError as err:
            raise CliError(_with_flag(str(err), group)) from None
    return configs[0], configs[1]


def configs_from_args(args: argparse.Namespace):
    """The RNNConfig and TrainConfig of the options given (defaults for the others).

    >>> parser = argparse.ArgumentParser()
    >>> add_training_options(parser)
    >>> configs_from_args(parser.parse_args(["--epochs", "2"]))[1].epochs
    2
    """
    chosen = chosen_options(args)
    return build_configs(chosen["model"], chosen["training"])


def check_device(device: str) -> None:
    """Refuse (CliError) a ``--device`` this machine does not have, before anything is written.

    Examples
    --------
    >>> check_device("cpu")
    >>> check_device("foo")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: --device foo: unknown device 'foo' (expected auto, cpu, ...)
    """
    from neural import resolve_device

    try:
        resolve_device(device)
    except ValueError as err:
        hint = "" if str(err).startswith("unknown device") else "; use --device cpu or auto"
        raise CliError(f"--device {device}: {err}{hint}") from None


def check_precision(device: str, model_config, train_config) -> None:
    """Refuse (CliError) a ``--precision`` in which ``device`` cannot train the model's cell.

    >>> check_precision("cpu", None, None)  # resuming: the saved settings were checked
    """
    from neural import RNNConfig, resolve_device
    from neural.precision import check_precision as check

    if train_config is not None:
        try:
            check(train_config.precision, resolve_device(device), model_config or RNNConfig())
        except ValueError as err:
            raise CliError(f"--{err}") from None


def config_class(group: str) -> type:
    """``neural.RNNConfig`` or ``neural.TrainConfig`` (imports torch)."""
    import neural

    return getattr(neural, group)


class ConfigDefaultsHelpFormatter(argparse.HelpFormatter):
    """Help that shows each config option's default, read from its dataclass when help is printed."""

    def _get_help_string(self, action: argparse.Action) -> str:
        option = getattr(action, "config_option", None)
        text = super()._get_help_string(action) or ""
        if option is None:
            return text
        default = getattr(action, "command_default", None)
        shown = _shown(default if hasattr(action, "command_default") else _default(option))
        return f"{text} ({shown})".replace("%", "%%")


class _FieldType:
    """argparse ``type`` of an option: converts the text as the field's annotation says (a
    number, a word, or a tuple of them written ``1,2,3``; ``none`` where None is allowed)."""

    def __init__(self, option: Option) -> None:
        self.option = option
        self.__name__ = option.field

    def __call__(self, text: str):
        kinds = _field_types(self.option)
        if NoneType in kinds and text.lower() == "none":
            return None
        kind = next(k for k in kinds if k is not NoneType)
        extra = " or 'none'" if NoneType in kinds else ""
        if typing.get_origin(kind) is tuple:
            item = typing.get_args(kind)[0]
            expected = f"{_EXPECTED[item]}, or several separated by commas{extra}"
            return tuple(_scalar(part.strip(), item, expected, text) for part in text.split(","))
        return _scalar(text, kind, _EXPECTED[kind] + extra, text)


_EXPECTED = {int: "a whole number", float: "a finite number", str: "a word"}  # the field types


def _scalar(text: str, kind: type, expected: str, given: str):
    """``text`` as an int, a finite float or a str; ArgumentTypeError saying what was expected."""
    try:
        value = kind(text)
    except ValueError:
        value = None
    if value is None or (kind is float and not math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"expected {expected} (got {given!r})")
    return value


def _field_types(option: Option) -> tuple[type, ...]:
    """The types a field admits: ``(int,)``, ``(float, NoneType)`` …"""
    hint = typing.get_type_hints(config_class(option.group))[option.field]
    is_union = isinstance(hint, UnionType) or typing.get_origin(hint) is typing.Union
    return typing.get_args(hint) if is_union else (hint,)


def _default(option: Option):
    field = next(f for f in fields(config_class(option.group)) if f.name == option.field)
    return field.default_factory() if field.default is MISSING else field.default


def _shown(value) -> str:
    """A default as the help shows it.

    >>> _shown(None), _shown(True), _shown(0.003), _shown("lstm"), _shown((1, 2))
    ('none', 'on', '0.003', 'lstm', '1,2')
    """
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


def _with_flag(message: str, group: str) -> str:
    """A config's error message with its field named by the command-line flag.

    >>> _with_flag("hidden_size must be at least 1, got 0", MODEL)
    '--hidden must be at least 1, got 0'
    """
    for option in OPTIONS:
        if option.group == group and message.startswith(f"{option.field} "):
            return option.name + message[len(option.field):]
    return message
