"""The Dask adapter: the one module that imports ``distributed`` (lazily), used by refits (k-fold,
leave-one-group-out, calibration) when the user passes ``client=``.

Dask is optional (``pip install bayesmixed[dask]``): without ``client=`` the refits run on this machine
(``bayesmixed._refits``). A task list runs on the user's ``distributed.Client`` or on a scheduler address
(``"tcp://host:8786"``) for a real cluster, whose workers need bayesmixed and its dependencies installed.
Results come back in task order; the first task that fails cancels the others and raises a
:class:`~bayesmixed.errors.BayesMixedError` that names the task, with the worker's exception chained.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import Any, Callable, Iterator, Sequence

from .errors import BayesMixedError

__all__ = ["dask_client", "run_tasks"]


def _distributed():
    try:
        import distributed
    except ImportError as err:
        raise BayesMixedError(
            "client= runs the refits (kfold, leave-one-group-out, calibrate) on Dask, which is not installed: "
            "pip install 'bayesmixed[dask]' (or leave client=None to refit on this machine)"
        ) from err
    return distributed


@contextmanager
def dask_client(client: Any) -> Iterator[Any]:
    """A Dask client for the duration of a ``with`` block.

    Parameters
    ----------
    client
        A ``distributed.Client``: used as it is and left open. A string: the address of a running scheduler;
        the client made for it is closed at the end, the cluster is left running.
    """
    if isinstance(client, str):
        distributed = _distributed()
        try:
            c = distributed.Client(client, timeout="30s")
        except OSError as err:
            raise BayesMixedError(f"cannot reach the Dask scheduler at {client!r}: {err}") from err
        with c:
            yield c
        return
    distributed = _distributed() if type(client).__module__.startswith("distributed") else None
    if distributed is not None and isinstance(client, distributed.Client):
        yield client
        return
    raise BayesMixedError(
        f"client must be None (refits on this machine), a distributed.Client or a scheduler address such as "
        f"'tcp://host:8786', got {type(client).__name__}"
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
