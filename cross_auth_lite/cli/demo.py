"""``demo``: run the example web app on the store (needs the ``[demo]`` extra)."""

from __future__ import annotations

import argparse
import importlib
from typing import Any

from cross_auth_lite.cli.common import CliError

__all__ = ["DEFAULT_HOST", "DEFAULT_PORT", "add_parsers", "port_number"]

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
_INSTALL_HINT = "pip install 'cross-auth-lite[demo]'"


def add_parsers(
    commands: argparse._SubParsersAction[Any], data_parent: argparse.ArgumentParser
) -> None:
    """Register ``demo``."""
    demo = commands.add_parser(
        "demo",
        parents=[data_parent],
        help="run the demo web app on the store",
        description=f"Run the demo web app on the store in the data directory ({_INSTALL_HINT}).",
    )
    demo.add_argument(
        "--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})"
    )
    demo.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port to listen on, 0 for any free one (default {DEFAULT_PORT})",
    )
    demo.set_defaults(handler=run_demo)


def port_number(text: str) -> int:
    """A TCP port from the command line (0 for any free one); argparse type."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a port number, not {text!r}") from None
    if not 0 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"must be between 0 and 65535, not {value}")
    return value


def run_demo(args: argparse.Namespace) -> int:
    """``demo [--host HOST] [--port PORT]``: import the demo lazily and run it."""
    try:
        demo = importlib.import_module("cross_auth_lite.demo")
        run = getattr(demo, "run", None)
        if not callable(run):
            raise CliError("cross_auth_lite.demo has no run(); reinstall cross-auth-lite")
        run(data_dir=args.data, host=args.host, port=args.port)
    except ModuleNotFoundError as error:  # the module, or what it needs (also lazily, in run)
        missing = error.name or "cross_auth_lite.demo"
        raise CliError(
            f"the demo is not available (no module {missing!r}); run: {_INSTALL_HINT}"
        ) from None
    return 0
