import os
import sys
import textwrap
from pathlib import Path

import pytest

os.environ.setdefault("NUMBA_NUM_THREADS", "1")

# One BLAS thread per test process: numpy may already be imported by a pytest plugin (so the
# environment variables are too late), and many small GEMMs spin badly on 2 cores otherwise.
from threadpoolctl import threadpool_limits  # noqa: E402

threadpool_limits(1)


@pytest.fixture
def write_spec(tmp_path):
    """Write a TOML spec from keyword sections and return its path."""

    def _write(text: str, name: str = "spec.toml") -> Path:
        path = tmp_path / name
        path.write_text(textwrap.dedent(text))
        return path

    return _write


@pytest.fixture
def cli(monkeypatch):
    """Invoke the CLI in-process; returns (exit_code, stdout, stderr)."""
    from click.testing import CliRunner

    from ensemble.cli import main

    def _run(*args):
        res = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
        return res.exit_code, res.stdout, res.stderr

    return _run


ENSEMBLE_CMD = [sys.executable, "-m", "ensemble.cli"]
