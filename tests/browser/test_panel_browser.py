"""The demo panel in a real browser: JupyterLab on loopback, Debian's headless Chromium via Playwright.

It opens tests/browser/panel-demo.ipynb, runs all cells, presses the panel's Run button and waits
for the redrawn pictures (the flow and timeline images) and the summary to appear. The screenshot is
kept at artifacts/panel.png. Playwright never downloads a browser here: it drives /usr/bin/chromium,
and nothing but 127.0.0.1 is contacted.
"""

from __future__ import annotations

import os
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

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOK = Path(__file__).with_name("panel-demo.ipynb")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACT = ROOT / "artifacts" / "panel.png"

pytestmark = [
    pytest.mark.skipif(not Path(CHROMIUM).exists(),
                       reason=f"{CHROMIUM} not installed (apt-get install -y chromium); no browser is downloaded"),
    pytest.mark.timeout(90),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def lab(tmp_path):
    """A JupyterLab server on 127.0.0.1 with a random token, serving a copy of the demo notebook."""
    shutil.copy(NOTEBOOK, tmp_path / NOTEBOOK.name)
    port, token = free_port(), secrets.token_hex(16)
    home = tmp_path / "home"
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])),
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "IPYTHONDIR": str(home / "ipython"),
        "MPLBACKEND": "Agg",
        "NO_PROXY": "127.0.0.1,localhost",
    }
    cmd = [
        sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
        f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={tmp_path}", "--LabApp.expose_app_in_browser=True",
        f"--LabApp.user_settings_dir={home / 'settings'}", f"--LabApp.workspaces_dir={home / 'workspaces'}",
        "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        "--LabApp.extension_manager=readonly",  # the PyPI manager would reach the network
        "--ServerApp.allow_root=True",  # CI containers run as root; harmless otherwise
    ]
    news = home / "settings" / "@jupyterlab" / "apputils-extension"
    news.mkdir(parents=True)
    (news / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    log = open(tmp_path / "jupyter.log", "w")  # noqa: SIM115 - closed in teardown
    server = subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
                              start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback only, never a proxy
    deadline = time.monotonic() + 30
    while True:
        try:
            with opener.open(f"{url}/api/status?token={token}", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            log.flush()
            pytest.fail("JupyterLab did not start:\n" + (tmp_path / "jupyter.log").read_text()[-3000:])
        time.sleep(0.2)
    yield url, token
    os.killpg(server.pid, signal.SIGTERM)  # the server and the kernels it started
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=5)
    log.close()


def test_panel_run_redraws_pictures_in_jupyterlab(lab):
    from playwright.sync_api import expect, sync_playwright

    url, token = lab
    ARTIFACT.parent.mkdir(exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1100})
            page.goto(f"{url}/lab/tree/{NOTEBOOK.name}?token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=30_000)
            # the kernel must be up before "run all" is meaningful
            page.wait_for_function(
                "() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                " return !!(w && w.sessionContext && w.sessionContext.session"
                " && w.sessionContext.session.kernel"
                " && w.sessionContext.session.kernel.status === 'idle'); }",
                timeout=30_000,
            )
            page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")

            panel = page.locator(".localcloud-demo-panel")
            expect(panel).to_be_visible(timeout=30_000)
            expect(panel.locator("img")).to_have_count(0)  # nothing drawn before Run
            panel.locator("button", has_text="Run").click()  # the label follows an icon

            flow = panel.locator("img.localcloud-flow")
            expect(flow).to_be_visible(timeout=30_000)
            expect(panel.locator("img.localcloud-timeline")).to_be_visible()
            expect(panel.locator("table.localcloud-summary")).to_contain_text("invocations")
            expect(panel).to_contain_text("4 invocations")
            # the images really decoded (a broken data: URL has naturalWidth 0)
            assert flow.evaluate("img => img.naturalWidth") > 300
            panel.scroll_into_view_if_needed()
            page.screenshot(path=str(ARTIFACT), full_page=True)
        finally:
            browser.close()
    assert ARTIFACT.stat().st_size > 10_000
