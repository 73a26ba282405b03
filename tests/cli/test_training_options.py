"""The model and training options shared by train, run and pautomac: one row per config field,
help defaults read from the dataclasses, values checked by the configs."""

import argparse
import re
from dataclasses import dataclass, fields

import pytest

import neural
from automimic import training_options
from automimic.cli import build_parser
from automimic.errors import CliError
from automimic.pipeline import RUN_MODEL_DEFAULTS, RUN_TRAINING_DEFAULTS
from automimic.training_options import (
    MODEL,
    OPTIONS,
    TRAINING,
    Option,
    _shown,
    add_training_options,
    build_configs,
    configs_from_args,
)

CONFIGS = {MODEL: neural.RNNConfig, TRAINING: neural.TrainConfig}


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="t")
    add_training_options(parser)
    return parser


@pytest.mark.parametrize("group", [MODEL, TRAINING])
def test_every_config_field_has_exactly_one_option(group):
    names = [option.field for option in OPTIONS if option.group == group]
    assert sorted(names) == sorted(f.name for f in fields(CONFIGS[group]))


def test_flags_are_distinct_and_bool_fields_are_switches():
    assert len({option.name for option in OPTIONS}) == len(OPTIONS)
    for option in OPTIONS:
        default = getattr(CONFIGS[option.group](), option.field)
        assert option.switch == isinstance(default, bool), option.field


@pytest.mark.parametrize("option", [o for o in OPTIONS if not o.switch], ids=lambda o: o.name)
def test_every_option_reads_back_its_default_as_help_shows_it(option):
    default = getattr(CONFIGS[option.group](), option.field)
    args = _parser().parse_args([option.name, _shown(default)])
    assert getattr(args, option.field) == default


@pytest.mark.parametrize("command", ["train", "run"])
def test_help_shows_each_default_of_the_config_or_of_the_command(capsys, command):
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    text = capsys.readouterr().out.split("model options:")[1].replace("training options:", "")
    entries = {" ".join(entry.split()).split(" ")[0].rstrip(","): " ".join(entry.split())
               for entry in re.split(r"\n  (?=-)", text)}
    own = {**RUN_MODEL_DEFAULTS, **RUN_TRAINING_DEFAULTS} if command == "run" else {}
    for option in OPTIONS:
        default = own.get(option.field, getattr(CONFIGS[option.group](), option.field))
        shown = "none" if default is None else str(default)
        if isinstance(default, bool):
            shown = "on" if default else "off"
        assert entries[option.name].endswith(f"({shown})"), entries[option.name]
    assert command == "train" or own["max_tokens"] != neural.TrainConfig().max_tokens
    assert command == "train" or own["hidden_size"] != neural.RNNConfig().hidden_size


def test_given_options_build_the_configs_and_others_keep_their_defaults():
    args = _parser().parse_args(["--hidden", "8", "--cell", "gru", "--patience", "none",
                                 "--clip", "none", "--lr", "0.01", "--weight-decay", "1e-5"])
    model, training = configs_from_args(args)
    assert (model.hidden_size, model.cell, model.num_layers) == (8, "gru", 1)
    assert (training.patience, training.clip, training.lr, training.weight_decay) == (
        None, None, 0.01, 1e-5)
    assert training.epochs == neural.TrainConfig().epochs


@pytest.mark.parametrize("argv, needle", [
    (["--hidden", "x"], "argument --hidden: expected a whole number (got 'x')"),
    (["--lr", "fast"], "argument --lr: expected a finite number (got 'fast')"),
    (["--clip", "inf"], "argument --clip: expected a finite number or 'none' (got 'inf')"),
    (["--epochs", "none"], "argument --epochs: expected a whole number (got 'none')"),
])
def test_a_badly_typed_value_is_a_usage_error(capsys, argv, needle):
    with pytest.raises(SystemExit) as exit_info:
        _parser().parse_args(argv)
    assert exit_info.value.code == 2 and needle in capsys.readouterr().err


@pytest.mark.parametrize("model, training, needle", [
    ({"hidden_size": 0}, {}, "--hidden must be at least 1, got 0"),
    ({"cell": "tree"}, {}, "--cell must be one of elman, lstm, gru, got 'tree'"),
    ({}, {"schedule": "fast"}, "--schedule must be one of"),
    ({}, {"batch_size": 0}, "--batch-size must be positive, got 0"),
    ({}, {"tune_average": True}, "--tune-average needs tune > 0"),
])
def test_an_impossible_value_is_refused_naming_the_flag(model, training, needle):
    with pytest.raises(CliError, match="^" + needle):
        build_configs(model, training)


def test_a_tuple_field_is_written_with_commas(monkeypatch):
    @dataclass(frozen=True)
    class Config:
        seeds: tuple[int, ...] = (0,)

    monkeypatch.setattr(training_options, "config_class", lambda group: Config)
    read = training_options._FieldType(Option(MODEL, "seeds", "ensemble seeds"))
    assert read("1, 2,3") == (1, 2, 3) and read(_shown((4, 5))) == (4, 5)
    with pytest.raises(argparse.ArgumentTypeError, match=r"expected a whole number, or several "
                                                         r"separated by commas \(got '1,x'\)"):
        read("1,x")
