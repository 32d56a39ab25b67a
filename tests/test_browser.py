"""A person in a real browser: JupyterLab with 01_play_encounter, and the marimo encounter app.

Headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH) through Playwright.
Servers bind to 127.0.0.1 with a token on a free port, run under `timeout` so
they stop by themselves, and are stopped at the end of the module. Screenshots
go to artifacts/screenshots/.
"""

from __future__ import annotations

import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
SHOTS = ROOT / "artifacts" / "screenshots"
CHROMIUM = os.environ.get("CHROMIUM_PATH") or shutil.which("chromium") or "/usr/bin/chromium"
BROWSER_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SERVER_LIFETIME_S = 420  # `timeout` ends a server that outlives the tests
CASE = "cardiology-acute_pericarditis-003"

if not Path(CHROMIUM).exists():
    pytest.skip(f"no Chromium at {CHROMIUM} (apt install chromium, or set CHROMIUM_PATH)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, log: Path, timeout: float = 120) -> None:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if proc.poll() is not None:
            raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text()[-3000:]}")
        try:
            urllib.request.urlopen(url, timeout=3)
            return
        except OSError:
            time.sleep(0.5)
    raise TimeoutError(f"{url} did not answer in {timeout} s:\n{log.read_text()[-3000:]}")


def start_server(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = open(log, "w")
    return subprocess.Popen(["timeout", str(SERVER_LIFETIME_S), *cmd], cwd=cwd, env=env, stdout=handle,
                            stderr=subprocess.STDOUT)


def stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(20)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=BROWSER_ARGS)
        yield b
        b.close()


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    SHOTS.mkdir(parents=True, exist_ok=True)
    home = tmp_path_factory.mktemp("jupyter")
    return {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
            "HF_HUB_OFFLINE": "1", "JUPYTER_CONFIG_DIR": str(home / "config"),
            "JUPYTER_RUNTIME_DIR": str(home / "runtime"), "JUPYTER_DATA_DIR": str(home / "data")}


@pytest.fixture(scope="module")
def lab(tmp_path_factory, env):
    """JupyterLab serving a copy of the notebooks (so autosave never touches the committed ones)."""
    root = tmp_path_factory.mktemp("lab")
    shutil.copy(ROOT / "notebooks" / "01_play_encounter.ipynb", root)
    labconfig = Path(env["JUPYTER_CONFIG_DIR"]) / "labconfig"
    labconfig.mkdir(parents=True)
    (labconfig / "page_config.json").write_text('{"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": true}}')
    port, token = free_port(), secrets.token_hex(16)
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--LabApp.expose_app_in_browser=True",
           "--ServerApp.shutdown_no_activity_timeout=120", "--LabApp.extension_manager=readonly",
           "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate", "--LabApp.news_url=None"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    log = root / "server.log"
    proc = start_server(cmd, root, env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/api/status?token={token}", proc, log)
        yield f"http://127.0.0.1:{port}", token
    finally:
        stop(proc)


def test_clinician_plays_the_notebook_in_jupyterlab(browser, lab):
    base, token = lab
    page = browser.new_page(viewport={"width": 1440, "height": 1000})
    page.set_default_timeout(120_000)
    page.goto(f"{base}/lab/tree/01_play_encounter.ipynb?token={token}")
    page.wait_for_selector(".jp-Notebook")
    page.wait_for_function("() => { const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;"
                           " const k = w && w.sessionContext && w.sessionContext.session && w.sessionContext.session.kernel;"
                           " return k && k.status === 'idle'; }", timeout=180_000)
    page.evaluate("window.jupyterapp.commands.execute('notebook:run-all-cells')")
    player = page.locator(".medgym-player")
    player.wait_for(timeout=240_000)
    page.locator(".medgym-conversation").wait_for()

    # choose the case by id, as a clinician who was sent one would
    page.locator(".medgym-case-id input").fill(CASE)
    page.locator(".medgym-start").click()
    page.locator(".medgym-card", has_text="sharp chest pain").wait_for()
    player.screenshot(path=str(SHOTS / "lab_01_case.png"))

    # ask the patient
    page.locator(".medgym-ask input").fill("Does the pain go anywhere else?")
    page.locator(".medgym-ask-button").click()
    convo = page.locator(".medgym-conversation")
    convo.locator(".msg.patient").first.wait_for()
    assert "Does the pain go anywhere else?" in convo.inner_text()

    # order a lab through the generated form
    page.locator(".medgym-tool select").select_option(label="Order lab")
    page.locator(".medgym-tool-form .medgym-arg-test select").select_option(label="High-sensitivity cardiac troponin T")
    page.locator(".medgym-run-tool").click()
    table = convo.locator("table.labs")
    table.first.wait_for()
    text = table.first.inner_text()
    assert "High-sensitivity cardiac troponin T" in text and "ng/L" in text and "<=14 ng/L" in text
    player.screenshot(path=str(SHOTS / "lab_02_lab_result.png"))

    # a wrong type in the form is shown, not sent: the diagnosis is required
    page.locator(".medgym-submit").click()
    page.get_by_text("Diagnosis: required").wait_for()

    # submit the diagnosis
    page.locator(".medgym-submit-form .medgym-arg-diagnosis input").fill("Acute pericarditis")
    page.locator(".medgym-submit").click()
    end = page.locator(".medgym-end")
    end.get_by_text("Correct answer").wait_for()
    shown = end.inner_text()
    assert "Correct · score" in shown and "Acute pericarditis" in shown and "Rationale" in shown
    assert "Reward breakdown" in shown and "Outcome" in shown
    end.screenshot(path=str(SHOTS / "lab_03_end_screen.png"))
    page.set_viewport_size({"width": 1440, "height": 2600})  # tall enough for the whole player
    page.wait_for_timeout(500)
    player.screenshot(path=str(SHOTS / "lab_04_player.png"))
    page.close()


@pytest.fixture(scope="module")
def marimo_app(tmp_path_factory, env):
    port = free_port()
    token = secrets.token_hex(12)
    log = tmp_path_factory.mktemp("marimo") / "server.log"
    cmd = [sys.executable, "-m", "marimo", "run", str(ROOT / "notebooks" / "encounter_app.py"), "--headless",
           "--host", "127.0.0.1", "--port", str(port), "--token", "--token-password", token, "--no-sandbox",
           "--no-skew-protection", "--", "--patient-matcher", "lexical", "--task", CASE]
    proc = start_server(cmd, ROOT, env, log)
    try:
        wait_http(f"http://127.0.0.1:{port}/health", proc, log)
        yield f"http://127.0.0.1:{port}", token, log
    finally:
        stop(proc)


def test_clinician_plays_the_marimo_app(browser, marimo_app):
    base, token, log = marimo_app
    page = browser.new_page(viewport={"width": 1440, "height": 1400})
    page.set_default_timeout(120_000)
    page.goto(f"{base}/?access_token={token}")
    page.get_by_text("Final answer").first.wait_for(timeout=180_000)
    assert "54-year-old man · sharp chest pain" in page.inner_text("body")
    page.screenshot(path=str(SHOTS / "marimo_01_case.png"))

    page.get_by_placeholder("Ask the patient").fill("Does the pain go anywhere else?")
    page.get_by_role("button", name="Ask").click()
    page.locator(".msg.patient").first.wait_for()

    page.locator("select").filter(has_text="Order lab").first.select_option(label="Order lab")
    lab_test = page.locator("select").filter(has_text="High-sensitivity cardiac troponin T").first
    lab_test.select_option(label="High-sensitivity cardiac troponin T")
    page.get_by_role("button", name="Order / do it").click()
    table = page.locator("table.labs").first
    table.wait_for()
    assert "ng/L" in table.inner_text() and "<=14 ng/L" in table.inner_text()

    # the form refuses a submission without the required diagnosis, and says why
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Diagnosis: required").first.wait_for()
    page.screenshot(path=str(SHOTS / "marimo_02_lab_and_form_error.png"))

    page.get_by_placeholder("Diagnosis").fill("Acute pericarditis")
    page.get_by_role("button", name="Submit").click()
    page.get_by_text("Correct answer").first.wait_for()
    text = page.inner_text("body")
    assert "Correct · score" in text and "Rationale" in text and "Acute pericarditis (ICD-10-CM I30.9)" in text
    page.screenshot(path=str(SHOTS / "marimo_03_end.png"))
    page.close()
