"""Every module imports (arviz_plots breaks with matplotlib 3.11: this catches such pins going stale)."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys

import bayesmixed


def test_every_module_imports():
    for mod in pkgutil.walk_packages(bayesmixed.__path__, "bayesmixed."):
        importlib.import_module(mod.name)


def test_arviz_stack_imports_with_pinned_matplotlib():
    import arviz
    import arviz_plots  # noqa: F401  (fails with matplotlib 3.11, hence the pin)
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    assert (major, minor) < (3, 11)
    assert arviz.__version__.startswith("0.")


def test_import_is_light():
    """``import bayesmixed`` does not import PyMC, PyTensor, nutpie or Dask (they load on first use; the families'
    PyTensor forms import it inside their methods)."""
    code = ("import sys, bayesmixed; "
            "print(sorted(m for m in ('pymc', 'pytensor', 'nutpie', 'dask', 'bambi') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_public_api():
    for name in bayesmixed.__all__:
        assert hasattr(bayesmixed, name), name
