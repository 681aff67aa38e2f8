"""`cxport demo --serve`: after writing the demo files it serves the page with a demo
admin and a demo supervisor, prints both logins and the address, and stops on Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from service_support import free_port


def test_demo_serves_the_page_with_the_logins_it_prints(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        demo = subprocess.Popen(
            [sys.executable, "-m", "cxport", "demo", "--out", str(tmp_path / "demo"),
             "--conversations", "120", "--serve", "--port", str(port)],
            stdout=out, stderr=subprocess.STDOUT, env={**os.environ, "COLUMNS": "200"},
        )  # fmt: skip
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 120
            while True:
                try:
                    if httpx.get(url + "/api/v1/health", timeout=1).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert demo.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.2)
            printed = log.read_text()
            assert f"Open {url}/" in printed
            logins = dict(re.findall(r"(\S+@demo\.test) / (\S+)", printed))
            assert set(logins) == {"admin@demo.test", "supervisor@demo.test"}
            assert list((tmp_path / "demo").glob("*.csv")), "the demo files come first"
            for email, password in logins.items():
                with httpx.Client(base_url=url) as web:
                    form = web.get("/login").text
                    token = re.search(r'name="csrf" value="([^"]+)"', form)
                    assert token
                    answer = web.post(
                        "/login",
                        data={"email": email, "password": password, "csrf": token.group(1)},
                    )
                    assert answer.status_code == 303, email
                    page = web.get("/analytics/exports")
                    assert page.status_code == 200 and "Generate export" in page.text
                    channels = web.get("/api/v1/channels").json()["items"]
                    assert len(channels) == (2 if email.startswith("supervisor") else len(channels))
        finally:
            demo.send_signal(signal.SIGINT)
            assert demo.wait(60) == 0, log.read_text()
