"""Sphinx configuration of the bayesmixed documentation site.

Build (strict: every warning is an error, every notebook executes)::

    .venv/bin/python -m sphinx -b html -W --keep-going -n docs docs/_build/html

Executed pages (MyST ``.md`` notebooks) are cached by content in ``docs/_cache`` (jupyter-cache, committed):
a page runs again only when its code changes.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # autodoc imports the checkout, even without `pip install -e .`

import bayesmixed  # noqa: E402

project = "bayesmixed"
author = "the bayesmixed developers"
copyright = "the bayesmixed developers; GPL-2.0-or-later"
version = release = bayesmixed.__version__

extensions = [
    "myst_nb",  # MyST Markdown and executed notebooks (myst_parser comes with it)
    "numpydoc",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx_copybutton",
    "sphinx_design",
]

exclude_patterns = ["_build", "_cache", "**.ipynb_checkpoints", "sbc/results.json"]
source_suffix = {".rst": "restructuredtext", ".md": "myst-nb", ".ipynb": "myst-nb"}
root_doc = "index"

# ----------------------------------------------------------------------------- strictness
# Nitpicky: every cross-reference must resolve. There is no network (no intersphinx), so references to other
# projects' objects and numpydoc's plain-language types are listed here, by pattern, and nothing else.
nitpicky = True
nitpick_ignore_regex = [
    (r"py:.*", r"(pd|pandas|np|numpy|xr|xarray|az|arviz|pm|pymc|pytensor|scipy|sp|matplotlib|mpl|dask|distributed|nutpie|numpyro|jax|os|pathlib|collections|typing|dataclasses|tomllib)(\..*)?"),
    (r"py:.*", r"(Figure|Axes|DataFrame|Series|Dataset|DataArray|InferenceData|ELPDData|ndarray|Generator|Client|Path|PathLike|Any|Callable|Iterator|Iterable|Mapping|Sequence|TracebackType)"),
    (r"py:.*", r"(optional|default|array-like|array_like|callable|iterable|mapping|sequence|scalar|dict-like|file-like|path-like|of|or|and|shape|int|float|str|bool|dict|list|tuple|set|None|bytes|object|type|slice|\d+|\.\.\.)"),
    (r"py:.*", r"(\(|\)|,|\[|\]|\{|\}|'.*'|\".*\"|.* .*)"),
]

# ----------------------------------------------------------------------------- API reference
autosummary_generate = True
autosummary_imported_members = True
autodoc_typehints = "none"  # numpydoc writes the types from the docstrings; signatures stay readable
autodoc_default_options = {"members": True, "inherited-members": False, "show-inheritance": True}
autodoc_member_order = "bysource"
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = False

# ----------------------------------------------------------------------------- MyST and notebooks
myst_enable_extensions = ["colon_fence", "dollarmath", "deflist", "substitution", "attrs_inline"]
myst_heading_anchors = 3
nb_execution_mode = os.environ.get("BAYESMIXED_DOCS_EXECUTE", "cache")  # "force" reruns everything
# The cache is committed (docs/_cache): the pages take over 10 minutes to execute on 2 cores, more than CI can
# spend on them; a page whose code changed is executed again. See developer/docs.md for refreshing it.
nb_execution_cache_path = str(ROOT / "docs" / "_cache")
nb_execution_timeout = 900
nb_execution_raise_on_error = True  # a cell that raises fails the build
nb_execution_show_tb = True
nb_merge_streams = True
nb_output_stderr = "show"
nb_kernel_rgx_aliases = {".*": "python3"}  # the kernel of the interpreter that runs Sphinx (jupyter_client)
nb_render_image_options = {}

# ----------------------------------------------------------------------------- HTML
html_theme = "pydata_sphinx_theme"
html_title = f"bayesmixed {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "show_toc_level": 2,
    "navigation_with_keys": False,
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
    "use_edit_page_button": False,
}
html_context = {"default_mode": "light"}
html_sidebars = {"index": [], "getting_started": []}
html_favicon = "_static/favicon.png"
