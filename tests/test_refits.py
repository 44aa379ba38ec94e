"""Refits (k-fold, leave-one-group-out, calibration) from an unguarded script, and how many run at once."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

import bayesmixed as bm
from bayesmixed import _refits
from bayesmixed._refits import WorkerPlan, plan_workers, run_refits


def test_plan_workers_never_asks_for_more_cores_than_there_are():
    # 2 cores, 2 chains: one refit at a time, in this process, its chains side by side
    assert plan_workers(10, chains=2, cores=2) == WorkerPlan(workers=1, cores=2)
    assert plan_workers(10, chains=2, cores=2).in_process
    assert plan_workers(10, chains=4, cores=2) == WorkerPlan(workers=1, cores=2)
    assert plan_workers(10, chains=1, cores=2) == WorkerPlan(workers=2, cores=1)
    assert plan_workers(10, chains=4, cores=16) == WorkerPlan(workers=4, cores=4)
    assert plan_workers(2, chains=1, cores=16) == WorkerPlan(workers=2, cores=1)  # no idle workers
    # asked for: that many, the cores shared out
    assert plan_workers(10, chains=2, cores=2, n_workers=3) == WorkerPlan(workers=3, cores=1)
    assert plan_workers(10, chains=2, cores=8, n_workers=2) == WorkerPlan(workers=2, cores=2)
    for bad in (0, -1, 1.5, True, "2"):
        with pytest.raises(bm.BayesMixedError, match="n_workers must be a positive whole number"):
            plan_workers(10, chains=2, n_workers=bad)


def test_worker_processes_run_tasks_in_order_and_report_failures():
    """The pool itself, with cheap bayesmixed functions: results in task order; a task that raises in a worker
    is named in the error; the workers are gone afterwards."""
    psutil = pytest.importorskip("psutil")
    before = {p.pid for p in psutil.Process().children(recursive=True)}
    tasks = [(n, 1) for n in (3, 1, 2, 5)]
    out = _refits._run_pool(plan_workers, tasks, [f"task {i}" for i in range(4)], {"cores": 4}, 2, False, "t")
    assert [p.workers for p in out] == [3, 1, 2, 4]
    with pytest.raises(bm.BayesMixedError, match=r"task 1 failed in a worker process: BayesMixedError: n_workers"):
        _refits._run_pool(plan_workers, [(1, 1, None), (1, 1, 0)], ["task 0", "task 1"], {}, 2, False, "t")
    assert not ({p.pid for p in psutil.Process().children(recursive=True)} - before)


def test_in_process_refits_name_the_failing_task():
    assert run_refits(plan_workers, [(1, 1)], ["refit 1"], {}, chains=1, n_workers=1, progressbar=False)[1].in_process
    with pytest.raises(bm.BayesMixedError, match=r"refit 2 failed: BayesMixedError: n_workers"):
        _refits._run_here(plan_workers, [(1, 1, None), (1, 1, 0)], ["refit 1", "refit 2"], {}, False, "t")


SCRIPT = """
import os
import sys

import bayesmixed as bm

# top-level code with no __main__ guard: it must run exactly once, in this process only
with open(sys.argv[1], "a") as fh:
    fh.write(f"{os.getpid()}\\n")

data = bm.datasets.load("Dyestuff")
model = bm.Model("Yield ~ 1 + (1 | Batch)", data)
fit = model.fit(draws=150, tune=150, chains=1, seed=1, progressbar=False)
settings = dict(draws=150, tune=150, chains=1, progressbar=False)
pool = fit.kfold(k=3, seed=2, n_workers=2, **settings)       # worker processes
here = fit.kfold(k=3, seed=2, n_workers=1, **settings)       # this process
print("KFOLD", pool["elpd_kfold"], here["elpd_kfold"])
cal = bm.calibrate(model, n_sims=2, draws=100, tune=100, chains=1, L=9, bins=5, seed=3, n_workers=2,
                   progressbar=False)
print("CALIBRATE", cal.ranks.shape[0], cal.ranks.shape[1])
"""


@pytest.mark.slow
def test_kfold_and_calibrate_from_an_unguarded_script(tmp_path):
    """``python script.py`` with k-fold and calibration at top level, no ``if __name__ == "__main__":``: the
    script body runs once (the workers do not re-import it), the refits finish, and the same seeds give the
    same k-fold estimate in worker processes and in this process. Nothing about Dask or its dashboard port, and
    no warning (pandas deprecations included; Python's default warning filters are on), is printed."""
    script = tmp_path / "unguarded.py"
    script.write_text(textwrap.dedent(SCRIPT))
    marker = tmp_path / "ran.txt"
    env = {**os.environ, "PYTHONWARNINGS": "default"}
    out = subprocess.run([sys.executable, str(script), str(marker)], capture_output=True, text=True, cwd=tmp_path,
                         env=env, timeout=900)
    assert out.returncode == 0, out.stderr[-3000:]
    assert len(marker.read_text().split()) == 1, marker.read_text()
    line = next(x for x in out.stdout.splitlines() if x.startswith("KFOLD"))
    pool, here = (float(v) for v in line.split()[1:])
    assert pool == pytest.approx(here, rel=1e-9) and pool < 0
    assert "CALIBRATE 2 3" in out.stdout  # beta[Intercept], sd_Batch[Intercept], sigma
    # nothing leaks: no Dask port or dashboard message, no deprecation or other warning, no traceback
    for leak in ("8787", "dashboard", "distributed", "Traceback", "Warning"):
        assert leak not in out.stderr, out.stderr[-3000:]


@pytest.mark.slow
def test_kfold_in_worker_processes_from_stdin(tmp_path):
    """The REPL / notebook case: ``__main__`` has no file (code read from stdin); worker processes still run."""
    code = textwrap.dedent("""
        import bayesmixed as bm
        fit = bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff")).fit(
            draws=100, tune=100, chains=1, seed=1, progressbar=False)
        kf = fit.kfold(k=2, seed=2, n_workers=2, draws=100, tune=100, chains=1, progressbar=False)
        print("KFOLD", len(kf["refits"]))
    """)
    out = subprocess.run([sys.executable, "-"], input=code, capture_output=True, text=True, cwd=tmp_path, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    assert "KFOLD 2" in out.stdout
