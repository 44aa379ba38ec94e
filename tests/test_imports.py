"""Every module imports (arviz_plots breaks with matplotlib 3.11: this catches such pins going stale)."""

from __future__ import annotations

import ast
import importlib
import pkgutil
import subprocess
import sys
from pathlib import Path

import bayesmixed

PACKAGE = Path(bayesmixed.__file__).parent


def test_every_module_imports():
    for mod in pkgutil.walk_packages(bayesmixed.__path__, "bayesmixed."):
        importlib.import_module(mod.name)


def test_arviz_stack_imports_with_pinned_matplotlib():
    import arviz
    import arviz_plots  # noqa: F401  (fails with matplotlib 3.11, hence the pin)
    import matplotlib

    major, minor = (int(x) for x in matplotlib.__version__.split(".")[:2])
    assert (major, minor) < (3, 11)
    assert arviz.__version__


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


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _runtime_imports(tree: ast.AST):
    """Every import statement of a module, at any depth (functions too), except under ``if TYPE_CHECKING:``."""
    stack = [tree]
    while stack:
        node = stack.pop()
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            stack.extend(node.orelse)
            continue
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node
        stack.extend(ast.iter_child_nodes(node))


def import_graph() -> dict[str, set[str]]:
    """Module -> the bayesmixed modules it imports (statically, lazy imports inside functions included)."""
    files = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        edges = set()
        for node in _runtime_imports(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                if node.level:
                    base = name.split(".") if is_pkg else name.split(".")[:-1]
                    base = base[: len(base) - (node.level - 1)]
                    mod = ".".join(base + ([node.module] if node.module else []))
                else:
                    mod = node.module or ""
                targets = [f"{mod}.{a.name}" if f"{mod}.{a.name}" in files else mod for a in node.names]
            for t in targets:
                if not t.startswith("bayesmixed"):
                    continue
                while t not in files and "." in t:
                    t = t.rsplit(".", 1)[0]
                if t != name:
                    edges.add(t)
        graph[name] = edges
    return graph


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), i.e. the import cycles."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on.add(v)
        for w in graph[v]:
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_import_graph_has_no_cycles():
    """No module imports, directly or through others, back into itself, not even lazily inside a function
    (``spec -> autoparam -> pooling -> spec`` and ``fit <-> compare/calibrate/saveload`` were such cycles)."""
    graph = import_graph()
    assert {"bayesmixed.fit", "bayesmixed.runner", "bayesmixed.compare", "bayesmixed._glm"} <= set(graph)
    assert "bayesmixed.runner" in graph["bayesmixed.compare"]  # the walker sees lazy imports
    assert _cycles(graph) == []
    # the walker finds a cycle when there is one
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_each_module_imports_first():
    """Each module can be the first bayesmixed module a fresh interpreter imports (no half-initialised module
    met through a cycle); third-party packages stay loaded between modules to keep this quick."""
    code = (
        "import importlib, pkgutil, sys\n"
        "import bayesmixed\n"
        "names = [m.name for m in pkgutil.walk_packages(bayesmixed.__path__, 'bayesmixed.')]\n"
        "for name in names:\n"
        "    for key in [k for k in sys.modules if k == 'bayesmixed' or k.startswith('bayesmixed.')]:\n"
        "        del sys.modules[key]\n"
        "    importlib.import_module(name)\n"
        "print(len(names))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    assert int(out.stdout.strip()) > 20


def test_arviz_is_imported_by_its_adapter_only():
    """One adapter per dependency: ``bayesmixed/_arviz.py`` is the only module that imports ArviZ."""
    users = []
    for path in PACKAGE.rglob("*.py"):
        for node in _runtime_imports(ast.parse(path.read_text())):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else [node.module or ""]
            if any(n == "arviz" or n.startswith("arviz.") for n in names):
                users.append(_module_name(path))
    assert sorted(set(users)) == ["bayesmixed._arviz"]
