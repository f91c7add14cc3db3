"""`sokuresu worker` as the fault tests run it: the real command in its own process, with seconds where production
waits a minute, so that a test sees a lease run out or a retry come round without waiting for it.

    python -m tests.faults.worker      (FAULTS_LEASE, FAULTS_UNSURE_WAIT, FAULTS_BACKOFF, FAULTS_TIMEOUT: seconds)
"""
from __future__ import annotations

import os
import sys
from datetime import timedelta


def main() -> int:
    from bot.channels.line import adapter as line
    from bot.channels.sms import adapter as sms
    from bot.cli import main as sokuresu
    from bot.service import delivery, delivery_record

    seconds = {name: float(os.environ[f"FAULTS_{name}"]) for name in ("LEASE", "UNSURE_WAIT", "BACKOFF", "TIMEOUT")}
    delivery.LEASE = timedelta(seconds=seconds["LEASE"])
    delivery_record.UNSURE_WAIT = timedelta(seconds=seconds["UNSURE_WAIT"])
    delivery_record.backoff = lambda attempts: timedelta(seconds=seconds["BACKOFF"])
    sms.TIMEOUT = line.TIMEOUT = (1.0, seconds["TIMEOUT"])  # connect, read: the adapters read them when built
    return sokuresu(["worker", "--poll", "0.05"], standalone_mode=False) or 0


if __name__ == "__main__":
    sys.exit(main())
