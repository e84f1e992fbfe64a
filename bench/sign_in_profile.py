"""Where a sign-in's time goes: full browser sign-ins on lite under ``cProfile``, every thread.

The sign-ins are the end-to-end run's (``bench.end_to_end``: login route,
development provider, callback, one request reading the session), on a
lite store only, with a profiler in every thread: the one driving the
browser, the app's event-loop thread and the worker threads that run
Cross-Auth's sync routes. Each function's own time is put in one part by
the file it lives in:

- **storage**: ``cross_auth_lite`` (but its testing helpers and development
  provider), peewee, diskcache and the SQLite driver's own calls;
- **Cross-Auth**: the ``cross_auth`` package;
- **provider**: the development provider and the testing helpers (the
  provider's side of the OAuth dance, which a real provider does elsewhere);
- **HTTP and framework**: FastAPI, Starlette, Pydantic, httpx, anyio, asyncio
  and the rest of the standard library;
- **waiting**: a thread blocked on a lock or an event loop's poll while
  another works; left out of the shares (it is the other thread's time).

A built-in function's own time goes to the part of the function that
called it (``str.join`` called by Starlette is framework time). cProfile
slows Python code several times more than C code, so the shares say where
Python time goes, not wall-clock milliseconds.
"""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import end_to_end
from bench.timing import Plan

__all__ = ["PARTS", "SignInProfile", "markdown_lines", "profile_sign_ins", "to_json"]

#: The parts, in report order.
PARTS = ("storage", "Cross-Auth", "provider", "HTTP and framework")
#: How many sign-ins are profiled (before ``Plan.scale``), one in four new.
SIGN_INS = 100

_STORAGE_FILES = ("/peewee.py", "/diskcache/", "/sqlite3/")
_PROVIDER_FILES = ("/cross_auth_lite/testing", "/cross_auth_lite/dev/")
_WAITING = ("acquire", "poll", "select", "wait", "sleep")


@dataclass
class SignInProfile:
    """Own time per part, in seconds under the profiler, and the top functions of ours."""

    sign_ins: int = 0
    parts: dict[str, float] = field(default_factory=dict)
    waiting: float = 0.0
    #: (function, own seconds) of cross_auth_lite's storage functions, the costliest first.
    ours: list[tuple[str, float]] = field(default_factory=list)
    #: (function, own seconds) over every part, the costliest first.
    top: list[tuple[str, str, float]] = field(default_factory=list)

    def shares(self) -> dict[str, float]:
        """Each part's share of the time spent working (waiting left out)."""
        total = sum(self.parts.values()) or 1.0
        return {part: self.parts.get(part, 0.0) / total for part in PARTS}


def part_of(filename: str) -> str:
    """The part a function's own time counts in, by the file it is defined in."""
    path = filename.replace("\\", "/")
    if any(marker in path for marker in _PROVIDER_FILES):
        return "provider"
    if "/cross_auth_lite/" in path or any(marker in path for marker in _STORAGE_FILES):
        return "storage"
    if "/cross_auth/" in path:
        return "Cross-Auth"
    return "HTTP and framework"


def _builtin_part(name: str) -> str | None:
    """The part of a built-in by its own name, when its name says: SQLite or waiting."""
    if "sqlite3" in name:
        return "storage"
    if any(word in name for word in _WAITING) and (
        "lock" in name or "epoll" in name or "select" in name or "time" in name
    ):
        return "waiting"
    return None


def _label(function: tuple[str, int, str]) -> str:
    filename, line, name = function
    if filename == "~":
        return name
    short = filename.replace("\\", "/")
    for marker in ("site-packages/", "/cross_auth_lite/"):
        if marker in short:
            short = short.split(marker, 1)[1]
            if marker == "/cross_auth_lite/":
                short = "cross_auth_lite/" + short
    return f"{short}:{line}({name})"


def attribute(stats: pstats.Stats) -> SignInProfile:
    """Split the profiled own time into ``PARTS`` (see the module's docstring)."""
    profile = SignInProfile()
    entries: Any = stats.stats  # type: ignore[attr-defined]
    own: dict[str, float] = {}
    ranked: list[tuple[str, str, float]] = []
    for function, (_, _, tottime, _, callers) in entries.items():
        filename = function[0]
        if filename == "~":
            part = _builtin_part(function[2])
            if part is None:  # a built-in works for whoever called it
                for caller, caller_entry in callers.items():
                    caller_part = part_of(caller[0]) if caller[0] != "~" else "HTTP and framework"
                    share = caller_entry[2] if len(caller_entry) > 2 else 0.0
                    own[caller_part] = own.get(caller_part, 0.0) + share
                continue
        else:
            part = part_of(filename)
        if part == "waiting":
            profile.waiting += tottime
            continue
        own[part] = own.get(part, 0.0) + tottime
        ranked.append((_label(function), part, tottime))
        if part == "storage" and "/cross_auth_lite/" in filename.replace("\\", "/"):
            profile.ours.append((_label(function), tottime))
    profile.parts = {part: own.get(part, 0.0) for part in PARTS}
    profile.ours.sort(key=lambda item: -item[1])
    ranked.sort(key=lambda item: -item[2])
    profile.top = ranked[:15]
    return profile


def profile_sign_ins(directory: Path, plan: Plan) -> SignInProfile:
    """Profile ``SIGN_INS`` sign-ins (scaled) on a lite store in ``directory``, every thread."""
    profilers: list[cProfile.Profile] = []
    lock = threading.Lock()

    def start_in_thread(*_: Any) -> None:
        profiler = cProfile.Profile()
        with lock:
            profilers.append(profiler)
        profiler.enable()  # replaces this hook in the new thread

    count = plan.iterations(SIGN_INS)
    people = end_to_end._People()
    result = end_to_end.EndToEndResult()
    main = cProfile.Profile()
    threading.setprofile(start_in_thread)
    try:
        with end_to_end._open_stacks(directory, result, anchor=False) as stacks:
            (stack,) = stacks
            for person, is_new in people.batch(plan.warmup(SIGN_INS), all_new=True):
                end_to_end._sign_in(stack, person, is_new)
            for profiler in profilers:  # the warm-up is not counted
                profiler.disable()
                profiler.clear()
                profiler.enable()
            main.enable()
            for person, is_new in people.batch(count):
                end_to_end._sign_in(stack, person, is_new)
            main.disable()
            for profiler in profilers:
                profiler.disable()
    finally:
        threading.setprofile(None)
    stats = pstats.Stats(main)
    for profiler in profilers:
        with contextlib.suppress(TypeError):  # a thread whose profiler saw nothing
            stats.add(profiler)
    profile = attribute(stats)
    profile.sign_ins = count
    return profile


def markdown_lines(profile: SignInProfile) -> list[str]:
    """The report's section: each part's share, and our costliest functions."""
    shares = profile.shares()
    per = 1000.0 / max(profile.sign_ins, 1)
    lines = [
        "### Where a sign-in's time goes (cProfile, every thread)",
        "",
        f"{profile.sign_ins} sign-ins of the end-to-end row (one in {end_to_end.NEW_EVERY} new) "
        "on cross-auth-lite alone, a profiler in every thread; each function's own time in "
        "the part its file belongs to, a built-in's in its caller's (see "
        "`bench/sign_in_profile.py`). Profiled milliseconds per sign-in: cProfile slows "
        "Python code more than C code, so read the shares, not the milliseconds.",
        "",
        "| part | ms per sign-in, profiled | share |",
        "|---|---:|---:|",
    ]
    for part in PARTS:
        lines.append(f"| {part} | {profile.parts.get(part, 0.0) * per:.2f} | {shares[part]:.0%} |")
    lines += ["", "Costliest functions of cross-auth-lite's own (own time, ms per sign-in):", ""]
    for name, seconds in profile.ours[:8]:
        lines.append(f"- `{name}`: {seconds * per:.3f}")
    return lines


def to_json(profile: SignInProfile) -> dict[str, Any]:
    """The section as JSON-ready data (profiled seconds in all)."""
    return {
        "sign_ins": profile.sign_ins,
        "parts_seconds": profile.parts,
        "shares": profile.shares(),
        "waiting_seconds": profile.waiting,
        "ours": profile.ours[:20],
        "top": profile.top,
    }
