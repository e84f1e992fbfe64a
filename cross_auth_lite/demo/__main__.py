"""``python -m cross_auth_lite.demo [--data DIR] [--host H] [--port P] [--workers N]``.

The same options as ``cross-auth-lite demo`` (``options.py``). Failures,
including a missing ``[demo]`` extra, are one line on stderr and status 1.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from cross_auth_lite import LiteError
from cross_auth_lite.demo import options
from cross_auth_lite.demo.errors import ServeError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """A usage error is one line on stderr and status 2, like the CLI's."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``python -m cross_auth_lite.demo``."""
    parser = _Parser(prog="python -m cross_auth_lite.demo", description=options.DESCRIPTION)
    options.add_options(parser)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve the demo; returns the exit status."""
    args = build_parser().parse_args(argv)
    try:
        from cross_auth_lite.demo.server import run

        run(**options.run_arguments(args))
    except ModuleNotFoundError as error:
        print(f"error: {options.missing_extra(error)}", file=sys.stderr)
        return 1
    except (ServeError, LiteError) as error:  # a busy port, a store that cannot be opened
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
