"""One running client per store: a lease file next to the store (``<store>.lease``).

The lease is created atomically (O_EXCL) and renewed every RENEW_S seconds while the run lasts; a
second client refuses with one line naming the holder.  A lease is stale, and is taken over, when its
holder is a dead process on this host or when it was not renewed for STALE_S seconds (a client on
another node that was killed), so ``kill -9`` never blocks the store for long.  The lease lies beside
the store, not in it, because creating a store clears its directory.
"""
from __future__ import annotations

import functools
import json
import os
import socket
import threading
import time
import uuid
from contextlib import contextmanager
from pathlib import Path

from ensemble.engine.store import StoreError

RENEW_S = 15.0
STALE_S = 120.0


class LeaseError(StoreError):
    """The store is being run by another client."""


def lease_path(store: str | Path) -> Path:
    store = Path(store)
    return store.with_name(store.name + ".lease")


def _read(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _stale(path: Path, holder: dict | None) -> bool:
    try:
        age = time.time() - path.stat().st_mtime
    except FileNotFoundError:
        return True
    if holder is None:  # unreadable: being written right now, or garbage left by a crash
        return age > STALE_S
    if holder.get("host") == socket.gethostname():
        try:
            os.kill(int(holder["pid"]), 0)
        except ProcessLookupError:
            return True
        except (PermissionError, ValueError, KeyError):
            pass
    return age > STALE_S


def acquire(store: str | Path) -> tuple[Path, str]:
    """Take the lease of ``store`` (LeaseError if another live client holds it); returns (file, token)."""
    path = lease_path(store)
    path.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    mine = json.dumps({"host": socket.gethostname(), "pid": os.getpid(), "token": token, "since": time.time()})
    for _ in range(2):
        try:
            fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o644)
        except FileExistsError:
            holder = _read(path)
            if not _stale(path, holder):
                who = f"pid {holder.get('pid')} on {holder.get('host')}" if holder else "another client"
                age = time.time() - path.stat().st_mtime
                raise LeaseError(
                    f"{store} is being run by {who} (lease {path} renewed {age:.0f} s ago); wait for it to "
                    f"finish, or delete {path} if that client is gone") from None
            try:  # stale: remove it and race for a fresh O_EXCL create
                path.unlink()
            except FileNotFoundError:
                pass
            continue
        with os.fdopen(fd, "w") as f:
            f.write(mine)
        return path, token
    raise LeaseError(f"{store}: another client took the lease {path} at the same moment; try again")


def release(path: Path, token: str) -> None:
    holder = _read(path)
    if holder is not None and holder.get("token") == token:
        path.unlink(missing_ok=True)


@contextmanager
def store_lease(store: str | Path):
    """Hold the lease of ``store`` for the duration of the body, renewing it in a background thread."""
    path, token = acquire(store)
    stop = threading.Event()

    def renew():
        while not stop.wait(RENEW_S):
            try:
                os.utime(path)
            except FileNotFoundError:
                return

    thread = threading.Thread(target=renew, name="ensemble-lease", daemon=True)
    thread.start()
    try:
        yield path
    finally:
        stop.set()
        thread.join()
        release(path, token)


def leased(run):
    """Decorator: ``run(spec, path, ...)`` holds the lease of ``path`` while it runs."""

    @functools.wraps(run)
    def wrapper(spec, path, *args, **kwargs):
        with store_lease(path):
            return run(spec, path, *args, **kwargs)

    return wrapper
