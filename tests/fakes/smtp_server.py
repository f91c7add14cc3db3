"""A real SMTP server on loopback (aiosmtpd) that keeps every mail, parsed, and can refuse recipients."""
from __future__ import annotations

import socket
from email import message_from_bytes, policy
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Inbox:
    """aiosmtpd handler: refuses addresses in `refuse` with 550, stores the rest."""

    def __init__(self):
        self.mails: list[tuple[str, list[str], EmailMessage]] = []
        self.refuse: set[str] = set()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return "550 5.1.1 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        mail = message_from_bytes(envelope.content, policy=policy.default)
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), mail))
        return "250 Message accepted"


class SmtpServer:
    """Start/stop an aiosmtpd server on 127.0.0.1; `url` is the SMTP_URL pointing at it."""

    def __init__(self, login: tuple[str, str] | None = None):
        self.inbox, self.port, self.login = Inbox(), free_port(), login
        auth = {}
        if login:  # plain-text AUTH on loopback only: aiosmtpd otherwise insists on TLS first
            auth = {"authenticator": self.check, "auth_required": True, "auth_require_tls": False}
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port, **auth)

    def check(self, server, session, envelope, mechanism, data) -> AuthResult:
        ok = isinstance(data, LoginPassword) and (data.login.decode(), data.password.decode()) == self.login
        return AuthResult(success=ok, handled=False)  # let the server answer 535 itself

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def mails(self) -> list[EmailMessage]:
        return [mail for _, _, mail in self.inbox.mails]

    def start(self) -> "SmtpServer":
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
