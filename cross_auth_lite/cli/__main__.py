"""``python -m cross_auth_lite.cli``: the same as the ``cross-auth-lite`` command."""

import sys

from cross_auth_lite.cli import main

sys.exit(main())
