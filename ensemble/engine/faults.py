"""Faults of the environment (a full disk, a quota, a read-only or forbidden store) as opposed to bugs.

A shard that fails because of the model is retried and reported; a write that fails because of the
environment will fail for every shard, so the run stops at the first one, with one line saying what
happened, what is saved and how to resume, and the exit code ``EXIT_ENVIRONMENT``.
"""
from __future__ import annotations

import errno

EXIT_ENVIRONMENT = 75   # sysexits.h EX_TEMPFAIL: the failure is outside the program; retry later

FAULTS = {
    errno.ENOSPC: "no space left on the device",
    errno.EDQUOT: "disk quota exceeded",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission denied",
    errno.EPERM: "operation not permitted",
}


def fault_of(exc: BaseException) -> str | None:
    """A one-phrase description when ``exc`` is an environment fault, else None."""
    if isinstance(exc, OSError) and exc.errno in FAULTS:
        where = f" ({exc.filename})" if exc.filename else ""
        return f"{FAULTS[exc.errno]} [{errno.errorcode[exc.errno]}]{where}"
    return None


class EnvironmentFault(Exception):
    """The run stopped on an environment fault; the message is the one line to print."""

    exit_code = EXIT_ENVIRONMENT


def format_bytes(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if abs(n) < 1024 or unit == "TiB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:.1f} TiB"
