"""The Procfile's web process logs each request by its route, never the path with its token (issue 13, item 4)."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

from tests.fakes.smtp_server import free_port

ROOT = Path(__file__).resolve().parents[2]
TOKENS = ("CHATtoken0123456789", "SIGNINtoken0123456789", "THANKStoken0123456789", "FEEDtoken0123456789")


def test_gunicorn_access_log_names_routes_not_tokens(tmp_path):
    port = free_port()
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'web.sqlite3'}",
           "SECRET_KEY": "test-secret-key-0123456789abcdef", "PUBLIC_BASE_URL": f"http://127.0.0.1:{port}"}
    for name in ("LINE_CHANNEL_SECRET", "TWILIO_ACCOUNT_SID", "SMTP_URL", "SOKURESU_SETTINGS"):
        env.pop(name, None)
    subprocess.run([sys.executable, "-m", "bot.cli", "db", "upgrade"], cwd=ROOT, env=env, check=True,
                   capture_output=True)
    # The Procfile's command, from the project root, where gunicorn reads gunicorn.conf.py.
    web = subprocess.Popen([sys.executable, "-m", "gunicorn", "--workers", "1", "--bind", f"127.0.0.1:{port}",
                            "bot:create_app()"], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60  # a loaded CI machine boots gunicorn slowly
        while True:
            try:
                requests.get(f"{base}/healthz", timeout=5)
                break
            except requests.RequestException:  # the worker is still loading the app
                if time.monotonic() > deadline or web.poll() is not None:
                    raise
                time.sleep(0.1)
        chat, sign_in, thanks, feed = TOKENS
        answers = [requests.get(f"{base}/chat/{chat}", timeout=5),
                   requests.get(f"{base}/recruiter/sign-in/{sign_in}", timeout=5),
                   requests.get(f"{base}/apply/thanks/{thanks}?lang=en", timeout=5,
                                headers={"Referer": f"{base}/chat/{chat}"}),
                   requests.get(f"{base}/calendar/{feed}.ics", timeout=5)]
        assert [a.status_code for a in answers] == [404, 410, 404, 404]
    finally:
        web.send_signal(signal.SIGTERM)
        log = web.communicate(timeout=20)[0]
    for token in TOKENS:
        assert token not in log
    for route in ("GET /chat/<token>", "GET /recruiter/sign-in/<token>", "GET /apply/thanks/<token>",
                  "GET /calendar/<token>.ics"):
        assert route in log, log[-2000:]
