"""End to end: full browser sign-ins per second through Cross-Auth's FastAPI router.

Two stacks run the same app: Cross-Auth's router with the development
provider (``cross_auth_lite.testing.dev_provider``) and one route that needs
the signed-in user. cross-auth-lite is ``lite.open(dir)`` with
``store.cross_auth_kwargs()``; the anchor is Cross-Auth's SQLModel adapters
on a SQLite file (``bench.backends.sqlmodel_adapter``) with ``RedisStorage``
on a bench-started ``redis-server`` (``bench.backends.redis_adapter``).

One sign-in is what a browser does, driven by ``cross_auth_lite.testing.sign_in``
through ``httpx`` over ASGI (in process, no sockets; see ``_Browser``): GET the login
route (OAuth state stored), approve at the provider, GET the callback (code
redeemed in process over ``httpx.WSGITransport``, state popped, user and
identity created on a first sign-in or found on a later one, session
created, cookie set), then GET ``/me``, which reads the session and the
user. The cookie jar is emptied before each sign-in: every sign-in is a new
browser. The provider keeps its codes and tokens in a private store of its
own, the same on both stacks, so only the app's storage differs.

Every fourth sign-in is a new person; the others are people who signed in
before (a new device, an expired session). Both stacks get the same
sequence of people. Timing follows ``bench.compare``: a warm-up (all new
people, who become the first returning ones), then each repeat runs one
batch per stack, alternating the order; each sign-in is timed alone, so a
batch also gives the mean of its new and of its returning sign-ins.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import random
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from cross_auth.fastapi import CrossAuth
from fastapi import Depends, FastAPI

import cross_auth_lite as lite
from bench.redis_server import local_redis
from bench.timing import Measurement, Plan
from cross_auth_lite.testing import DevIdentity, DevProvider, dev_provider, sign_in

__all__ = ["KINDS", "NEW_EVERY", "EndToEndResult", "markdown_lines", "run_end_to_end", "to_json"]

BASE_URL = "https://testserver"
PREFIX = "/auth"
#: One sign-in in this many is a new person.
NEW_EVERY = 4
#: Sign-ins per timed batch before ``Plan.scale``.
BASE_SIGN_INS = 200
#: Report rows: every sign-in of a batch, then the new and the returning ones alone.
KINDS = ("all", "new user", "returning user")
LABELS = {"lite": "cross-auth-lite", "anchor": "SQLModel + Redis"}
RATIO = "lite / (SQLModel + Redis)"


@dataclass
class EndToEndResult:
    """Per kind of sign-in and per stack, the batches in µs per sign-in."""

    labels: dict[str, str] = field(default_factory=dict)
    results: dict[str, dict[str, Measurement]] = field(default_factory=dict)
    sign_ins: int = 0
    new_sign_ins: int = 0
    repeats: int = 0
    skipped: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0


class _Browser:
    """A browser for ``sign_in``: a synchronous ``get`` on an ``httpx.AsyncClient`` over ASGI.

    The app runs as under uvicorn, minus the sockets: on an event loop of its
    own thread whose root task lasts as long as the app (so the thread pool
    that runs Cross-Auth's sync routes keeps its threads, and each thread its
    database connection), each request one hop from this thread to that
    loop. (Starlette's ``TestClient`` makes several such hops per request,
    which on a busy machine cost more than a sign-in's storage work.)
    """

    def __init__(self, app: FastAPI) -> None:
        self._loop = asyncio.new_event_loop()
        self._stopped = asyncio.Event()
        transport = httpx.ASGITransport(app=app)
        self._client = httpx.AsyncClient(transport=transport, base_url=BASE_URL)
        self._thread = threading.Thread(
            target=self._loop.run_until_complete, args=(self._serve(),), name="bench-app"
        )
        self._thread.start()

    async def _serve(self) -> None:
        await self._stopped.wait()
        await self._client.aclose()

    @property
    def cookies(self) -> httpx.Cookies:
        """The browser's cookie jar."""
        return self._client.cookies

    def get(self, url: str, **kwargs: Any) -> httpx.Response:
        """GET ``url`` and read the whole response."""
        request = self._client.get(url, **kwargs)
        return asyncio.run_coroutine_threadsafe(request, self._loop).result()

    def close(self) -> None:
        """Close the client, end the app's event loop and its thread."""
        self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join()
        self._loop.close()


@dataclass
class _Stack:
    key: str
    client: _Browser
    provider: DevProvider
    user_ids: dict[str, Any] = field(default_factory=dict)


def _log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _app(storage_kwargs: dict[str, Any]) -> tuple[FastAPI, DevProvider]:
    provider = dev_provider(base_url=BASE_URL, prefix=PREFIX)
    auth = CrossAuth(
        providers=[provider],
        **storage_kwargs,
        config={"session": {"cookies": {"auth": True}}},  # the browser login route
    )
    app = FastAPI()
    app.include_router(auth.router, prefix=PREFIX)
    current_user = Depends(auth.require_current_user)

    @app.get("/me")
    def me(user: Any = current_user) -> dict[str, Any]:
        return {"id": user.id, "email": user.email}

    return app, provider


@contextlib.contextmanager
def _open_stacks(
    directory: Path, result: EndToEndResult, *, anchor: bool = True
) -> Iterator[list[_Stack]]:
    """The lite stack, and (``anchor``) the SQLModel + Redis one when both can run here."""
    stacks: list[_Stack] = []
    with contextlib.ExitStack() as exit_stack:

        def add(key: str, storage_kwargs: dict[str, Any]) -> None:
            app, provider = _app(storage_kwargs)
            exit_stack.callback(provider.close)
            client = _Browser(app)
            exit_stack.callback(client.close)
            stacks.append(_Stack(key, client, provider))
            result.labels[key] = LABELS[key]

        store = exit_stack.enter_context(lite.open(directory / "lite"))
        add("lite", store.cross_auth_kwargs())
        if not anchor:
            yield stacks
            return
        try:
            from bench.backends import redis_adapter, sqlmodel_adapter
        except ImportError as error:
            result.skipped["anchor"] = f"SQLModel or redis-py not importable ({error})"
            yield stacks
            return
        server = exit_stack.enter_context(local_redis())
        if server.url is None:
            result.skipped["anchor"] = server.skipped or "no redis-server"
        else:
            (directory / "sqlmodel").mkdir()
            tables = sqlmodel_adapter.open_backend(directory / "sqlmodel")
            exit_stack.callback(tables.close)
            redis = redis_adapter.open_backend(server.url)
            exit_stack.callback(redis.close)
            add(
                "anchor",
                {
                    "storage": redis.secondary,
                    "accounts_storage": tables.accounts,
                    "session_storage": tables.sessions,
                },
            )
        yield stacks


class _People:
    """The same sequence of people for every stack: new ones, and returning ones."""

    def __init__(self) -> None:
        self._rng = random.Random("end-to-end")
        self._known: list[DevIdentity] = []

    def new(self) -> DevIdentity:
        serial = len(self._known)
        person = DevIdentity(f"Person {serial}", f"e2e-{serial}@example.com", f"e2e-{serial}")
        self._known.append(person)
        return person

    def batch(self, count: int, *, all_new: bool = False) -> list[tuple[DevIdentity, bool]]:
        """``count`` sign-ins: every ``NEW_EVERY``-th a new person (all when ``all_new``)."""
        people = []
        for i in range(count):
            if all_new or i % NEW_EVERY == 0 or not self._known:
                people.append((self.new(), True))
            else:
                people.append((self._rng.choice(self._known), False))
        return people


def _sign_in(stack: _Stack, person: DevIdentity, is_new: bool) -> None:
    """One full browser sign-in, then one authenticated request; fail loudly if it did not work."""
    client = stack.client
    client.cookies.clear()  # a new browser
    callback = sign_in(client, stack.provider, person, prefix=PREFIX)
    me = client.get("/me")
    if callback.status_code not in (302, 303) or me.status_code != 200:
        raise RuntimeError(
            f"{stack.key}: sign-in failed (callback {callback.status_code}, /me {me.status_code})"
        )
    user = me.json()
    if user["email"] != person.email:
        raise RuntimeError(f"{stack.key}: /me answered for another user")
    if is_new:
        stack.user_ids[person.sub] = user["id"]
    elif stack.user_ids[person.sub] != user["id"]:
        raise RuntimeError(f"{stack.key}: a returning sign-in did not find its user")


def _time_batch(stack: _Stack, people: list[tuple[DevIdentity, bool]]) -> dict[str, float]:
    """Mean µs per sign-in of the batch: all, new and returning."""
    gc.collect()
    clock = time.perf_counter_ns
    spent: dict[bool, list[int]] = {True: [], False: []}
    for person, is_new in people:
        start = clock()
        _sign_in(stack, person, is_new)
        spent[is_new].append(clock() - start)
    every = spent[True] + spent[False]
    means = {"all": sum(every) / len(every) / 1000.0}
    for kind, is_new in (("new user", True), ("returning user", False)):
        if spent[is_new]:
            means[kind] = sum(spent[is_new]) / len(spent[is_new]) / 1000.0
    return means


def run_end_to_end(directory: Path, plan: Plan) -> EndToEndResult:
    """Time full browser sign-ins on both stacks under ``directory``, interleaved."""
    started = time.perf_counter()
    result = EndToEndResult()
    count, warmup = plan.iterations(BASE_SIGN_INS), plan.warmup(BASE_SIGN_INS)
    result.sign_ins, result.repeats = count, plan.repeats
    people = _People()
    with _open_stacks(directory, result) as stacks:
        _log(f"end to end: {count} sign-ins per batch on {', '.join(result.labels.values())} ...")
        first = people.batch(warmup, all_new=True)
        for stack in stacks:
            for person, is_new in first:
                _sign_in(stack, person, is_new)
        result.results = {
            kind: {stack.key: Measurement(iterations=count) for stack in stacks} for kind in KINDS
        }
        for repeat in range(plan.repeats):
            batch = people.batch(count)
            result.new_sign_ins = sum(is_new for _, is_new in batch)
            for stack in stacks if repeat % 2 == 0 else stacks[::-1]:
                for kind, mean in _time_batch(stack, batch).items():
                    result.results[kind][stack.key].samples.append(mean)
    summary = ", ".join(f"{key} {m.median:,.0f}" for key, m in result.results["all"].items())
    _log(f"  sign-in: {summary} µs")
    result.seconds = time.perf_counter() - started
    return result


def _per_second(measurement: Measurement | None) -> float | None:
    return None if measurement is None else 1e6 / measurement.median


def summary(result: EndToEndResult) -> dict[str, Any]:
    """Per kind: sign-ins per second per stack, and lite's over the anchor's."""
    rows: dict[str, Any] = {}
    for kind, by_stack in result.results.items():
        rates = {key: _per_second(m) for key, m in by_stack.items()}
        lite_rate, anchor_rate = rates.get("lite"), rates.get("anchor")
        ratio = lite_rate / anchor_rate if lite_rate and anchor_rate else None
        rows[kind] = {"sign_ins_per_second": rates, "ratio": ratio}
    return rows


def _cell(rate: float | None) -> str:
    return "—" if rate is None else f"{rate:,.0f}/s ({1000 / rate:.2f} ms)"


def markdown_lines(result: EndToEndResult) -> list[str]:
    """The report's section: one row per kind of sign-in."""
    rows = summary(result)
    lines = [
        "## End to end (full browser sign-ins per second, Cross-Auth's FastAPI router)",
        "",
        "Login route, development provider, callback (state popped, user and identity "
        "created or found, session created, cookie set), then one request reading the "
        f"session; in process over ASGI, a new browser each time. One sign-in in "
        f"{NEW_EVERY} is a new person, the others returning ones. A warm-up, then "
        f"{result.repeats} batches of {result.sign_ins} sign-ins ({result.new_sign_ins} new) "
        "per stack (interleaved); median of batches.",
        "",
        f"| sign-ins | {LABELS['lite']} | {LABELS['anchor']} | {RATIO} |",
        "|---|---:|---:|---:|",
    ]
    for kind, row in rows.items():
        rates = row["sign_ins_per_second"]
        ratio = "—" if row["ratio"] is None else f"{row['ratio']:.2f}x"
        label = f"all (1 in {NEW_EVERY} new)" if kind == "all" else kind
        lines.append(
            f"| {label} | {_cell(rates.get('lite'))} | {_cell(rates.get('anchor'))} | {ratio} |"
        )
    for key, reason in result.skipped.items():
        lines += ["", f"Skipped {LABELS[key]}: {reason}."]
    return lines


def to_json(result: EndToEndResult) -> dict[str, Any]:
    """The section as JSON-ready data, with every batch's time."""
    rows = summary(result)
    return {
        "stacks": result.labels,
        "sign_ins_per_batch": result.sign_ins,
        "new_sign_ins_per_batch": result.new_sign_ins,
        "repeats": result.repeats,
        "rows": {
            kind: {
                **rows[kind],
                "backends": {key: m.as_dict() for key, m in by_stack.items()},
            }
            for kind, by_stack in result.results.items()
        },
        "skipped": result.skipped,
        "seconds": result.seconds,
    }
