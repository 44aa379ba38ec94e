"""The ``bayesmixed`` command: model files and formulas, outputs, errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import arviz as az
import pytest

from bayesmixed.cli import main

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_fit_model_file_writes_summary_and_posterior(tmp_path, capsys):
    rc = main(["fit", str(ROOT / "models" / "dyestuff.toml"), "--out", str(tmp_path), "--draws", "300", "--tune", "300", "--chains", "2", "--quiet", "--no-plots"])
    assert rc == 0
    out = capsys.readouterr().out
    assert "Random effects" in out and "Fixed effects" in out and "Agreement with lme4" in out
    text = (tmp_path / "summary.txt").read_text()
    assert "Batch" in text and "Intercept" in text
    idata = az.from_netcdf(tmp_path / "posterior.nc")
    assert {"beta", "sd_Batch", "r_Batch", "sigma"} <= set(idata.posterior.data_vars)
    assert idata.posterior.sizes["draw"] == 300
    assert not list(tmp_path.glob(".*.tmp"))  # no half-written files left
    # the whole fit is written too, for bm.load (posterior.nc holds the InferenceData only), and said so
    import bayesmixed as bm

    assert f"bm.load({str(tmp_path / 'fit.bmfit')!r})" in out
    fit = bm.load(tmp_path / "fit.bmfit")
    assert fit.idata.posterior["sigma"].equals(idata.posterior["sigma"]) and fit.spec.formula == "Yield ~ 1 + (1 | Batch)"
    with pytest.raises(bm.BayesMixedError, match=r"netCDF file: the posterior alone .*fit\.bmfit"):
        bm.load(tmp_path / "posterior.nc")


@pytest.mark.slow
def test_fit_formula_on_csv(tmp_path, capsys):
    import bayesmixed as bm

    csv = tmp_path / "pen.csv"
    bm.datasets.load("Penicillin").to_csv(csv, index=False)
    rc = main(["fit", "--formula", "diameter ~ 1 + (1 | plate) + (1 | sample)", "--data", str(csv), "--draws", "200", "--tune", "200", "--chains", "2", "--quiet"])
    assert rc == 0
    assert "plate, 24; sample, 6" in capsys.readouterr().out


def test_bad_formula_exits_with_code_2(capsys):
    rc = main(["fit", "--formula", "diameter ~ (1 | plte)", "--data", "Penicillin"])
    assert rc == 2
    err = capsys.readouterr().err
    assert "'plte'" in err and "Did you mean 'plate'" in err


def test_missing_model_file(capsys):
    assert main(["fit", "models/nope.toml"]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_console_script_lists_datasets():
    exe = Path(sys.executable).parent / "bayesmixed"
    out = subprocess.run([str(exe), "datasets"], capture_output=True, text=True, check=True).stdout.split()
    assert {"sleepstudy", "radon", "cbpp", "Penicillin", "InstEval"} <= set(out)
