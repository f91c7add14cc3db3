"""What the apply form does before it takes an application: its rate limits and its proof of work, the refusals
counted for the recruiter page, and the words a refused candidate reads (what to do next, in the page language)."""
from __future__ import annotations

from dataclasses import dataclass, field

from flask import request

from bot.core.vocab import RefusalReason
from bot.service import proof, refusals, throttle
from bot.service.deps import Services
from bot.service.intake import Application, Problem

SOURCE = "form"
FIELD = "altcha"  # the widget's hidden input, and where the form shows its error

TEXTS = {
    "ja": {
        RefusalReason.RATE_CLIENT: (
            "短い時間にたくさんの応募が届いたため、いまは受け付けを止めています。"
            "{wait}ほどたってからもう一度お送りいただくか、お急ぎの方は {phone} までお電話ください。"),
        RefusalReason.RATE_DESTINATION: (
            "この連絡先では、すでに何度かご応募をいただいています。担当者からのご連絡をお待ちください。"
            "応募を追加される場合は{wait}ほどたってからお送りいただくか、{phone} までお電話ください。"),
        "minutes": "{n}分", "hours": "{n}時間",
        "why": {proof.Problem.MISSING: "送信前の確認が終わっていません。もう一度「応募する」を押してください。",
                proof.Problem.INVALID: "送信前の確認ができませんでした。もう一度「応募する」を押してください。",
                proof.Problem.EXPIRED: "送信前の確認の有効期限が切れました。もう一度「応募する」を押してください。",
                proof.Problem.REPLAYED: "この確認はすでに使われています。もう一度「応募する」を押してください。"},
        "noscript": "このフォームの送信には JavaScript が必要です。お電話でも応募を受け付けています：{phone}",
        # The widget's own words (ALTCHA's string names); it shows them while it checks the browser before sending.
        "widget": {"label": "ロボットによる送信ではないことを確認します", "verifying": "送信前の確認をしています…",
                   "verified": "確認できました", "waitAlert": "確認しています。少しお待ちください。",
                   "verificationRequired": "送信前の確認が必要です。", "verify": "確認する", "loading": "読み込み中…",
                   "error": "確認できませんでした。もう一度お試しください。", "reload": "やり直す",
                   "expired": "確認の有効期限が切れました。もう一度お試しください。",
                   "ariaLinkLabel": "ALTCHA（公式サイト）", "footer": ""},
    },
    "en": {
        RefusalReason.RATE_CLIENT: "We have received many applications from your network in a short time, so we are "
                                   "not taking more just now. Please send this again in about {wait}, or call us on "
                                   "{phone}.",
        RefusalReason.RATE_DESTINATION: "We have already received several applications with these contact details, "
                                        "and we will be in touch. To apply again, please send this in about {wait}, "
                                        "or call us on {phone}.",
        "minutes": "{n} minutes", "hours": "{n} hours",
        "why": {proof.Problem.MISSING: "The check before sending did not finish. Please press Apply again.",
                proof.Problem.INVALID: "The check before sending did not succeed. Please press Apply again.",
                proof.Problem.EXPIRED: "The check before sending has expired. Please press Apply again.",
                proof.Problem.REPLAYED: "This check has been used already. Please press Apply again."},
        "noscript": "Sending this form needs JavaScript. You can also apply by phone: {phone}",
        "widget": {"label": "Checking that a person is sending this", "verifying": "Checking before sending…",
                   "verified": "Checked", "waitAlert": "Checking, one moment please.",
                   "verificationRequired": "The check before sending is needed.", "verify": "Check",
                   "loading": "Loading…", "error": "The check did not succeed. Please try again.",
                   "reload": "Try again", "expired": "The check has expired. Please try again.",
                   "ariaLinkLabel": "ALTCHA (official website)", "footer": ""},
    },
}


@dataclass
class Refused:
    """A form post turned away: the status, a notice above the form or an error next to a field, and headers."""

    status: int
    notice: str | None = None
    errors: dict = field(default_factory=dict)
    headers: dict = field(default_factory=dict)


def wait_words(seconds: int, loc: str) -> str:
    """Roughly how long to wait, as a person says it: 10 minutes, 3 hours."""
    minutes = max(1, -(-seconds // 60))
    if minutes < 90:
        return TEXTS[loc]["minutes"].format(n=minutes)
    return TEXTS[loc]["hours"].format(n=-(-minutes // 60))


def _too_many(reason: RefusalReason, wait: int, loc: str, phone: str) -> Refused:
    notice = TEXTS[loc][reason].format(wait=wait_words(wait, loc), phone=phone)
    return Refused(429, notice=notice, headers={"Retry-After": str(wait)})


def screen(svc: Services, loc: str, phone: str, job_id: str | None) -> Refused | None:
    """Before the form is read: the client network's rate limit, then the proof of work."""
    client = request.remote_addr
    if wait := throttle.client_wait(svc, client):
        refusals.record(svc, RefusalReason.RATE_CLIENT, source=SOURCE, client=client, job_id=job_id)
        return _too_many(RefusalReason.RATE_CLIENT, wait, loc, phone)
    if svc.settings.protection.proof_of_work and (problem := proof.check(svc, request.form.get(FIELD))):
        refusals.record(svc, RefusalReason.PROOF_OF_WORK, source=SOURCE, client=client, job_id=job_id)
        return Refused(422, errors={FIELD: Problem(f"proof of work: {problem}", problem)})
    return None


def screen_destinations(svc: Services, application: Application, loc: str, phone: str) -> Refused | None:
    """After validation normalised the addresses: each one's rate limit."""
    wait, address = throttle.destination_wait(svc, application.addresses)
    if not wait:
        return None
    refusals.record(svc, RefusalReason.RATE_DESTINATION, source=SOURCE, channel=application.channel,
                    destination=address, client=request.remote_addr, job_id=application.job)
    return _too_many(RefusalReason.RATE_DESTINATION, wait, loc, phone)
