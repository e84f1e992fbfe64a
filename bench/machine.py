"""What the numbers were measured on: machine, interpreter, SQLite and package versions."""

from __future__ import annotations

import os
import platform
import resource
import sqlite3
import sys
from importlib import metadata
from pathlib import Path

__all__ = ["machine_info", "peak_rss_mib"]

PACKAGES = (
    "cross-auth-lite",
    "cross-auth",
    "peewee",
    "diskcache",
    "sqlmodel",
    "sqlalchemy",
    "redis",
)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith(("model name", "hardware", "processor\t: arm")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _memory() -> str:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except (OSError, ValueError):
        pass
    return "unknown"


def _version(package: str) -> str:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, str]:
    """Platform, CPU, cores, memory, Python, SQLite and the versions of the packages timed."""
    info = {
        "platform": platform.platform(),
        "cpu": _cpu_model(),
        "cores": str(os.cpu_count()),
        "memory": _memory(),
        "python": f"{platform.python_implementation()} {sys.version.split()[0]}",
        "sqlite": sqlite3.sqlite_version,
    }
    info.update({package: _version(package) for package in PACKAGES})
    return info


def peak_rss_mib() -> float:
    """Peak resident memory of this process so far, in MiB (``ru_maxrss``)."""
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    # Linux reports KiB, macOS bytes.
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024
