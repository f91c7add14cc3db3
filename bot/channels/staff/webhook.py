"""A Slack-compatible incoming webhook: POST {"text": ...} as JSON to a secret URL.

Slack, Mattermost and Rocket.Chat take this payload as it is; Discord does at its webhook URL with `/slack` added;
Microsoft Teams' Workflows webhooks and Chatwork do not (docs/settings.md, "Alerts in a chat tool").
"""
from __future__ import annotations

import requests

from bot.core.transport import PermanentError, TemporaryError, Unconfirmed, retry_after_seconds

CONNECT, READ = 3.0, 10.0  # seconds: a chat service that hangs holds up only its own row


class Webhook:
    """Post one text to the webhook URL; TemporaryError on 429/5xx or no connection, PermanentError on 4xx."""

    def __init__(self, url: str, timeout: tuple[float, float] = (CONNECT, READ)):
        self.url, self.timeout = url, timeout

    def post(self, text: str) -> None:
        try:
            answer = requests.post(self.url, json={"text": text}, timeout=self.timeout, allow_redirects=False)
        except requests.ConnectionError as exc:
            raise TemporaryError(f"webhook unreachable: {type(exc).__name__}") from None
        except requests.Timeout:  # the post may have arrived: asked about before it goes again (it cannot be)
            raise Unconfirmed("webhook did not answer in time") from None
        except requests.RequestException as exc:
            raise PermanentError(f"webhook request refused: {type(exc).__name__}") from None
        status = answer.status_code
        if status == 429 or status >= 500:
            raise TemporaryError(f"webhook answered {status}", status=status,
                                 retry_after=retry_after_seconds(answer.headers.get("Retry-After")))
        if not 200 <= status < 300:  # a wrong or deleted URL (404), a refused payload (400): retrying will not help
            raise PermanentError(f"webhook answered {status}")
