"""What the CLI prints: tables and JSON on stdout, a progress bar on stderr.

Streams are looked up on ``sys`` at call time, so tests capturing output
(and callers swapping ``sys.stdout``) see everything.
"""

from __future__ import annotations

import itertools
import json
import sys
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import UTC, datetime
from types import TracebackType
from typing import Any, Self, TextIO, TypeVar

__all__ = [
    "Progress",
    "describe_counts",
    "echo",
    "emit_json",
    "format_bytes",
    "isoformat",
    "print_table",
    "plural",
    "printable",
    "note",
    "short_time",
    "stream_json",
    "stream_table",
    "yes_no",
]

T = TypeVar("T")


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 session``, ``2 sessions``; ``nouns`` when the plural is not ``noun + "s"``."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def describe_counts(counts: Mapping[str, int]) -> str:
    """``3 users, 1 social account and 5 sessions``: a store's row counts, as printed."""
    return (
        f"{plural(counts['users'], 'user')}, "
        f"{plural(counts['social_accounts'], 'social account')} "
        f"and {plural(counts['sessions'], 'session')}"
    )


def isoformat(value: datetime) -> str:
    """``value`` as ISO-8601 UTC with microseconds and a ``Z``, as the export writes it.

    For example ``2026-01-02T03:04:05.000000Z``; a naive value is taken to be UTC.
    """
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def short_time(value: datetime | None) -> str:
    """``value`` to the second for tables, e.g. ``2026-01-02 03:04:05Z``; ``-`` for ``None``."""
    if value is None:
        return "-"
    utc = value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return utc.strftime("%Y-%m-%d %H:%M:%SZ")


def yes_no(value: object) -> str:
    """``yes``, ``no``, or ``-`` for ``None``."""
    if value is None:
        return "-"
    return "yes" if value else "no"


def format_bytes(size: int) -> str:
    """A byte count for people: ``512 B``, ``1.5 KiB``, ``3.2 MiB``."""
    value = float(size)
    for unit in ("B", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size} B" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    raise AssertionError("unreachable")


def _json_default(value: object) -> Any:
    if isinstance(value, datetime):
        return isoformat(value)
    return str(value)


def emit_json(data: Any) -> None:
    """Print ``data`` as indented JSON on stdout; datetimes become ISO-8601 UTC strings."""
    json.dump(data, sys.stdout, indent=2, default=_json_default)
    sys.stdout.write("\n")


def echo(text: str = "") -> None:
    """Print one line on stdout."""
    sys.stdout.write(text + "\n")


def print_table(
    headers: Sequence[str] | None, rows: Iterable[Sequence[object]], *, indent: str = ""
) -> None:
    """Print ``rows`` as left-aligned columns on stdout, under ``headers`` unless ``None``."""
    cells = [[_cell(value) for value in row] for row in rows]
    lines = cells if headers is None else [list(headers), *cells]
    if not lines:
        return
    widths = [max(len(line[index]) for line in lines) for index in range(len(lines[0]))]
    for line in lines:
        text = "  ".join(cell.ljust(width) for cell, width in zip(line, widths, strict=True))
        echo(indent + text.rstrip())


def _cell(value: object) -> str:
    if value is None:
        return "-"
    if isinstance(value, bool):
        return yes_no(value)
    if isinstance(value, datetime):
        return short_time(value)
    return printable(value)


def printable(value: object) -> str:
    """``str(value)`` on one line, every unprintable character a space.

    Every stored text the CLI prints goes through here: no terminal control
    sequence from stored values (a user agent is whatever a client sent, an
    email whatever wrote the store).
    """
    return "".join(char if char.isprintable() else " " for char in str(value))


def stream_table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, sample: int = 50
) -> int:
    """Print ``rows`` under ``headers`` as they come; return how many were printed.

    Column widths come from the first ``sample`` rows, so a long listing
    starts at once (``| head`` is fast); a later, wider cell widens only its row.
    """
    iterator = iter(rows)
    first = [[_cell(value) for value in row] for row in itertools.islice(iterator, sample)]
    if not first:
        return 0
    lines = [list(headers), *first]
    widths = [max(len(line[index]) for line in lines) for index in range(len(headers))]

    def show(cells: list[str]) -> None:
        text = "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))
        echo(text.rstrip())

    for line in lines:
        show(line)
    count = len(first)
    for row in iterator:
        show([_cell(value) for value in row])
        count += 1
    return count


def stream_json(items: Iterable[Any]) -> int:
    """Print ``items`` as one indented JSON array, each as it comes; return how many."""
    count = 0
    sys.stdout.write("[")
    for item in items:
        sys.stdout.write(",\n" if count else "\n")
        text = json.dumps(item, indent=2, default=_json_default)
        sys.stdout.write("\n".join("  " + line for line in text.splitlines()))
        count += 1
    sys.stdout.write("\n]\n" if count else "]\n")
    return count


def note(text: str) -> None:
    """Print one line on stderr: said to the person, not part of the output."""
    sys.stderr.write(text + "\n")


class Progress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal.

    Nothing is drawn during the first tenth of a second, so quick commands
    print nothing; the line is erased when the block ends::

        with Progress("exporting", total=n) as progress:
            for row in rows:
                ...
                progress.advance()
    """

    #: Seconds between redraws (and before the first one).
    INTERVAL = 0.1
    WIDTH = 30

    def __init__(
        self,
        label: str,
        total: int | None = None,
        *,
        stream: TextIO | None = None,
        enabled: bool | None = None,
    ) -> None:
        self.label = label
        self.total = total
        self.done = 0
        self.stream = sys.stderr if stream is None else stream
        self.enabled = _is_terminal(self.stream) if enabled is None else enabled
        self._last_draw = time.monotonic()
        self._drawn = False

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more items done; redraw if it is time."""
        self.done += count
        if self.enabled and time.monotonic() - self._last_draw >= self.INTERVAL:
            self.draw()

    def update(self, done: int, total: int) -> None:
        """Set the count done and the total; redraw if it is time.

        The shape of the library's ``progress(done, total)`` callbacks:
        ``export_store(store, out, progress=bar.update)``.
        """
        self.total = total
        self.advance(done - self.done)

    def set_label(self, label: str) -> None:
        """Change what the bar says it is doing."""
        self.label = label
        if self._drawn:
            self.draw()

    def track(self, items: Iterable[T]) -> Iterator[T]:
        """Yield ``items``, advancing by one after each."""
        for item in items:
            yield item
            self.advance()

    def draw(self) -> None:
        """Draw the bar now (if enabled)."""
        if not self.enabled:
            return
        if self.total:
            fraction = min(self.done / self.total, 1.0)
            filled = int(fraction * self.WIDTH)
            bar = "#" * filled + "-" * (self.WIDTH - filled)
            text = f"{self.label} [{bar}] {fraction:4.0%} {self.done}/{self.total}"
        else:
            text = f"{self.label} {self.done}"
        self.stream.write("\r" + text + "\x1b[K")
        self.stream.flush()
        self._drawn = True
        self._last_draw = time.monotonic()

    def close(self) -> None:
        """Erase the bar, leaving the line clean for whatever is printed next."""
        if self._drawn:
            self.stream.write("\r\x1b[K")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _is_terminal(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or a closed stream
        return False
