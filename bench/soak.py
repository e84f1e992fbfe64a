"""``python -m bench.soak``: sign in continuously with housekeeping on; do the files plateau?

Worker processes (``--workers``, default 4) share one store and repeat what a
sign-in asks of the storage: an OAuth state written to the cache and popped
(one flow in ten is abandoned, its state left to expire), the user found or
created with an identity, a session created; one session in five is revoked
at once. Time is compressed so that a few minutes show months of life:
sessions last ``--session-seconds`` (5), ended ones are kept ``--retention``
seconds (10) and housekeeping runs every ``--interval`` seconds (5).

Every ``--every`` seconds (5) it prints the store's sessions, file sizes,
reclaimable space and last housekeeping pass; at the end, whether the files
stopped growing: the largest size in the last third against the largest
before it. Nothing leaves the machine (no network at all); the store is in
a temporary directory removed at the end. Not part of ``make test``.
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import cross_auth_lite as lite
from bench.workload import PROVIDER, SECONDARY_VALUE, USER_AGENT, identity_for

USERS = 2_000


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """The command line."""
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__)
    parser.add_argument("--seconds", type=float, default=120.0, help="how long (default 120)")
    parser.add_argument("--workers", type=int, default=4, help="processes (default 4)")
    parser.add_argument("--session-seconds", type=float, default=5.0)
    parser.add_argument("--retention", type=float, default=10.0)
    parser.add_argument("--interval", type=float, default=5.0)
    parser.add_argument("--every", type=float, default=5.0, help="seconds between samples")
    args = parser.parse_args(argv)
    if args.seconds <= 0 or args.workers < 1 or args.every <= 0:
        parser.error("--seconds and --every must be positive, --workers at least 1")
    return args


def _settings(args: argparse.Namespace) -> lite.HousekeepingSettings:
    return lite.HousekeepingSettings(
        retention=timedelta(seconds=args.retention),
        interval=timedelta(seconds=args.interval),
        first_delay=0.5,
    )


def sign_in_loop(path: str, args: argparse.Namespace, index: int, counter: Any) -> None:
    """One worker: sign-ins until the deadline, counted in ``counter``."""
    rng = random.Random(index)
    deadline = time.monotonic() + args.seconds
    with lite.open(path, housekeeping=_settings(args)) as store:
        accounts, sessions, cache = store.accounts, store.sessions, store.secondary
        done = 0
        while time.monotonic() < deadline:
            state = f"state:{index}:{done}"
            cache.set(state, SECONDARY_VALUE, ttl=args.session_seconds)
            if rng.random() >= 0.1:  # one flow in ten is abandoned
                cache.pop(state)
            number = rng.randrange(USERS)
            found = accounts.find_social_account(
                provider=PROVIDER, provider_user_id=f"soak-{number}"
            )
            if found is None:
                try:
                    user = accounts.create_user_with_identity(
                        user={
                            "user_info": {},
                            "email": f"soak{number}@example.com",
                            "email_verified": True,
                            "extra_fields": None,
                        },
                        identity=identity_for(f"soak-{number}"),
                    )[0]
                    user_id = user.id
                except Exception:  # another worker created the same user meanwhile
                    continue
            else:
                user_id = found.user_id
            now = datetime.now(UTC)
            session = sessions.create(
                token_hash=f"{index}-{done}-{rng.getrandbits(64):016x}",
                user_id=user_id,
                created_at=now,
                updated_at=now,
                expires_at=now + timedelta(seconds=args.session_seconds),
                client_id="web",
                user_agent=USER_AGENT,
                ip="127.0.0.1",
            )
            if rng.random() < 0.2:
                sessions.revoke(session.id, revoked_at=now)
            done += 1
            if done % 50 == 0:
                with counter.get_lock():
                    counter.value += 50


def _sizes(path: Path) -> dict[str, int]:
    return lite.admin.directory_sizes(path)


def _sample(store: lite.LiteStore, path: Path, elapsed: float, signins: int) -> dict[str, Any]:
    sizes = _sizes(path)
    session: Any = store.models.Session
    return {
        "elapsed": elapsed,
        "signins": signins,
        "sessions": int(session.select().count()),
        "db": sizes.get(lite.admin.DATABASE_FILENAME, 0),
        "wal": sizes.get(f"{lite.admin.DATABASE_FILENAME}-wal", 0),
        "cache": sizes.get("cache/cache.db", 0),
        "cache_wal": sizes.get("cache/cache.db-wal", 0),
        "reclaimable": lite.admin.reclaimable_bytes(store.database) or 0,
    }


def _mib(size: int) -> str:
    return f"{size / 2**20:7.2f}"


def main(argv: list[str] | None = None) -> int:
    """Run the soak; print the samples and the verdict; 0 when the files plateaued."""
    args = parse_args(argv)
    context = multiprocessing.get_context("spawn")
    with tempfile.TemporaryDirectory(prefix="cross-auth-lite-soak-") as temporary:
        path = Path(temporary) / "store"
        lite.open(path, housekeeping=False).close()
        counter = context.Value("q", 0)
        workers = [
            context.Process(target=sign_in_loop, args=(str(path), args, index, counter))
            for index in range(args.workers)
        ]
        started = time.monotonic()
        for worker in workers:
            worker.start()
        samples: list[dict[str, Any]] = []
        print(
            f"soak: {args.workers} workers for {args.seconds:g}s; sessions last "
            f"{args.session_seconds:g}s, kept {args.retention:g}s after they end, "
            f"housekeeping every {args.interval:g}s (pid {os.getpid()})"
        )
        print(
            "| s | sign-ins | session rows | accounts MiB | -wal MiB | cache.db MiB "
            "| cache -wal MiB | free MiB |"
        )
        print("|---|---|---|---|---|---|---|---|")
        with lite.open(path, housekeeping=False) as store:
            while any(worker.is_alive() for worker in workers):
                time.sleep(args.every)
                sample = _sample(store, path, time.monotonic() - started, counter.value)
                samples.append(sample)
                print(
                    f"| {sample['elapsed']:.0f} | {sample['signins']} | {sample['sessions']} | "
                    f"{_mib(sample['db'])} | {_mib(sample['wal'])} | {_mib(sample['cache'])} | "
                    f"{_mib(sample['cache_wal'])} | {_mib(sample['reclaimable'])} |",
                    flush=True,
                )
            last = lite.admin.last_housekeeping(store.database)
        for worker in workers:
            worker.join()
        failed = [worker.exitcode for worker in workers if worker.exitcode]
        if failed or len(samples) < 3:
            print(f"workers failed ({failed}) or too few samples", file=sys.stderr)
            return 1
        # The database files decide; -wal files swing with checkpoints and are
        # reported beside (journal_size_limit cuts them back after a burst).
        third = max(1, len(samples) // 3)
        files = [s["db"] + s["cache"] for s in samples]
        before, after = max(files[:-third]), max(files[-third:])
        plateau = after <= before * 1.05
        wal = [s["wal"] + s["cache_wal"] for s in samples]
        print(
            f"\nlargest accounts.sqlite3 + cache.db before the last third {_mib(before)} MiB, "
            f"in it {_mib(after)} MiB: {'plateau' if plateau else 'still growing'}; "
            f"-wal files at most {_mib(max(wal))} MiB, at the end {_mib(wal[-1])} MiB; "
            f"{samples[-1]['signins']} sign-ins; last housekeeping pass: {last}"
        )
        return 0 if plateau else 1


if __name__ == "__main__":
    sys.exit(main())
