"""``python -m cross_auth_lite.demo --data DIR --host 127.0.0.1 --port 8000``."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from cross_auth_lite.cli.demo import port_number
from cross_auth_lite.demo.server import DEFAULT_DATA_DIR, ListenError, run

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the command line and serve the demo; returns the exit status."""
    parser = argparse.ArgumentParser(
        prog="python -m cross_auth_lite.demo",
        description="Run the offline cross-auth-lite demo: Cross-Auth sign-in with a "
        "built-in development provider, stored in a directory.",
    )
    parser.add_argument(
        "--data",
        default=DEFAULT_DATA_DIR,
        metavar="DIR",
        help=f"store directory, created if missing (default: {DEFAULT_DATA_DIR})",
    )
    parser.add_argument("--host", default="127.0.0.1", help="bind address (default: 127.0.0.1)")
    parser.add_argument(
        "--port", type=port_number, default=8000, help="port, 0 for any free one (default: 8000)"
    )
    parser.add_argument(
        "--base-url",
        default=None,
        metavar="URL",
        help="the URL browsers use, if not http://HOST:PORT (e.g. behind a proxy)",
    )
    args = parser.parse_args(argv)
    try:
        run(data_dir=args.data, host=args.host, port=args.port, base_url=args.base_url)
    except ListenError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
