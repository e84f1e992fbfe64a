"""``demo``: run the example web app (needs the ``[demo]`` extra).

The options, their defaults and what they mean belong to the demo
(``cross_auth_lite.demo.options``, standard library only); this module only
registers them as a command and reports failures the CLI's way.
"""

from __future__ import annotations

import argparse
import importlib

from cross_auth_lite.cli.common import Commands
from cross_auth_lite.cli.errors import CliError
from cross_auth_lite.demo import options

__all__ = ["add_parsers", "run_demo"]


def add_parsers(commands: Commands) -> None:
    """Register ``demo``, with the options of ``python -m cross_auth_lite.demo``."""
    demo = commands.add(
        "demo", run_demo, "run the demo web app on a store", options.DESCRIPTION, parents=[]
    )
    options.add_options(demo)
    # The demo's data directory is var/demo, not the CLI's default store.
    demo.set_defaults(default_data=options.DEFAULT_DATA_DIR)


def run_demo(args: argparse.Namespace) -> int:
    """Import the demo lazily and run it with the parsed options."""
    try:
        demo = importlib.import_module("cross_auth_lite.demo")
        run = getattr(demo, "run", None)
        if not callable(run):
            raise CliError("cross_auth_lite.demo has no run(); reinstall cross-auth-lite")
        run(**options.run_arguments(args))
    except ModuleNotFoundError as error:  # the module, or what it needs (also lazily, in run)
        raise CliError(options.missing_extra(error)) from None
    return 0
