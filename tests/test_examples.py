"""Every notebook in examples/ runs top to bottom (nbclient) on this interpreter.

The notebooks run in a kernel registered for the test session: a kernelspec in a temporary folder, put first on
JUPYTER_PATH, whose command is this interpreter (``sys.executable``), so the kernel sees the same environment
as the tests (the venv with bayesmixed) whatever kernels the machine has registered.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path

import nbclient
import nbformat
import pytest

EXAMPLES = sorted((Path(__file__).resolve().parent.parent / "examples").glob("*.ipynb"))
KERNEL = "bayesmixed-tests"


@pytest.fixture(scope="module")
def kernel_name(tmp_path_factory, monkeypatch_module):
    root = tmp_path_factory.mktemp("jupyter")
    spec = root / "kernels" / KERNEL
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "bayesmixed tests",
        "language": "python",
        "env": {"MPLBACKEND": "module://matplotlib_inline.backend_inline"},
    }))
    monkeypatch_module.setenv("JUPYTER_PATH", str(root))
    return KERNEL


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_there_are_examples():
    assert EXAMPLES, "no notebooks in examples/"


@pytest.mark.slow
@pytest.mark.parametrize("path", EXAMPLES, ids=[p.name for p in EXAMPLES])
def test_notebook_executes(path, kernel_name):
    nb = nbformat.read(path, as_version=4)
    client = nbclient.NotebookClient(
        nb, timeout=600, kernel_name=kernel_name, resources={"metadata": {"path": str(path.parent)}}
    )
    t0 = time.perf_counter()
    client.execute()
    elapsed = time.perf_counter() - t0
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if o.output_type == "error"]
    assert not errors
    images = sum("image/png" in o.get("data", {}) for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert images >= 1, "figures did not display"
    print(f"{path.name}: executed in {elapsed:.0f} s, {images} figures")
