"""Processes that make a store's files unusable for the hard-failure tests."""

from __future__ import annotations

import resource
import signal
import sqlite3
import sys
import time


def hold_write_lock(path: str, seconds: float | str) -> None:
    """Hold an exclusive write lock on the SQLite file at ``path``, then let go."""
    seconds = float(seconds)
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("BEGIN IMMEDIATE")
    print("locked", flush=True)
    time.sleep(seconds)
    connection.execute("ROLLBACK")
    connection.close()


def write_with_file_size_limit(store_path: str, limit: int | str) -> None:
    """Sign up users with RLIMIT_FSIZE set low; print what the store said."""
    import cross_auth_lite as lite
    from tests.factories import signup

    limit = int(limit)
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # writes fail with EFBIG instead
    with lite.open(store_path, busy_timeout=1) as store:
        users_before = store.models.User.select().count()
        _, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))
        try:
            for i in range(10_000):
                signup(store.accounts, f"big{i}@example.com", f"big-{i}", access_token="x" * 4000)
        except lite.StoreUnavailableError as error:
            print(f"unavailable: {error}", flush=True)
        except Exception as error:  # the test shows what escaped
            print(f"other: {type(error).__name__}: {error}", flush=True)
        else:
            print("no error", flush=True)
        resource.setrlimit(resource.RLIMIT_FSIZE, (hard, hard))
        print(f"users_before={users_before}", flush=True)


if __name__ == "__main__":
    globals()[sys.argv[1]](*sys.argv[2:])
