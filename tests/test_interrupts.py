"""Ctrl-C during sampling: the Python API raises KeyboardInterrupt (never a truncated fit), the CLI prints one
line and exits 130, and no file (or part of one) is written."""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import pytest

import bayesmixed as bm
from bayesmixed import sampling
from bayesmixed.cli import main


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def test_cli_interrupt_during_sampling(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(sampling, "run_nuts", _interrupt)
    out = tmp_path / "out"
    rc = main(["fit", "--formula", "Yield ~ 1 + (1 | Batch)", "--data", "Dyestuff", "--out", str(out), "--quiet"])
    assert rc == 130
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"interrupted during sampling; nothing was written to {out}"]
    assert not (out / "posterior.nc").exists() and not (out / "summary.txt").exists()
    assert not out.exists() or not any(out.iterdir())


def test_cli_interrupt_while_writing_leaves_only_whole_files(tmp_path, capsys, monkeypatch):
    """An interrupt in the middle of writing posterior.nc: summary.txt is whole, posterior.nc absent, no temp files."""
    import arviz as az

    from bayesmixed.fit import Fit

    def fake_fit(self, **kw):  # a made-up posterior: no sampling
        import numpy as np

        post = {"beta": np.zeros((2, 10, 1)) + 1500, "sd_Batch": np.ones((2, 10, 1)), "sigma": np.ones((2, 10)),
                "r_Batch": np.zeros((2, 10, 6, 1))}
        dims = {"beta": ["coef"], "sd_Batch": ["Batch_coef"], "r_Batch": ["Batch", "Batch_coef"]}
        coords = {"coef": ["Intercept"], "Batch_coef": ["Intercept"], "Batch": list(self.design.blocks[0].levels)}
        idata = az.from_dict(posterior=post, dims=dims, coords=coords, sample_stats={"diverging": np.zeros((2, 10), bool)})
        return Fit(self.spec, self.design, idata, {"chains": 2, "draws": 10, "tune": 0, "sampler": "fake"})

    def half_write(self, path, *args, **kwargs):
        with open(path, "wb") as fh:
            fh.write(b"\x89HDF partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(bm.Model, "fit", fake_fit)
    monkeypatch.setattr(az.InferenceData, "to_netcdf", half_write)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rc = main(["fit", "--formula", "Yield ~ 1 + (1 | Batch)", "--data", "Dyestuff", "--out", str(tmp_path), "--quiet", "--no-plots"])
    assert rc == 130
    assert "complete files written: summary.txt (no partial files)" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["summary.txt"]
    assert "Fixed effects" in (tmp_path / "summary.txt").read_text()


def test_api_interrupt_propagates(monkeypatch):
    monkeypatch.setattr(sampling, "run_nuts", _interrupt)
    model = bm.Model("Yield ~ 1 + (1 | Batch)", bm.datasets.load("Dyestuff"))
    with pytest.raises(KeyboardInterrupt, match="no fit was returned and nothing was written"):
        model.fit(draws=10, tune=10, chains=1, progressbar=False)


class _FakeIdata:
    def __init__(self, draws: int, chains: int):
        import xarray as xr

        self.posterior = xr.Dataset(coords={"chain": range(chains), "draw": range(draws)})


def test_truncated_sampler_output_is_an_interrupt(monkeypatch):
    """nutpie and PyMC catch Ctrl-C and return the draws made so far: run_nuts must not pass that on."""
    monkeypatch.setattr(sampling, "_run_nuts", lambda model, **kw: (_FakeIdata(37, kw["chains"]), None))
    with pytest.raises(KeyboardInterrupt, match="after 37 of 100 draws per chain"):
        sampling.run_nuts(None, sampler="nutpie", draws=100, tune=10, chains=2, seed=1, target_accept=0.9, progressbar=False)
    monkeypatch.setattr(sampling, "_run_nuts", lambda model, **kw: (_FakeIdata(100, kw["chains"]), "info"))
    assert sampling.run_nuts(None, sampler="nutpie", draws=100, tune=10, chains=2, seed=1, target_accept=0.9, progressbar=False)[1] == "info"


def test_error_after_ctrl_c_is_an_interrupt(monkeypatch):
    """PyMC interrupted in tuning raises "Not enough samples to build a trace": the interrupt wins."""

    def ctrl_c_then_error(model, **kw):
        try:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(1)
        except KeyboardInterrupt:
            pass  # what the samplers do
        raise ValueError("Not enough samples to build a trace.")

    monkeypatch.setattr(sampling, "_run_nuts", ctrl_c_then_error)
    with pytest.raises(KeyboardInterrupt, match="stopped before it had its draws"):
        sampling.run_nuts(None, sampler="pymc", draws=100, tune=10, chains=2, seed=1, target_accept=0.9, progressbar=False)
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # the handler is put back


@pytest.mark.slow
@pytest.mark.parametrize("sampler", ["nutpie", "pymc"])
def test_real_ctrl_c_during_sampling(sampler):
    """A real SIGINT while the sampler runs a long chain: KeyboardInterrupt, promptly, not a truncated fit."""
    if sampler not in sampling.available_samplers():
        pytest.skip(f"{sampler} is not installed")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = bm.Model("Reaction ~ Days + (1 | Subject)", bm.datasets.load("sleepstudy"), parameterization="noncentered")
        if sampler == "nutpie":  # compile first, so the signal lands in sampling
            model.fit(draws=10, tune=10, chains=1, seed=1, sampler=sampler, progressbar=False)
        timer = threading.Timer(3.0, os.kill, (os.getpid(), signal.SIGINT))
        timer.start()
        try:
            with pytest.raises(KeyboardInterrupt, match="interrupted"):
                model.fit(draws=1_000_000, tune=200, chains=2, seed=1, sampler=sampler, progressbar=False)
        finally:
            timer.cancel()
