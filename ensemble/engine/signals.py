"""Clean stops on SIGTERM (what SLURM sends at the time limit) and SIGINT.

Inside :func:`stop_on_signals` either signal raises :class:`Stopped` in the main thread, so the
``finally`` blocks of the run close the client and cancel batch jobs; shards already written stay in
the store and the next run resumes them.  A further signal during that cleanup is ignored.
"""
from __future__ import annotations

import signal
import threading
from contextlib import contextmanager


class Stopped(KeyboardInterrupt):
    """The run was stopped by a signal; ``exit_code`` follows the shell convention 128 + signal number."""

    def __init__(self, signum: int):
        super().__init__(signal.Signals(signum).name)
        self.signum = signum
        self.name = signal.Signals(signum).name
        self.exit_code = 128 + signum


@contextmanager
def stop_on_signals(signums=(signal.SIGTERM, signal.SIGINT)):
    if threading.current_thread() is not threading.main_thread():
        yield  # handlers can only be installed from the main thread
        return

    def handler(signum, frame):
        for s in signums:  # one stop only: cleanup must not be interrupted again
            signal.signal(s, signal.SIG_IGN)
        raise Stopped(signum)

    previous = {s: signal.signal(s, handler) for s in signums}
    try:
        yield
    finally:
        for s, old in previous.items():
            signal.signal(s, old)


def stop_message(stop: Stopped, store_path, resume_args: list[str], batch: bool = False) -> str:
    """One line: what is done and the command that resumes the run."""
    import shlex

    from ensemble.engine.store import StoreError, open_store

    try:
        done = open_store(store_path).done()
        progress = f"{int(done.sum())} of {done.size} shards done"
    except (StoreError, OSError):
        progress = "no shards done (store not created yet)"
    command = shlex.join(["ensemble", "run", "--store", str(store_path), *resume_args])
    cancelled = "batch jobs cancelled" if batch else "running shards cancelled"
    return f"stopped by {stop.name}: {progress}; {cancelled}; to resume: {command}"
