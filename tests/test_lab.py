"""`make lab`, the README's first command, starts JupyterLab over the notebooks: run it for real, headless.

The test runs `make lab` itself (as root too: CI and many containers run as root, where JupyterLab needs
`--allow-root`), with a private Jupyter config that picks the port and token and keeps a browser from
opening, waits for the server, lists the notebooks through its REST API and stops it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

if shutil.which("make") is None:
    pytest.skip("make is not installed", allow_module_level=True)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get_json(url: str):
    with urllib.request.urlopen(url, timeout=5) as response:
        return json.loads(response.read())


def test_make_lab_serves_the_notebooks(tmp_path):
    port, token = _free_port(), "make-lab-test"
    config = tmp_path / "jupyter-config"
    config.mkdir()
    (config / "jupyter_server_config.json").write_text(
        json.dumps(
            {
                "ServerApp": {"port": port, "ip": "127.0.0.1", "open_browser": False},
                "IdentityProvider": {"token": token},
            }
        )
    )
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config), PYTHON=sys.executable)
    log = open(tmp_path / "make-lab.log", "wb")
    server = subprocess.Popen(
        ["make", "lab"], cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
    )
    try:
        listing, deadline = None, time.monotonic() + 120
        while listing is None and time.monotonic() < deadline:
            assert server.poll() is None, (tmp_path / "make-lab.log").read_text()[-3000:]
            try:
                listing = _get_json(f"http://127.0.0.1:{port}/api/contents/?token={token}")
            except (urllib.error.URLError, ConnectionError):
                time.sleep(0.5)
        assert listing is not None, "JupyterLab did not answer within 120 s"
        names = {item["name"] for item in listing["content"]}
        assert {"01_model_1.ipynb", "04_model_4.ipynb"} <= names, names
        settings = _get_json(f"http://127.0.0.1:{port}/lab/api/settings?token={token}")
        ids = {item["id"] for item in settings["settings"]}
        assert "@jupyterlab/notebook-extension:tracker" in ids, sorted(ids)[:10]  # JupyterLab, not a bare server
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        log.close()
