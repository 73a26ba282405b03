"""Checks on the paths a command writes, made before any work."""

from __future__ import annotations

from automimic.errors import CliError
from automimic_io import same_file


def refuse_overwriting_input(output: str, *inputs: str) -> None:
    """Refuse (CliError) an output path that names one of the command's input files.

    Examples
    --------
    >>> refuse_overwriting_input("/dev/../dev/null", "/dev/zero")
    >>> refuse_overwriting_input("/dev/../dev/null", "/dev/null")  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    automimic.errors.CliError: /dev/../dev/null: is the input file /dev/null; writing it would ...
    """
    for source in inputs:
        if same_file(output, source):
            raise CliError(f"{output}: is the input file {source}; writing it would destroy the "
                           "input (choose another output)")
