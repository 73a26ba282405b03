"""The ``automimic`` command line: argument parsing and the one place errors become exit codes.

User errors (bad files, bad arguments, unknown symbols) print one line ``automimic: error: ...``
and exit with 2; other failures exit with 1; nothing prints a traceback unless
``AUTOMIMIC_DEBUG=1`` is set.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from automimic import __version__

COMMAND_MODULES = (
    "automata_cmds", "analysis_cmds", "neural_cmds", "compare_cmds", "inspect_cmds", "pautomac_cmds",
)


class CommandParser(argparse.ArgumentParser):
    """A subcommand's parser: an argument it does not know is its error, shown with its usage
    (argparse otherwise hands it up to the top-level parser, whose usage says nothing of it)."""

    def parse_known_args(self, args=None, namespace=None):
        namespace, extras = super().parse_known_args(args, namespace)
        if extras:
            self.error(f"unrecognized arguments: {' '.join(extras)}")
        return namespace, extras


def build_parser() -> argparse.ArgumentParser:
    """The parser with every subcommand that is installed."""
    parser = argparse.ArgumentParser(
        prog="automimic",
        description="Probabilistic automata, and RNN language models measured against them.",
    )
    parser.add_argument("--version", action="version", version=f"automimic {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND",
                                       parser_class=CommandParser)
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"automimic.commands.{name}")
        except ModuleNotFoundError as error:
            if error.name != f"automimic.commands.{name}":
                raise
            continue
        module.register(subparsers)
    return parser


def foreign_automata() -> str | None:
    """The one-line problem when ``import automata`` finds another project's package, else None.

    automata-lib's package has the same name; installed over this one, it would make every
    command fail with an import error far from the cause.
    """
    import automata

    if callable(getattr(automata, "next_symbol_distribution", None)):
        return None
    where = getattr(automata, "__file__", None) or list(getattr(automata, "__path__", []))
    return (f"the package 'automata' found at {where} is not automimic's (automata-lib uses the same "
            "name); fix: pip uninstall automata-lib, then pip install --force-reinstall --no-deps "
            "automimic")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    try:  # Ctrl-C while the command modules load is an interruption too, not a traceback
        clash = foreign_automata()
        if clash:
            print(f"automimic: error: {clash}", file=sys.stderr)
            return 1
        parser = build_parser()
        args = parser.parse_args(argv)
        if not getattr(args, "handler", None):
            parser.print_help()
            return 2
        return int(args.handler(args) or 0)
    except KeyboardInterrupt:
        print("automimic: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except (ValueError, OSError) as error:
        if os.environ.get("AUTOMIMIC_DEBUG"):
            raise
        print(f"automimic: error: {_message(error)}", file=sys.stderr)
        return 2 if isinstance(error, ValueError | FileNotFoundError | IsADirectoryError |
                               NotADirectoryError | PermissionError) else 1
    except MemoryError:
        if os.environ.get("AUTOMIMIC_DEBUG"):
            raise
        print("automimic: error: out of memory (try smaller settings)", file=sys.stderr)
        return 1
    except Exception as error:  # a bug: one line, the traceback on demand
        if os.environ.get("AUTOMIMIC_DEBUG"):
            raise
        print(f"automimic: internal error: {type(error).__name__}: {error} (set AUTOMIMIC_DEBUG=1 "
              "for the traceback)", file=sys.stderr)
        return 1


def _message(error: BaseException) -> str:
    if isinstance(error, OSError) and error.filename:
        return f"{error.filename}: {error.strerror}"
    return str(error)
