"""Every figure renders to PNG (Agg) without error; save_all writes what the CLI expects."""

from __future__ import annotations

import io

import matplotlib
import matplotlib.pyplot as plt
import pytest
from matplotlib.figure import Figure

from bayesmixed import plots

matplotlib.use("Agg")

pytestmark = pytest.mark.slow


def render(fig) -> bytes:
    assert isinstance(fig, Figure)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=60)
    data = buf.getvalue()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 2000
    return data


def test_every_plot_renders(sleep_fit):
    before = plt.get_fignums()
    p = sleep_fit.plot
    figs = [
        p.caterpillar("Subject"),
        p.caterpillar("Subject", term="Days", prob=0.9),
        p.shrinkage("Subject"),
        p.shrinkage("Subject", term="Intercept", x="n"),
        p.shrinkage2d("Subject"),
        p.effects("Subject"),
        p.effects("Subject", facets=False),
        p.ppc(),
        p.trace(),
        p.rank(),
        p.trace(var_names=["beta[Days]", "sigma"]),
    ]
    for f in figs:
        render(f)
    assert plt.get_fignums() == before  # figures are not registered with pyplot
    assert len(figs[0].axes) == 2 and len(figs[1].axes) == 1
    assert "caterpillar" in repr(p)


def test_plots_for_intercepts_and_binomial(radon_fit, cbpp_fit, dyestuff_fit):
    render(radon_fit.plot.caterpillar("county"))
    render(radon_fit.plot.shrinkage("county"))  # group sizes differ: x is the number of observations
    render(radon_fit.plot.effects("county"))  # 85 levels: overlay
    render(radon_fit.plot.effects("county", x="floor", facets=False))
    render(radon_fit.plot.ppc(group="county"))
    render(cbpp_fit.plot.effects("herd"))  # categorical x (period), facets
    render(cbpp_fit.plot.effects("herd", x="period", facets=False))
    render(cbpp_fit.plot.ppc())  # counts: frequencies of each value
    render(cbpp_fit.plot.shrinkage("herd"))
    render(dyestuff_fit.plot.effects("Batch"))  # no predictor: level means
    render(dyestuff_fit.plot.shrinkage("Batch"))  # balanced: levels sorted by their own estimate


def test_plot_errors(radon_fit, sleep_fit):
    with pytest.raises(ValueError, match="shrinkage2d needs two"):
        radon_fit.plot.shrinkage2d("county")
    with pytest.raises(KeyError, match="no random-effect term"):
        radon_fit.plot.caterpillar("nope")
    with pytest.raises(KeyError, match="not a column"):
        radon_fit.plot.effects("county", x="nope")
    with pytest.raises(KeyError, match="no varying coefficient"):
        sleep_fit.plot.caterpillar("Subject", term="nope")
    with pytest.raises(KeyError, match="no parameter"):
        sleep_fit.plot.trace(var_names=["nope"])


def test_save_all(sleep_fit, cbpp_fit, tmp_path):
    paths = plots.save_all(sleep_fit, tmp_path / "sleep")
    names = sorted(p.name for p in paths)
    assert names == sorted([
        "caterpillar_Subject.png", "shrinkage_Subject.png", "shrinkage2d_Subject.png", "effects_Subject.png",
        "ppc.png", "trace.png",
    ])
    for p in paths:
        assert p.exists() and p.read_bytes()[:4] == b"\x89PNG"
    paths = plots.save_all(cbpp_fit, tmp_path / "cbpp")
    assert sorted(p.name for p in paths) == sorted(
        ["caterpillar_herd.png", "shrinkage_herd.png", "effects_herd.png", "ppc.png", "trace.png"]
    )
