"""The demo's command-line options, defined once for both of its entry points.

``python -m cross_auth_lite.demo`` and ``cross-auth-lite demo`` build their
parsers with ``add_options`` and turn the parsed arguments into ``run()``'s
keyword arguments with ``run_arguments``, so they take the same options
with the same defaults. Standard library only: the CLI imports this module
to build its parser whether or not the ``[demo]`` extra is installed.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

N = TypeVar("N", int, float)

__all__ = [
    "DEFAULT_DATA_DIR",
    "DEFAULT_HOST",
    "DEFAULT_PORT",
    "DEFAULT_WORKERS",
    "DESCRIPTION",
    "INSTALL_HINT",
    "MAX_WORKERS",
    "add_options",
    "missing_extra",
    "number_type",
    "path_argument",
    "port_number",
    "run_arguments",
    "worker_count",
]

#: Where the demo keeps its store unless told otherwise.
DEFAULT_DATA_DIR = Path("var/demo")
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8000
DEFAULT_WORKERS = 1
#: More worker processes than this is a typo, not a demo.
MAX_WORKERS = 64
INSTALL_HINT = "pip install 'cross-auth-lite[demo]'"
DESCRIPTION = (
    "Run the offline cross-auth-lite demo: Cross-Auth sign-in with a built-in "
    f"development provider, stored in a directory (needs {INSTALL_HINT})."
)


def path_argument(value: str) -> Path:
    """An argparse type: a path, refusing an empty one (``Path("")`` would be ``.``).

    Also used by the ``cross-auth-lite`` command's own options.
    """
    if not value.strip():
        raise argparse.ArgumentTypeError("the path is empty")
    return Path(value)


def number_type(
    convert: Callable[[str], N], what: str, low: float, high: float | None = None
) -> Callable[[str], N]:
    """An argparse type: ``convert(text)`` from ``low`` to ``high`` (no bound if ``None``).

    Also used by the ``cross-auth-lite`` command's own options.
    """

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected {what}, not {text!r}") from None
        if high is None and value < low:
            raise argparse.ArgumentTypeError(f"must be at least {low}, not {text}")
        if high is not None and not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be between {low} and {high}, not {text}")
        return value

    return parse


#: A TCP port (0 for any free one); argparse type.
port_number = number_type(int, "a port number", 0, 65535)
#: A number of worker processes; argparse type.
worker_count = number_type(int, "a number of workers", 1, MAX_WORKERS)


def add_options(parser: argparse.ArgumentParser) -> None:
    """Add ``--data``, ``--host``, ``--port``, ``--base-url`` and ``--workers`` to ``parser``.

    ``--data`` has no default in the namespace (``argparse.SUPPRESS``), so
    that a ``--data`` the CLI took before the command name survives;
    ``run_arguments`` fills in ``DEFAULT_DATA_DIR``.
    """
    parser.add_argument(
        "--data",
        type=path_argument,
        default=argparse.SUPPRESS,
        metavar="DIR",
        help=f"store directory, created if missing (default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help=f"bind address (default: {DEFAULT_HOST})"
    )
    parser.add_argument(
        "--port",
        type=port_number,
        default=DEFAULT_PORT,
        help=f"port, 0 for any free one (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the URL browsers use, if not http://HOST:PORT (e.g. behind a proxy)",
    )
    parser.add_argument(
        "--workers",
        type=worker_count,
        default=DEFAULT_WORKERS,
        metavar="N",
        help="worker processes; more than 1 serves with gunicorn (default: "
        f"{DEFAULT_WORKERS}, in process)",
    )


def run_arguments(args: argparse.Namespace) -> dict[str, Any]:
    """``run()``'s keyword arguments from options parsed by a parser ``add_options`` built."""
    data = getattr(args, "data", None)
    return {
        "data_dir": DEFAULT_DATA_DIR if data is None else data,
        "host": args.host,
        "port": args.port,
        "base_url": args.base_url,
        "workers": args.workers,
    }


def missing_extra(error: ModuleNotFoundError) -> str:
    """The one line to show when the demo cannot import what it needs."""
    missing = error.name or "cross_auth_lite.demo"
    return f"the demo is not available (no module {missing!r}); run: {INSTALL_HINT}"
