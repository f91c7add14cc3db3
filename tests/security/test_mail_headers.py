"""Candidate text never writes an e-mail header (issue 13, items 2 and 11): a CR/LF in a name is inert, and a
mail that cannot be written at all fails at once instead of being retried as a temporary fault."""
from __future__ import annotations

import pytest

from bot.core.transport import Outgoing, PermanentError


def _message(name: str, email: str = "hanako@example.com") -> Outgoing:
    return Outgoing("email", {"email": email, "token": "t", "name": name},
                    {"kind": "help", "text": "テスト", "facts": {"company": "そよかぜ"}}, "key-1", "ja")


@pytest.mark.parametrize("name", ["山田\r\nBcc: victim@example.org", "山田\nX-Injected: 1", "山田\x00\x1b[31m"])
def test_control_characters_in_the_name_never_reach_a_header(sms_svc, smtp_server, name):
    sms_svc.channels["email"].send(_message(name))
    [mail] = smtp_server.mails
    assert mail["Bcc"] is None and mail["X-Injected"] is None
    assert "山田" in str(mail["To"]) and "\n" not in str(mail["To"]) and "\x00" not in str(mail["To"])
    assert smtp_server.inbox.mails[-1][1] == ["hanako@example.com"]  # the envelope: nobody else


def test_an_address_that_cannot_be_a_header_fails_at_once(sms_svc, smtp_server):
    with pytest.raises(PermanentError, match="cannot be written"):
        sms_svc.channels["email"].send(_message("山田", email="hanako@example.com\r\nBcc: victim@example.org"))
    assert smtp_server.mails == []


@pytest.mark.parametrize("name", ['<img src=x onerror=alert(1)>太郎', 'a"b 太郎', '山田 <花子>', "O'Brien, Anne"])
def test_brackets_and_quotes_in_the_name_stay_in_the_display_name(sms_svc, smtp_server, name):
    sms_svc.channels["email"].send(_message(name))
    [mail] = smtp_server.mails
    [to] = mail["To"].addresses
    assert to.display_name == name and to.addr_spec == "hanako@example.com"
