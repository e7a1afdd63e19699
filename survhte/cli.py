"""Command-line interface: ``survhte estimate``, ``survhte simulate`` and ``survhte study``.

- ``survhte estimate``: fit a CATE estimator on a CSV (or the built-in Rossi trial), print the
  effect summary and write figures and per-row effects;
- ``survhte simulate``: write a SurvHTE-Bench dataset with its ground-truth columns;
- ``survhte study run STUDY`` / ``survhte study report DIR``: run a simulation study (a TOML
  file or ``preset:NAME``; every method of :data:`survhte.study.METHODS`) locally or on Dask,
  resumably, and write its Markdown/HTML report.

Input problems (a missing file or column, a bad horizon, a non-numeric column, an unknown
configuration) print one line ``survhte: error: ...`` to stderr and exit with status 2.
"""

from __future__ import annotations

import argparse
import sys
from typing import NoReturn

from . import __version__, _cli_estimate, _cli_simulate, _cli_study

PROG = "survhte"
USAGE_ERROR = 2


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose errors are a single ``survhte: error: ...`` line."""

    def error(self, message: str) -> NoReturn:
        self.exit(USAGE_ERROR, f"{PROG}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The ``survhte`` argument parser with its subcommands."""
    parser = _Parser(
        prog=PROG,
        description="Heterogeneous treatment effects on censored survival outcomes.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    _cli_estimate.add_parser(subparsers)
    _cli_simulate.add_parser(subparsers)
    _cli_study.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run the CLI on ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    try:
        args = build_parser().parse_args(argv)
    except SystemExit as exit_:  # --help, --version, or a usage error already printed
        return exit_.code
    try:
        return args.run(args)
    except (OSError, ValueError, TypeError) as error:
        print(f"{PROG}: error: {' '.join(str(error).split())}", file=sys.stderr)
        return USAGE_ERROR


if __name__ == "__main__":
    sys.exit(main())
