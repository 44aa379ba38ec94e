"""Run one fit in a fresh subprocess and measure it from outside.

Each fit gets its own process, so interpreter start-up state, JIT caches in
memory and compiled models are never shared between fits ("cold"). The
parent reaps the child with :func:`os.wait4`, whose ``ru_maxrss`` is the peak
resident set of the child or of its largest reaped descendant (PyMC's chain
processes, rstan's PSOCK workers): the figure reported as peak memory for the
R tools. Python children also measure themselves after each fit (see
:mod:`benchmarks.child`).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ProcResult:
    """Outcome of one child process."""

    returncode: int | None
    process_wall_s: float
    peak_rss_mb: float | None
    timed_out: bool
    log_path: Path

    def log_tail(self, n: int = 15) -> str:
        """Last ``n`` lines of the child's combined stdout/stderr."""
        try:
            lines = self.log_path.read_text(errors="replace").splitlines()
        except OSError:
            return ""
        return "\n".join(lines[-n:])


def run_child(cmd: list[str], log_path: Path, timeout_s: float, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> ProcResult:
    """Run ``cmd`` in a new session, stream its output to ``log_path``.

    Kills the whole process group after ``timeout_s`` seconds.
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd,
                                start_new_session=True)
        timed_out = False
        try:
            while True:
                pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
                if pid == proc.pid:
                    break
                if time.perf_counter() - t0 > timeout_s:
                    timed_out = True
                    _kill_group(proc.pid)
                    pid, status, usage = os.wait4(proc.pid, 0)
                    break
                time.sleep(0.05)
        except BaseException:  # Ctrl-C in the parent: do not leave the fit running
            _kill_group(proc.pid)
            raise
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)  # keep Popen from waiting again
    # Linux reports ru_maxrss in KiB.
    rss_mb = usage.ru_maxrss / 1024.0 if usage is not None else None
    return ProcResult(proc.returncode, wall, rss_mb, timed_out, log_path)


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def python_cmd(module: str, *args: str) -> list[str]:
    """Command line running ``python -m <module> args...`` with this interpreter."""
    return [sys.executable, "-m", module, *args]


def child_env(compile_cache: str, scratch: Path) -> dict[str, str]:
    """Environment for a child.

    ``compile_cache="shared"`` keeps PyTensor's and numba's on-disk caches
    (what a user sees from their second session on); ``"fresh"`` points both
    at an empty directory, so C/numba compilation is paid in full.
    """
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(Path(__file__).resolve().parents[1]), env.get("PYTHONPATH", "")) if p
    )
    if compile_cache == "fresh":
        scratch.mkdir(parents=True, exist_ok=True)
        flags = env.get("PYTENSOR_FLAGS", "")
        env["PYTENSOR_FLAGS"] = ",".join(f for f in (flags, f"compiledir={scratch / 'pytensor'}") if f)
        env["NUMBA_CACHE_DIR"] = str(scratch / "numba")
    return env
