"""A real browser runs the threshold explorer: JupyterLab on localhost, headless Debian Chromium driven by Playwright.

The test copies the cells of nbs/31_explorers.ipynb up to the threshold explorer into a temporary folder (so the
committed notebook is never touched by JupyterLab's autosave), serves that folder with JupyterLab on a free port
with a random token, opens it in Chromium, runs all cells from the Run menu, drags the explorer's threshold slider
and checks that the Pd/Fa line shown in the page changes. A screenshot is saved under the test's tmp folder.

Needs: Debian's `chromium` (/usr/bin/chromium) and the Python package `playwright` (its own browsers are never
downloaded: `playwright install` is not needed). Skipped with a message when either is missing.
"""
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = os.environ.get("IRSTD_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
DEADLINE = 100                     # seconds for the whole test; the page steps have their own timeouts within it


def _requirements():
    if not Path(CHROMIUM).is_file():
        pytest.skip(f"no Chromium at {CHROMIUM}: install Debian's chromium (apt-get install -y chromium) to run the browser test")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        pytest.skip("the Python package playwright is missing: pip install playwright (no `playwright install` needed)")
    try:
        import jupyterlab  # noqa: F401
    except ImportError:
        pytest.skip("jupyterlab is missing: pip install -e '.[dev]'")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0)); return s.getsockname()[1]


def _notebook(dst: Path) -> Path:
    "The explorers notebook's cells up to and including the threshold explorer's, outputs cleared."
    nb = json.loads((REPO / "nbs" / "31_explorers.ipynb").read_text())
    end = next(i for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code" and "ex = threshold_explorer()" in "".join(c["source"]))
    cells = nb["cells"][:end + 1]
    for c in cells:
        if c["cell_type"] == "code": c["outputs"], c["execution_count"] = [], None
    nb["cells"] = cells
    nb["metadata"]["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
    p = dst / "explorers.ipynb"; p.write_text(json.dumps(nb)); return p


def _pd_fa(text: str):
    m = re.search(r"Pd (\d+)/(\d+) = [\d.]+ · Fa (\d+) px", text)
    assert m, f"no Pd/Fa in {text!r}"
    return int(m.group(1)), int(m.group(3))


@pytest.fixture
def lab(tmp_path):
    "JupyterLab serving a temporary folder on a free localhost port with a token; stopped (process group) afterwards."
    _requirements()
    root = tmp_path / "lab"; root.mkdir()
    _notebook(root)
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "cfg"), JUPYTER_RUNTIME_DIR=str(tmp_path / "rt"),
               JUPYTERLAB_SETTINGS_DIR=str(tmp_path / "settings"), JUPYTERLAB_WORKSPACES_DIR=str(tmp_path / "ws"),
               IPYTHONDIR=str(tmp_path / "ipython"), OMP_NUM_THREADS="1", MPLBACKEND="Agg", PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--ServerApp.open_browser=False",
           "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if os.geteuid() == 0: cmd.append("--allow-root")
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(cmd, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        t0 = time.time()
        while True:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/api/status?token={token}", timeout=2); break
            except OSError:
                if proc.poll() is not None or time.time() - t0 > 45:
                    raise RuntimeError(f"JupyterLab did not start: {(tmp_path / 'lab.log').read_text()[-2000:]}")
                time.sleep(0.5)
        yield f"http://127.0.0.1:{port}/lab/tree/explorers.ipynb?token={token}"
    finally:
        try: os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError: pass
        try: proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL); proc.wait(5)
        log.close()


def test_threshold_slider_in_chromium(lab, tmp_path):
    from playwright.sync_api import sync_playwright, expect, TimeoutError as PlaywrightTimeout
    t0 = time.time()
    profile = tmp_path / "chromium-profile"
    with sync_playwright() as p:
        ctx = p.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True, args=ARGS,
                                                   viewport={"width": 1400, "height": 1000})
        try:
            page = ctx.pages[0] if ctx.pages else ctx.new_page()
            page.set_default_timeout(60_000)
            page.goto(lab)
            page.locator(".jp-Notebook .jp-Cell").first.wait_for()
            dialog = page.get_by_role("button", name="Select Kernel")             # JupyterLab may ask which kernel
            try: dialog.click(timeout=5_000)
            except PlaywrightTimeout: pass
            try: page.get_by_role("button", name="No", exact=True).click(timeout=2_000)   # the news notification
            except PlaywrightTimeout: pass
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=30_000)
            page.get_by_role("menuitem", name="Run", exact=True).click()
            page.get_by_text("Run All Cells", exact=True).click()
            info = page.locator(".irstd-thresholdexplorer .irstd-info")
            expect(info).to_contain_text("Pd", timeout=60_000)
            info.scroll_into_view_if_needed()
            before = info.inner_text()
            pd0, fa0 = _pd_fa(before)
            handle = page.locator(".irstd-thresholdexplorer .noUi-handle").first
            track = page.locator(".irstd-thresholdexplorer .noUi-target").first
            hb, tb = handle.bounding_box(), track.bounding_box()
            page.mouse.move(hb["x"] + hb["width"] / 2, hb["y"] + hb["height"] / 2); page.mouse.down()
            page.mouse.move(tb["x"] + 0.15 * tb["width"], hb["y"] + hb["height"] / 2, steps=8); page.mouse.up()
            expect(info).not_to_have_text(before, timeout=30_000)
            after = info.inner_text()
            pd1, fa1 = _pd_fa(after)
            expect(page.get_by_text("Python 3 (ipykernel) | Idle")).to_be_visible(timeout=30_000)   # the picture is redrawn
            page.locator(".irstd-thresholdexplorer .irstd-view").scroll_into_view_if_needed()
            page.screenshot(path=str(tmp_path / "threshold_explorer.png"), full_page=False)
            assert (pd1, fa1) != (pd0, fa0), (before, after)
            assert fa1 >= fa0 and pd1 >= pd0, (before, after)      # a lower threshold: no fewer hits, no fewer false pixels
            m = re.search(r"threshold ([\d.]+)", after); assert m and float(m.group(1)) < 0.5, after
        finally:
            ctx.close()
    assert time.time() - t0 < DEADLINE
