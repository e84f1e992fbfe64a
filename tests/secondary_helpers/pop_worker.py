"""Worker for the cross-process pop race in ``tests/test_secondary.py``.

Run as a script::

    python pop_worker.py CACHE_DIR KEYS_JSON START READY_FILE GO_FILE OUT_JSON

It opens its own ``DiskCacheStorage`` on CACHE_DIR, signals READY_FILE, waits
for GO_FILE to appear, then pops every key listed in KEYS_JSON, starting at
index START and wrapping around. It writes to OUT_JSON the ``[key, value]``
pairs it won and the wall-clock times it started and finished popping.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

from cross_auth_lite.cache.storage import DiskCacheStorage

START_TIMEOUT = 30.0


def main(argv: list[str]) -> int:
    cache_dir, keys_json, start, ready_file, go_file, out_json = argv
    keys = json.loads(Path(keys_json).read_text(encoding="utf-8"))
    keys = keys[int(start) :] + keys[: int(start)]
    won: list[list[str]] = []
    window: list[float] = []
    with DiskCacheStorage(cache_dir) as storage:
        Path(ready_file).touch()
        deadline = time.monotonic() + START_TIMEOUT
        go = Path(go_file)
        while not go.exists():
            if time.monotonic() > deadline:
                print("never told to start", file=sys.stderr)
                return 2
            time.sleep(0.0005)
        window.append(time.time())
        for key in keys:
            value = storage.pop(key)
            if value is not None:
                won.append([key, value])
        window.append(time.time())
    result = {"won": won, "window": window}
    Path(out_json).write_text(json.dumps(result), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
