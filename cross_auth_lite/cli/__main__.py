"""``python -m cross_auth_lite.cli``: the same as the ``cross-auth-lite`` command."""

import sys

from cross_auth_lite.cli import main

if __name__ == "__main__":
    sys.exit(main())
