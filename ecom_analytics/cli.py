"""The `ecom` command line: one subcommand per module listed in `COMMANDS`.

A command module provides `NAME`, `HELP` (one line for `ecom --help`), `DESCRIPTION` (for
`ecom NAME --help`), `add_arguments(parser)` and `run(args) -> int`, so adding a subcommand is one
line in `COMMANDS`. Bad input a user can fix is reported as one line on stderr with exit status
2, never as a traceback: argparse errors, and `CommandError` raised by a command (or a
warehouse whose metastore cannot be opened now, `WarehouseUnavailable`).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn, Protocol, cast

from ecom_analytics.jvm_packages import PackagesError
from ecom_analytics.warehouse_lock import WarehouseUnavailable

COMMANDS = (
    "ecom_analytics.generator.command",
    "ecom_analytics.demo",
    "ecom_analytics.thrift_server.command",
    "ecom_analytics.kafka_broker.command",
    "ecom_analytics.metastore.command",
    "streaming.command",
    "streaming.producer",
    "streaming.bench",
    "ecom_analytics.dashboard.command",
    "ecom_analytics.bench.command",
    "ecom_analytics.jvm_archive",
    "ecom_analytics.jvm_packages",
)
USAGE_ERROR = 2


class CommandError(Exception):
    """Bad input: the message says what is wrong and what to do."""


class Command(Protocol):
    """What a command module provides."""

    NAME: str
    HELP: str
    DESCRIPTION: str

    def add_arguments(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace) -> int: ...


class _Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: the problem and where to find help."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The `ecom` parser with every command of `COMMANDS` registered."""
    parser = _Parser(prog="ecom", description="ecom_analytics command line tools.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in COMMANDS:
        command = cast(Command, importlib.import_module(module_name))
        subparser = subparsers.add_parser(
            command.NAME,
            help=command.HELP,
            description=command.DESCRIPTION,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        command.add_arguments(subparser)
        subparser.set_defaults(run=command.run, parser=subparser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command named in `argv` (default: the process arguments); returns the exit code."""
    try:
        args, unknown = build_parser().parse_known_args(argv)
        if unknown:
            args.parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    except SystemExit as exit_:  # --help, or a usage error already reported by the parser
        return int(exit_.code or 0)
    try:
        return int(args.run(args))
    except (CommandError, PackagesError, WarehouseUnavailable) as error:
        print(f"ecom {args.command}: error: {error}", file=sys.stderr)
        return USAGE_ERROR
    except KeyboardInterrupt:
        print(f"ecom {args.command}: interrupted", file=sys.stderr)
        return 130
