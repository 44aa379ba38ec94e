"""Where refits run (k-fold, leave-one-group-out, calibration): in this process, in worker processes of our
own, or on a Dask cluster the user gives.

Worker processes that never import ``__main__``
    ``multiprocessing``'s "spawn" and "forkserver" start methods (and Dask's ``LocalCluster``, which uses them)
    prepare every child by importing the parent's main module: the user's script runs again in each worker
    unless its body sits under ``if __name__ == "__main__":``, and a notebook or REPL session has nothing to
    import. The workers here are plain subprocesses, ``python -P -m bayesmixed._refits``: their main module is
    this one, never the user's. They read tasks from a pipe and write results to another (pickled, between this
    process and the children it started; nothing is read from disk). Anything a library prints inside a worker
    goes to its stderr, which is kept in a temporary file and quoted when a worker dies.
How many
    :func:`plan_workers`: each refit samples its chains side by side on up to ``chains`` cores, so ``cores //
    chains`` refits run at once (at least one). With one at a time (2 cores and 2 chains, the default here)
    the refits run one after the other in this process, which also reuses the compiled model of the first refit
    for the others. ``n_workers`` overrides the count: ``1`` runs in this process, more start that many
    worker processes, and the cores are shared out between them.
Dask
    ``client=`` (a ``distributed.Client`` or a scheduler address) runs the refits there instead
    (:mod:`bayesmixed.cluster`, ``pip install bayesmixed[dask]``), one core per refit.

Results come back in task order. The first task that fails stops the others and raises a
:class:`~bayesmixed.errors.BayesMixedError` that names it; Ctrl-C stops the workers and raises
``KeyboardInterrupt``.
"""

from __future__ import annotations

import importlib
import os
import pickle
import queue
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import traceback
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from .errors import BayesMixedError

__all__ = ["available_cores", "plan_workers", "run_refits", "WorkerPlan"]

_HEADER = struct.Struct("!Q")


def available_cores() -> int:
    """CPU cores this process may run on (its affinity mask where the platform has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - macOS, Windows
        return max(1, os.cpu_count() or 1)


@dataclass(frozen=True)
class WorkerPlan:
    """How refits run: ``workers`` at once (1: in this process), each sampling on ``cores`` cores."""

    workers: int
    cores: int

    @property
    def in_process(self) -> bool:
        return self.workers == 1


def plan_workers(n_tasks: int, chains: int, n_workers: int | None = None, cores: int | None = None) -> WorkerPlan:
    """Worker count and cores per refit for ``n_tasks`` refits of ``chains`` chains on ``cores`` cores
    (default: :func:`available_cores`).

    ``n_workers=None``: ``cores // chains`` refits at once (at least 1, at most ``n_tasks``), so that the refits'
    chains together never ask for more cores than there are; each refit gets ``cores // workers`` cores (at most
    ``chains``). A number: that many workers (1 = in this process), the cores shared out between them.
    """
    if n_workers is not None and (isinstance(n_workers, bool) or not isinstance(n_workers, int) or n_workers < 1):
        raise BayesMixedError(
            f"n_workers must be a positive whole number (1 runs the refits in this process) or None to choose "
            f"from the cores, got {n_workers!r}"
        )
    cores = available_cores() if cores is None else max(1, int(cores))
    chains = max(1, int(chains))
    workers = n_workers if n_workers is not None else max(1, cores // chains)
    workers = max(1, min(workers, max(1, n_tasks)))
    return WorkerPlan(workers=workers, cores=max(1, min(chains, cores // workers)))


def run_refits(
    func: Callable[..., Any],
    tasks: Sequence[tuple],
    labels: Sequence[str],
    shared: dict[str, Any],
    *,
    chains: int,
    client: Any = None,
    n_workers: int | None = None,
    progressbar: bool = True,
    description: str = "refits",
) -> tuple[list[Any], WorkerPlan]:
    """Run ``func(*task, cores=..., **shared)`` for every task; returns the results in task order and the plan.

    ``func`` must be a module-level function of bayesmixed taking a ``cores`` keyword (the cores its refit may
    use). ``client``: a Dask client or scheduler address (one core per refit); else :func:`plan_workers`.
    """
    if client is not None:
        from .cluster import dask_client, run_tasks

        with dask_client(client) as c:
            results = run_tasks(c, func, tasks, labels, shared={**shared, "cores": 1}, progressbar=progressbar,
                                description=description)
        return results, WorkerPlan(workers=0, cores=1)
    plan = plan_workers(len(tasks), chains, n_workers)
    shared = {**shared, "cores": plan.cores}
    if plan.in_process:
        return _run_here(func, tasks, labels, shared, progressbar, description), plan
    return _run_pool(func, tasks, labels, shared, plan.workers, progressbar, description), plan


def _progress(progressbar: bool):
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    return Progress(*columns, disable=not progressbar, transient=False)


def _run_here(func, tasks, labels, shared, progressbar, description) -> list[Any]:
    results = []
    with _progress(progressbar) as bar:
        job = bar.add_task(description, total=len(tasks))
        for task, label in zip(tasks, labels):
            try:
                results.append(func(*task, **shared))
            except Exception as exc:
                raise BayesMixedError(f"{label} failed: {type(exc).__name__}: {exc}") from exc
            bar.advance(job)
    return results


# --------------------------------------------------------------------------------------------- the pool
def _send(stream, obj) -> None:
    data = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    stream.write(_HEADER.pack(len(data)))
    stream.write(data)
    stream.flush()


def _read_exact(stream, n: int) -> bytes:
    chunks, got = [], 0
    while got < n:
        chunk = stream.read(n - got)
        if not chunk:
            raise EOFError("the other end closed the pipe")
        chunks.append(chunk)
        got += len(chunk)
    return b"".join(chunks)


def _recv(stream):
    (size,) = _HEADER.unpack(_read_exact(stream, _HEADER.size))
    return pickle.loads(_read_exact(stream, size))


class _Worker:
    """One worker subprocess: ``python -P -m bayesmixed._refits`` (``-P``: the current directory is not put on
    ``sys.path``), with this process's ``sys.path`` so that it imports bayesmixed from where we did."""

    def __init__(self, stack: ExitStack):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(p for p in sys.path if p)
        self.log = stack.enter_context(tempfile.TemporaryFile())
        self.proc = subprocess.Popen(
            [sys.executable, "-P", "-m", "bayesmixed._refits"],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.log, env=env, close_fds=True,
            start_new_session=True,  # Ctrl-C in a terminal reaches this process only; we stop the workers
        )
        stack.callback(self.stop)

    def call(self, module: str, name: str, args: tuple, kwargs: dict):
        _send(self.proc.stdin, ("call", module, name, args, kwargs))
        return _recv(self.proc.stdout)

    def tail(self, n: int = 1500) -> str:
        try:
            self.log.seek(0)
            text = self.log.read().decode(errors="replace")
        except (OSError, ValueError):
            return ""
        return text[-n:].strip()

    def stop(self) -> None:
        if self.proc.poll() is None:
            try:
                self.proc.stdin.close()  # end of input: the worker's loop returns
                self.proc.wait(timeout=5)
            except (OSError, subprocess.TimeoutExpired):
                self.proc.kill()
                self.proc.wait()
        for stream in (self.proc.stdin, self.proc.stdout):
            try:
                stream.close()
            except OSError:
                pass


def _run_pool(func, tasks, labels, shared, n_workers, progressbar, description) -> list[Any]:
    module, name = func.__module__, func.__qualname__
    if not module.startswith("bayesmixed.") or "." in name:
        raise BayesMixedError(f"refit workers run module-level bayesmixed functions, not {module}.{name}")
    todo: "queue.Queue[int]" = queue.Queue()
    for i in range(len(tasks)):
        todo.put(i)
    done: "queue.Queue[tuple]" = queue.Queue()
    stop = threading.Event()

    def serve(worker: _Worker) -> None:
        while not stop.is_set():
            try:
                i = todo.get_nowait()
            except queue.Empty:
                return
            try:
                reply = worker.call(module, name, tasks[i], shared)
            except (EOFError, OSError, pickle.UnpicklingError) as exc:
                code = worker.proc.poll()
                if stop.is_set():
                    return
                done.put((i, "died", f"{type(exc).__name__}: {exc}; exit code {code}", worker.tail()))
                return
            done.put((i, *reply))

    results: list[Any] = [None] * len(tasks)
    with ExitStack() as stack, _progress(progressbar) as bar:
        workers = [_Worker(stack) for _ in range(n_workers)]
        threads = [threading.Thread(target=serve, args=(w,), daemon=True) for w in workers]
        for t in threads:
            t.start()
        job = bar.add_task(description, total=len(tasks))
        try:
            for _ in range(len(tasks)):
                while True:
                    try:
                        i, status, *payload = done.get(timeout=0.2)
                        break
                    except queue.Empty:
                        if not any(t.is_alive() for t in threads) and done.empty():
                            raise BayesMixedError(f"the refit workers stopped before finishing the {description}")
                if status == "ok":
                    results[i] = payload[0]
                    bar.advance(job)
                elif status == "died":
                    why, log = payload
                    raise BayesMixedError(
                        f"{labels[i]}: its worker process died ({why})"
                        + (f"; the worker's last output:\n{log}" if log else "")
                    )
                else:
                    kind, message, tb = payload
                    err = BayesMixedError(f"{labels[i]} failed in a worker process: {kind}: {message}")
                    raise err from _RemoteError(tb)
        finally:
            stop.set()
            for w in workers:  # Ctrl-C or an error: do not wait for refits nobody will read
                if w.proc.poll() is None:
                    w.proc.send_signal(signal.SIGTERM)
            for t in threads:
                t.join(timeout=5)
    return results


class _RemoteError(Exception):
    """The traceback of an exception raised in a worker process (as text)."""


# ------------------------------------------------------------------------------------------- the worker
def _serve() -> None:
    """Worker main loop: read ``("call", module, name, args, kwargs)`` from stdin, reply on the original stdout
    with ``("ok", result)`` or ``("error", type name, message, traceback)``; stop at end of input."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the parent stops us
    stdin = sys.stdin.buffer
    out = os.fdopen(os.dup(sys.stdout.fileno()), "wb")
    os.dup2(sys.stderr.fileno(), sys.stdout.fileno())  # whatever libraries print goes to stderr, not the pipe
    sys.stdout = sys.stderr
    while True:
        try:
            msg = _recv(stdin)
        except EOFError:
            return
        _, module, name, args, kwargs = msg
        try:
            if not module.startswith("bayesmixed."):
                raise BayesMixedError(f"refusing to run {module}.{name}")
            func = getattr(importlib.import_module(module), name)
            reply = ("ok", func(*args, **kwargs))
        except Exception as exc:  # noqa: BLE001 - every failure goes back to the parent, named
            reply = ("error", type(exc).__name__, str(exc), traceback.format_exc())
        try:
            _send(out, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            _send(out, ("error", type(exc).__name__, f"the result could not be sent back: {exc}", ""))


if __name__ == "__main__":
    _serve()
