"""Benchmarks for cross-auth-lite, run as ``python -m bench`` (``make bench``).

One run times the same operations on cross-auth-lite and on its anchors,
on the same machine: Cross-Auth's SQLModel storages on a SQLite file,
Cross-Auth's ``RedisStorage`` against a local ``redis-server``, and raw
``sqlite3`` statements on lite's own schema (the floor). Then, optionally, a
scale run of lite alone at 1k, 100k and 1M users. Results go to stdout as
markdown; progress goes to stderr.
"""
