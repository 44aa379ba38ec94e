"""Progress of a long fit where no progress bar can be drawn (stderr is not a terminal: a script's log file, a
CI job, ``nohup``): a plain line every few seconds on stderr with the draws done, the divergences and the time
left, the first of which says when a fit is expected to take minutes."""

from __future__ import annotations

import sys
import time
from typing import Any, TextIO

__all__ = ["plain_progress_wanted", "poll_nutpie", "note"]

INTERVAL = 5.0  # seconds between lines


def plain_progress_wanted(progressbar: bool, stream: TextIO | None = None) -> bool:
    """Whether to print plain progress lines: progress was asked for, and the stream is no terminal and no
    notebook draws nutpie's own bar."""
    if not progressbar:
        return False
    stream = sys.stderr if stream is None else stream
    isatty = getattr(stream, "isatty", None)
    if isatty is not None and isatty():
        return False
    try:
        from nutpie.sample import in_notebook

        return not in_notebook()
    except ImportError:  # pragma: no cover - nutpie not installed: no nutpie sampling either
        return True


def note(progressbar: bool, message: str, stream: TextIO | None = None) -> None:
    """One plain progress line (``bayesmixed: <message>``) where :func:`plain_progress_wanted`."""
    if plain_progress_wanted(progressbar, stream):
        print(f"bayesmixed: {message}", file=sys.stderr if stream is None else stream, flush=True)


def _fmt(seconds: float) -> str:
    seconds = max(0.0, seconds)
    if seconds < 90:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def poll_nutpie(sampler: Any, *, draws: int, tune: int, chains: int, stream: TextIO | None = None,
                interval: float | None = None) -> Any:
    """Wait for a non-blocking nutpie sampler, writing a progress line every ``interval`` seconds (default
    :data:`INTERVAL`); returns its InferenceData. Ctrl-C cancels the sampler and raises ``KeyboardInterrupt``."""
    stream = sys.stderr if stream is None else stream
    interval = INTERVAL if interval is None else interval
    t0 = time.perf_counter()
    last = t0
    t_tuned = None
    announced = False
    try:
        while not _finished(sampler):
            time.sleep(0.1)
            now = time.perf_counter()
            if now - last < interval or _finished(sampler):
                continue
            last = now
            kept, divergences = _count(sampler)
            elapsed = now - t0
            if not kept:  # tuning draws are not kept: no count until the first kept draw
                line = f"bayesmixed: tuning {chains} chains ({tune} iterations each), {_fmt(elapsed)} elapsed"
                t_tuned = now
            else:
                rate = kept / max(now - t_tuned, 1e-9) if t_tuned is not None else kept / elapsed
                left = (draws - kept) / rate
                line = (f"bayesmixed: {kept}/{draws} draws per chain ({chains} chains), {divergences} divergences, "
                        f"{_fmt(elapsed)} elapsed, about {_fmt(left)} left")
                if not announced and left > 60:
                    line += f" (this fit takes about {_fmt(elapsed + left)} in all)"
                announced = True
            print(line, file=stream, flush=True)
    except KeyboardInterrupt:
        sampler.cancel()
        raise
    return sampler.wait()


def _finished(sampler: Any) -> bool:
    """nutpie 0.16 raises ``TimeoutError`` from ``is_finished`` while the chains still run."""
    try:
        return bool(sampler.is_finished)
    except TimeoutError:
        return False


def _count(sampler: Any) -> tuple[int, int]:
    """Kept draws per chain so far (the fewest over chains) and divergences among them, from a snapshot."""
    import warnings

    try:
        with warnings.catch_warnings():  # ArviZ warns about a trace with no draws yet (still tuning)
            warnings.simplefilter("ignore")
            snap = sampler.inspect()
    except Exception:  # noqa: BLE001 - a snapshot is a nicety; never let it break the fit
        return 0, 0
    post = getattr(snap, "posterior", None)
    kept = int(post.sizes.get("draw", 0)) if post is not None else 0
    stats = getattr(snap, "sample_stats", None)
    div = int(stats["diverging"].sum()) if stats is not None and "diverging" in stats else 0
    return kept, div
