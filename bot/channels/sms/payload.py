"""An outbox row's SMS text, fixed in the transaction that writes it: two-way numbered choices, or one-way links."""
from __future__ import annotations

from bot.channels.sms.link_text import PageLinks, compose_link
from bot.channels.sms.text import _URL, compose, segments
from bot.core.vocab import KeyPurpose, Kind
from bot.service.candidate_page import page_url, sms_is_one_way
from bot.service.outbox import enqueue
from bot.service.shortlinks import Shortener


def page_links(svc, applicant) -> PageLinks:
    """The candidate's page, and the same page opened at its confirm and change buttons."""
    key, base = svc.keys.current(KeyPurpose.LINKS), svc.config.public_base_url
    return PageLinks(page_url(key, base, applicant.token), page_url(key, base, applicant.token, do="confirm"),
                     page_url(key, base, applicant.token, do="change"))


def trusted_urls(settings, payload: dict) -> set[str]:
    """The links an SMS may shorten: the company's own (settings) and the booking's place (its meeting link)."""
    urls = {c.url for c in settings.content} | {settings.company.map_url}
    urls |= {job.online_url for job in settings.jobs.values() if job.online_url}
    urls |= {link.get("url") for link in payload.get("links", []) if isinstance(link, dict)}
    urls |= set(_URL.findall((payload.get("facts") or {}).get("place") or ""))
    return urls - {"", None}


# Where the candidate cannot answer by SMS, a person's reply ends with the way to answer: their page's form.
ANSWER_HERE = {"ja": "ご返信は、こちらのページからお願いいたします（このSMSには返信できません）: {url}",
               "en": "To answer, please use your page (replies to this SMS do not reach us): {url}"}


def staff_text(text: str, locale: str, shorten, links: PageLinks | None) -> str:
    """A person's reply as an SMS: as they wrote it; one-way, with the link to the candidate's page to answer on."""
    if links is None:
        return text
    return f"{text}\n{ANSWER_HERE.get(locale, ANSWER_HERE['ja']).format(url=shorten(links.page + '#write'))}"


def prepare_sms(session, svc, applicant, row) -> None:
    """Fix the SMS text of an outbox row (short links stored in this transaction); a greeting gets a follow-up."""
    locale = applicant.locale if applicant else "ja"
    shorten = Shortener(svc.keys.current(KeyPurpose.LINKS), svc.config.public_base_url,
                        applicant.id if applicant else None, trusted=trusted_urls(svc.settings, row.payload))
    # Twilio brings no replies back from some countries (Japan): there every text links to the page instead.
    links = page_links(svc, applicant) if applicant and sms_is_one_way(svc.settings, applicant.phone) else None
    payload = dict(row.payload)
    if "sms" not in payload:
        if payload.get("staff"):  # a person's reply: their words as written, never cut to the budget
            text = staff_text(payload.get("text", ""), locale, shorten, links)
        elif links is not None:
            text = compose_link(payload, locale, svc.settings.tz, shorten, links)
        else:
            text = compose(payload, locale, svc.settings.tz, shorten)
        shorten.save(session, text, svc.clock())
        mode = "one_way" if links else "two_way"
        row.payload = {**payload, "sms": text, "segments": segments(text), "sms_mode": mode}
    if payload.get("kind") == Kind.GREETING and payload.get("links"):
        # Slots and content do not fit one short SMS: the content follows as a second message.
        follow = {"kind": Kind.CONTENT, "links": payload["links"], "facts": payload.get("facts", {}), "buttons": []}
        text = compose(follow, locale, svc.settings.tz, shorten)
        shorten.save(session, text, svc.clock())
        # Through the outbox like any message (its text is fixed already), so it goes out with the greeting.
        enqueue(session, svc, applicant, {**follow, "text": text, "sms": text, "segments": segments(text)},
                channel=row.channel, booking_id=row.booking_id, due_at=row.due_at)
