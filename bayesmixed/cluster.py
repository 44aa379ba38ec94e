"""The Dask adapter: the one module that imports ``distributed`` (lazily), used by k-fold refits.

A task list runs on a Dask ``Client``: by default a ``distributed.LocalCluster`` of worker *processes*
(``n_workers`` of them, one thread each, so that a refit sampling its chains one after the other uses one
core) created for the call and always closed afterwards; or the user's ``Client``, or a scheduler address
(``"tcp://host:8786"``) for a real cluster, in which case the workers need bayesmixed and its dependencies
installed. Results come back in task order; the first task that fails cancels the others and raises a
:class:`~bayesmixed.errors.BayesMixedError` that names the task, with the worker's exception chained.
"""

from __future__ import annotations

import logging
from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from .errors import BayesMixedError

__all__ = ["dask_client", "run_tasks"]


def _distributed():
    try:
        import distributed
    except ImportError as err:  # pragma: no cover - dask is a dependency; only a broken install lacks it
        raise BayesMixedError(
            "refits (kfold, leave-one-group-out, calibrate) run on Dask, which is not installed: pip install 'dask[distributed]'"
        ) from err
    return distributed


@contextmanager
def dask_client(client: Any = None, n_workers: int = 2) -> Iterator[Any]:
    """A Dask client for the duration of a ``with`` block.

    Parameters
    ----------
    client
        ``None``: start a ``LocalCluster`` (``n_workers`` processes, one thread each, no dashboard) and close
        it, with its client, when the block ends, whatever happens inside. A ``distributed.Client``: used as
        it is and left open. A string: the address of a running scheduler; the client made for it is closed
        at the end, the cluster is left running.
    n_workers
        Worker processes of the local cluster.
    """
    distributed = _distributed()
    if client is None:
        if not isinstance(n_workers, int) or n_workers < 1:
            raise BayesMixedError(f"n_workers must be a positive whole number, got {n_workers!r}")
        try:
            cluster = distributed.LocalCluster(
                n_workers=n_workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
        except Exception as err:
            raise BayesMixedError(
                f"the local Dask cluster could not start its worker processes ({type(err).__name__}: {err}). "
                "Worker processes re-import the main script: in a script, run the k-fold call under "
                "`if __name__ == '__main__':`; or pass client= (a distributed.Client or a scheduler address)"
            ) from err
        with cluster, distributed.Client(cluster) as c:
            yield c
    elif isinstance(client, str):
        try:
            c = distributed.Client(client, timeout="30s")
        except OSError as err:
            raise BayesMixedError(f"cannot reach the Dask scheduler at {client!r}: {err}") from err
        with c:
            yield c
    elif isinstance(client, distributed.Client):
        yield client
    else:
        raise BayesMixedError(
            f"client must be None (a local cluster), a distributed.Client or a scheduler address, "
            f"got {type(client).__name__}"
        )


def run_tasks(
    client: Any,
    func: Callable[..., Any],
    tasks: Sequence[tuple],
    labels: Sequence[str],
    shared: dict[str, Any] | None = None,
    progressbar: bool = True,
    description: str = "refits",
) -> list[Any]:
    """Run ``func(*task, **shared)`` for every task on ``client``; results in task order.

    ``shared`` values are scattered to the workers once (large objects such as the design) instead of being
    sent with every task. A progress bar (rich) counts finished tasks.
    """
    distributed = _distributed()
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    shared = dict(shared or {})
    if shared:
        keys = list(shared)
        futs = client.scatter([shared[k] for k in keys], broadcast=True, hash=False)
        shared = dict(zip(keys, futs))
    futures = [client.submit(func, *task, **shared, pure=False) for task in tasks]
    position = {f.key: i for i, f in enumerate(futures)}
    results: list[Any] = [None] * len(futures)
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    try:
        with Progress(*columns, disable=not progressbar, transient=False) as bar:
            job = bar.add_task(description, total=len(futures))
            for fut in distributed.as_completed(futures):
                i = position[fut.key]
                if fut.status != "finished":
                    exc = fut.exception()
                    hint = ""
                    if isinstance(exc, ImportError) and "bayesmixed" in str(exc):
                        hint = " (the Dask workers cannot import bayesmixed: install it where the workers run)"
                    raise BayesMixedError(
                        f"{labels[i]} failed on a Dask worker: {type(exc).__name__}: {exc}{hint}"
                    ) from exc
                results[i] = fut.result()
                bar.advance(job)
    except BaseException:
        client.cancel(futures)
        raise
    return results
