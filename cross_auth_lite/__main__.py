"""``python -m cross_auth_lite``: the ``cross-auth-lite`` command, as ``cross_auth_lite.cli``."""

import sys

from cross_auth_lite.cli import main

if __name__ == "__main__":
    sys.exit(main())
