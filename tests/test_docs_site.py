"""The documentation site, opened in a real headless Chromium (Debian's ``chromium`` and ``chromium-driver``,
driven by selenium) and served by a local ``http.server`` on 127.0.0.1.

Every page of the built site (``docs/_build/html``; built here, strictly, if ``.ci/run`` has not built it) is
visited: no JavaScript console error (SEVERE log entries), every image loaded (``naturalWidth > 0``), every
internal link answered with HTTP 200 and, where it has a ``#fragment``, pointing at an element that exists.
The search box must find the pages that document shrinkage and ``conditional_effects``.

Install the browser once (Debian, as root): ``apt-get install -y chromium chromium-driver``.
"""

from __future__ import annotations

import functools
import html.parser
import http.server
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import bayesmixed as bm

ROOT = Path(__file__).resolve().parent.parent
SITE = ROOT / "docs" / "_build" / "html"
BUILD = [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-n", "docs", "docs/_build/html"]
SKIP_DIRS = {"_static", "_sources", "_images", "_sphinx_design_static", "jupyter_execute"}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--window-size=1280,1000",
]

pytestmark = pytest.mark.slow  # builds the site when it is not built (minutes), then drives a browser


@pytest.fixture(scope="session")
def site() -> Path:
    """The built site; built here (strict mode, as the README says) only when ``.ci/run`` has not built it."""
    if not (SITE / "index.html").exists():
        run = subprocess.run(BUILD, cwd=ROOT, capture_output=True, text=True)
        assert run.returncode == 0, f"the docs build failed:\n{run.stdout[-5000:]}\n{run.stderr[-5000:]}"
    return SITE


@pytest.fixture(scope="session")
def server(site):
    """``http://127.0.0.1:<port>/`` serving the built site, for the session."""

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(site)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Debian Chromium through its own chromedriver (no driver download: no network here)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium = shutil.which("chromium")
    driver_path = shutil.which("chromedriver")
    assert chromium and driver_path, (
        "the docs test needs Debian's Chromium and its driver: apt-get install -y chromium chromium-driver"
    )
    opts = webdriver.ChromeOptions()
    opts.binary_location = chromium
    for flag in CHROMIUM_FLAGS:
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}")
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=opts, service=Service(driver_path))
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def pages(site: Path) -> list[str]:
    """Every HTML page of the site, as paths relative to its root."""
    out = []
    for p in sorted(site.rglob("*.html")):
        rel = p.relative_to(site)
        if not SKIP_DIRS.intersection(rel.parts[:-1]):
            out.append(rel.as_posix())
    return out


class _Ids(html.parser.HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        for k, v in attrs:
            if k in ("id", "name") and v:
                self.ids.add(v)


@functools.lru_cache(maxsize=None)
def _fetch(url: str) -> tuple[int, frozenset[str]]:
    """HTTP status of ``url`` and, for an HTML page, the ids (and anchor names) it defines."""
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            status, body, ctype = r.status, r.read(), r.headers.get("Content-Type", "")
    except urllib.error.HTTPError as e:
        return e.code, frozenset()
    ids: set[str] = set()
    if "html" in ctype:
        parser = _Ids()
        parser.feed(body.decode("utf-8", "replace"))
        ids = parser.ids
    return status, frozenset(ids)


_WAIT_IMAGES = """
const done = arguments[arguments.length - 1];
const imgs = Array.from(document.images);
imgs.forEach(i => { i.loading = 'eager'; });
const t0 = Date.now();
(function poll() {
  if (imgs.every(i => i.complete) || Date.now() - t0 > 20000) { done(); } else { setTimeout(poll, 100); }
})();
"""


def _visit(driver, url: str) -> None:
    driver.get(url)
    for _ in range(200):
        if driver.execute_script("return document.readyState") == "complete":
            break
        time.sleep(0.05)
    driver.execute_async_script(_WAIT_IMAGES)


def test_site_has_the_pages_the_issue_asks_for(site):
    have = set(pages(site))
    for page in [
        "index.html",
        "getting_started.html",
        "guide/formulas.html",
        "guide/priors.html",
        "guide/parameterizations.html",
        "guide/families.html",
        "guide/shrinkage.html",
        "guide/diagnostics.html",
        "guide/comparison.html",
        "guide/prediction.html",
        "guide/interpretation.html",
        "guide/simulation.html",
        "guide/cli.html",
        "guide/samplers.html",
        "guide/performance.html",
        "coming_from/lme4.html",
        "coming_from/brms.html",
        "api/index.html",
        "api/main.html",
        "api/fit.html",
        "gallery/sleepstudy.html",
        "gallery/radon.html",
        "gallery/cbpp.html",
        "gallery/grouseticks.html",
        "gallery/simulation.html",
        "gallery/model_comparison.html",
        "gallery/insteval.html",
        "benchmarks.html",
        "sbc.html",
        "trajectories.html",
        "bad_inputs.html",
        "developer/architecture.html",
    ]:
        assert page in have, f"{page} is missing from the built site"
    # the gallery's notebooks were executed: their figures are in the pages
    for page in ["gallery/sleepstudy.html", "gallery/radon.html", "gallery/cbpp.html", "gallery/simulation.html"]:
        assert "<img" in (site / page).read_text(), f"{page} shows no figure"


def test_every_page_in_a_browser(site, server, browser):
    """No console error, every image loaded, every internal link resolves, on every page."""
    origin = urllib.parse.urlsplit(server).netloc
    problems: list[str] = []
    visited = pages(site)
    for page in visited:
        url = urllib.parse.urljoin(server, page)
        _visit(browser, url)
        for entry in browser.get_log("browser"):
            if entry.get("level") == "SEVERE":
                problems.append(f"{page}: console error: {entry.get('message')}")
        broken = browser.execute_script(
            "return Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src)"
        )
        problems += [f"{page}: image not loaded: {src}" for src in broken]
        hrefs = browser.execute_script(
            "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href)"
        )
        for href in set(hrefs):
            parts = urllib.parse.urlsplit(href)
            if parts.scheme not in ("http", "https") or parts.netloc != origin:
                continue  # external links are not checked (no network)
            target = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, parts.query, ""))
            status, ids = _fetch(target)
            if status != 200:
                problems.append(f"{page}: link {href} answered HTTP {status}")
            elif parts.fragment and ids and urllib.parse.unquote(parts.fragment) not in ids:
                problems.append(f"{page}: link {href}: no element with id {parts.fragment!r}")
    assert len(visited) > 30
    assert not problems, "\n".join(problems)


def _search(browser, server: str, word: str) -> list[str]:
    """Type ``word`` into the site's search box (the theme's search dialog), press Enter, return the result
    pages (paths relative to the site root)."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support import expected_conditions as EC
    from selenium.webdriver.support.ui import WebDriverWait

    _visit(browser, urllib.parse.urljoin(server, "index.html"))
    wait = WebDriverWait(browser, 30)
    # the theme has a search button per layout (wide and narrow screens): click the one that is shown
    button = wait.until(lambda d: next(
        (b for b in d.find_elements(By.CSS_SELECTOR, "button.search-button__button") if b.is_displayed()), False))
    button.click()
    box = wait.until(EC.visibility_of_element_located((By.CSS_SELECTOR, "form.bd-search input[name='q']")))
    box.send_keys(word, Keys.ENTER)
    wait.until(EC.url_contains("search.html"))
    wait.until(lambda d: d.execute_script(
        "const s = document.querySelector('#search-results .search-summary, #search-results p');"
        "return s !== null && s.textContent.trim().length > 0 && !/preparing|searching/i.test(s.textContent)"
    ))
    links = browser.execute_script(
        "return Array.from(document.querySelectorAll('#search-results ul.search li a')).map(a => a.href)"
    )
    return sorted({urllib.parse.urlsplit(h).path.lstrip("/") for h in links})


def test_search_finds_the_shrinkage_page(site, server, browser):
    found = _search(browser, server, "shrinkage")
    assert "guide/shrinkage.html" in found, found
    assert any(p.startswith("gallery/") for p in found), found


def test_search_finds_conditional_effects(site, server, browser):
    if not hasattr(bm.Fit, "conditional_effects"):
        pytest.skip("Fit.conditional_effects (issue 19) is not in this checkout yet")
    found = _search(browser, server, "conditional_effects")
    assert found, "the search finds no page for conditional_effects"
    assert any(p.startswith("guide/") or p.startswith("gallery/") for p in found), (
        f"conditional_effects is only in {found}: it needs a user-guide page"
    )
