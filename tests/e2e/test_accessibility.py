"""axe-core on every page, in Japanese and English, on a 390x844 phone and a 1280x900 desktop: 0 violations.

One chromium and one server for the whole module; a browser context per (viewport, language, signed in or not),
reused page after page. axe-core comes from npm (package-lock.json, installed by `scripts/setup.sh test`) and is
injected into each page after it loaded; WCAG 2.1 A and AA plus axe's best practices.

A11Y_REPORT=<file> appends one JSON line per page (violations and elements); A11Y_SHOTS=<folder> saves a screenshot
of each page with the focus ring on its first control.
"""
from __future__ import annotations

import json
import os
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.conftest import START, Chat, FakeClock, make_services
from tests.e2e.test_browser import CHROMIUM_ARGS, DESKTOP, PHONE, WAIT, _chromium_path, _missing, serving
from tests.recruiters import link_for

pytestmark = pytest.mark.browser

AXE = Path(__file__).resolve().parents[2] / "node_modules" / "axe-core" / "axe.min.js"
TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
VIEWPORTS = {"390": PHONE, "1280": DESKTOP}
LANGS = ("ja", "en")

# (name, who opens it, path with {placeholders} filled from the module's data). "anon": a browser with no
# session; "staff": an admin signed in; "special": opened by its own steps (a form post, a sign-out).
CANDIDATE = [
    ("apply", "anon", "/apply"),
    ("apply-job", "anon", "/apply/bakery-staff"),
    ("apply-error", "special", "/apply"),
    ("thanks-chat", "anon", "/apply/thanks/{chat_token}"),
    ("thanks-sent", "anon", "/apply/thanks/{mail_token}"),
    ("thanks-again", "anon", "/apply/thanks/{again_token}"),
    ("chat", "anon", "/chat/{chat_token}"),
    ("candidate-times", "anon", "{mail_page}"),
    ("candidate-booked", "anon", "{booked_page}"),
    ("candidate-cancel-ask", "special", "{booked_page}"),
    ("candidate-refused", "anon", "/c/not-a-signed-address"),
    ("unsubscribe", "anon", "{unsubscribe}"),
    ("unsubscribed", "special", "{unsubscribe_done}"),
]
ERRORS = [
    ("error-link", "anon", "/chat/no-such-chat"),
    ("error-404", "anon", "/no/such/page"),
    ("error-closed-link", "anon", "/recruiter/sign-in/no-such-link"),
    ("error-forged-link", "anon", "/recruiter/outcome/no-such-booking/attended/forged"),
    ("error-405", "anon", "/recruiter/logout"),
]
RECRUITER = [
    ("sign-in", "anon", "/recruiter/sign-in"),
    ("sign-in-confirm", "anon", "{sign_in_link}"),
    ("sign-in-error", "special", "/recruiter/sign-in"),
    ("sign-in-sent", "special", "/recruiter/sign-in"),
    ("recruiter", "staff", "/recruiter"),
    ("applicants", "staff", "/recruiter/applicants"),
    ("applicants-filtered", "staff", "/recruiter/applicants?state=booked&q=%E5%B1%B1%E7%94%B0"),
    ("inbox", "staff", "/recruiter/inbox"),
    ("inbox-conversation", "staff", "/recruiter/inbox/{waiting_id}"),
    ("inbox-reply-error", "special", "/recruiter/inbox/{waiting_id}"),
    ("conversation", "staff", "/recruiter/applicants/{booked_id}"),
    ("today", "staff", "/recruiter/today"),
    ("funnel", "staff", "/recruiter/funnel"),
    ("people", "staff", "/recruiter/people"),
    ("people-invited", "special", "/recruiter/people"),
    ("people-error", "special", "/recruiter/people"),
    ("audit", "staff", "/recruiter/audit"),
    ("saved-replies", "staff", "/recruiter/saved-replies"),
    ("erase", "staff", "/recruiter/applicants/{booked_id}/erase"),
    ("erase-done", "special", "/recruiter/applicants/{erase_id}/erase"),
    ("outcome", "staff", "/recruiter/applicants/{booked_id}/outcome/attended"),
    ("outcome-mail-link", "anon", "{outcome_link}"),
    ("signed-out", "special", "/recruiter"),
]


def _cases():
    for name, who, path in CANDIDATE + ERRORS + RECRUITER:
        for lang in LANGS:
            for size in VIEWPORTS:
                yield pytest.param(name, who, path, lang, size, id=f"{name}-{lang}-{size}")


class Site:
    """The server, its data, the browser and one context per (viewport, language, who)."""

    def __init__(self, browser, svc, base: str, data: dict):
        self.browser, self.svc, self.base, self.data, self.contexts = browser, svc, base, data, {}

    def applicant(self, name: str) -> int:
        """A new chat applicant, greeted, who booked the first time offered."""
        from bot import create_app

        chat = Chat(create_app({"TESTING": True}, services=self.svc).test_client(), self.svc)
        chat.apply(name=name, channel="email", phone=None, email=f"erase-{len(self.contexts)}-{id(chat)}@example.com")
        chat.replies()
        chat.say("1")
        chat.replies()
        return chat.id

    def context(self, who: str, lang: str, size: str):
        key = (who, lang, size)
        if key not in self.contexts:
            self.contexts[key] = self._new_context(lang, size, signed_in=who == "staff")
        return self.contexts[key]

    def _new_context(self, lang: str, size: str, signed_in: bool):
        context = self.browser.new_context(viewport=VIEWPORTS[size], locale="ja-JP" if lang == "ja" else "en-US",
                                           timezone_id="Asia/Tokyo", bypass_csp=True)  # for axe's inline script
        context.set_default_timeout(WAIT)
        if signed_in:
            page = context.new_page()
            self.sign_in(page)
            page.close()
        return context

    def sign_in(self, page) -> None:
        page.goto(self.base + urlsplit(link_for(self.svc)).path)
        page.click("#sign-in")
        page.wait_for_url(lambda url: "/sign-in" not in url)

    def url(self, path: str, lang: str) -> str:
        path = path.format(**self.data)
        path = path if path.startswith("http") else self.base + path
        return f"{path}{'&' if '?' in path else '?'}lang={lang}"


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    if not AXE.is_file():
        _missing(f"{AXE} is missing: run scripts/setup.sh test (npm ci installs axe-core)")
    path = _chromium_path()
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed: pip install -e '.[test]'")
    db = tmp_path_factory.mktemp("a11y") / "test.sqlite3"
    # E-mail is configured (nothing is sent: no worker runs), so an e-mail applicant gets the "we wrote to you"
    # thank-you page and the candidate page, and the sign-in page offers its e-mail form.
    svc = make_services(f"sqlite:///{db}", clock=FakeClock(START), env={"SMTP_URL": "smtp://127.0.0.1:9"})
    from bot.bootstrap import default_channels

    svc.channels.update(default_channels(svc.config))
    try:
        with serving(svc, worker=False) as base, sync_playwright() as p:
            from dataclasses import replace
            svc.config = replace(svc.config, public_base_url=base)
            svc.renderer.base = base
            data = _data(svc, base)
            browser = p.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
            try:
                yield Site(browser, svc, base, data)
            finally:
                browser.close()
    finally:
        svc.engine.dispose()


def _data(svc, base: str) -> dict:
    """Applicants in the states the pages show: chatting, booked, waiting for a person, by e-mail."""
    from sqlmodel import Session, select

    from bot import create_app
    from bot.core.events import ChooseSlot
    from bot.core.vocab import KeyPurpose
    from bot.db.models import Applicant, Booking
    from bot.service.candidate_page import page_url
    from bot.service.followups import outcome_links
    from bot.service.shortlinks import unsubscribe_url
    from bot.service.turn import handle

    client = create_app({"TESTING": True}, services=svc).test_client()
    key = svc.keys.current(KeyPurpose.LINKS)

    chatting = Chat(client, svc)
    chatting.apply(name="山田 花子", channel="sms", phone="090-1234-5678", email=None)
    chatting.replies()
    booked = Chat(client, svc)
    booked.apply(name="佐藤 次郎", channel="sms", phone="090-2222-3333", email=None)
    booked.replies()
    booked.say("1")
    booked.replies()
    waiting = Chat(client, svc)
    waiting.apply(name="鈴木 一郎", channel="sms", phone="090-4444-5555", email=None)
    waiting.replies()
    waiting.say("駐車場はありますか？自転車で伺ってもよいでしょうか。")
    waiting.replies()
    again = Chat(client, svc)
    again.apply(name="山田 花子", channel="sms", phone="090-1234-5678", email=None)

    mail = Chat(client, svc)
    mail.apply(name="高橋 健", channel="email", email="ken@example.com", phone=None)
    leaving = Chat(client, svc)
    leaving.apply(name="伊藤 葵", channel="email", email="aoi@example.com", phone=None)
    mail_booked = Chat(client, svc)
    mail_booked.apply(name="田中 花", channel="email", email="hana@example.com", phone=None)
    handle(svc, mail_booked.id, ChooseSlot(number=1))
    with Session(svc.engine) as s:
        tokens = {a.id: a.token for a in s.exec(select(Applicant)).all()}
        booking = s.exec(select(Booking).where(Booking.applicant_id == mail_booked.id)).one()
        links = outcome_links(svc, booking)
    return {
        "chat_token": chatting.token, "mail_token": tokens[mail.id], "again_token": tokens[again.id],
        "mail_page": page_url(key, base, tokens[mail.id]), "booked_page": page_url(key, base, tokens[mail_booked.id]),
        "unsubscribe": unsubscribe_url(key, base, tokens[mail.id]),
        "unsubscribe_done": unsubscribe_url(key, base, tokens[leaving.id]),
        "sign_in_link": urlsplit(link_for(svc, "reader@example.com")).path,
        "booked_id": booked.id, "waiting_id": waiting.id, "outcome_link": links["attended"],
    }


# What shows that a page in a given state was reached.
REACHED = {"apply-error": "[aria-invalid=true]", "sign-in-error": "#email[aria-invalid=true]", "sign-in-sent": "#sent",
           "inbox-reply-error": "#reply-text[aria-invalid=true]", "people-invited": "#invited",
           "people-error": "#invite-email[aria-invalid=true]", "erase-done": "#erase-done",
           "signed-out": "a[href$='/recruiter/sign-in']", "error-405": "main.error-page",
           "candidate-cancel-ask": "#cancel-yes",
           "error-forged-link": "main.error-page", "error-link": "main.error-page", "error-404": "main.error-page"}
STAFF_STEPS = {"inbox-reply-error", "people-invited", "people-error", "erase-done"}


def _open(site: Site, name: str, who: str, path: str, lang: str, size: str):
    """A page as a person reaches it: opened, or (the "special" ones) after the steps that lead there."""
    if name == "signed-out":  # its own signed-in browser, signed out by the button
        context = site._new_context(lang, size, signed_in=True)
        page = context.new_page()
        page.goto(site.url(path, lang))
        page.locator("form[action$='/logout'] button").first.click()
        page.wait_for_load_state()
        return page, context
    page = site.context("staff" if name in STAFF_STEPS else "anon" if who == "special" else who, lang, size).new_page()
    if name == "erase-done":  # someone of their own, so the other pages keep theirs
        path = path.replace("{erase_id}", str(site.applicant(f"消去 {lang}{size}")))
    page.goto(site.url(path, lang))
    steps = {
        # sent empty, past the browser's own checks: the page with its errors
        "apply-error": lambda: page.evaluate("document.querySelector('main form, form').submit()"),
        "sign-in-error": lambda: (page.fill("#email", "not an address"), page.click("#send-link")),
        "sign-in-sent": lambda: (page.fill("#email", "nobody@example.com"), page.click("#send-link")),
        "inbox-reply-error": lambda: (page.fill("#reply-text", " "), page.click("#send")),
        "people-invited": lambda: (page.fill("#invite-email", f"new-{lang}{size}@example.com"), page.click("#invite")),
        "people-error": lambda: (page.fill("#invite-email", "not an address"), page.click("#invite")),
        "erase-done": lambda: page.click("#erase-confirm"),
        "candidate-cancel-ask": lambda: page.click("#cancel"),  # asks first; nothing is cancelled
        "unsubscribed": lambda: page.click("main form button"),
    }
    if name in steps:
        with page.expect_navigation():
            steps[name]()
        page.wait_for_load_state()
    if name in REACHED:  # the steps led where they should: otherwise this would check some other page
        assert page.locator(REACHED[name]).count(), f"{name}: no {REACHED[name]} on {page.url}"
    return page, None


def _report(violations: list) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} ({v['impact']}): {v['help']}")
        for node in v["nodes"][:8]:
            data = next((c["data"] for c in node.get("any", []) if isinstance(c.get("data"), dict)), {})
            colours = (f"  {data['fgColor']} on {data['bgColor']} = {data['contrastRatio']}:1"
                       if "contrastRatio" in data else "")
            lines.append(f"    {' '.join(map(str, node['target']))}{colours}")
        if len(v["nodes"]) > 8:
            lines.append(f"    … and {len(v['nodes']) - 8} more")
    return "\n".join(lines)


@pytest.mark.parametrize(("name", "who", "path", "lang", "size"), list(_cases()))
def test_axe_finds_no_violation(site, name, who, path, lang, size):
    page, own = _open(site, name, who, path, lang, size)
    try:
        page.add_script_tag(path=str(AXE))
        result = page.evaluate("tags => axe.run(document, {runOnly: {type: 'tag', values: tags}})", TAGS)
        violations = result["violations"]
        if os.environ.get("A11Y_SHOTS"):  # a folder: each page as axe saw it, for a person to look at
            page.keyboard.press("Tab")  # the focus ring on the first control
            page.screenshot(path=str(Path(os.environ["A11Y_SHOTS"]) / f"{name}-{lang}-{size}.png"), full_page=True)
        if os.environ.get("A11Y_REPORT"):  # one JSON line per page: the counts before and after a fix
            with open(os.environ["A11Y_REPORT"], "a", encoding="utf-8") as out:
                out.write(json.dumps({"page": f"{name}-{lang}-{size}", "count": len(violations),
                                      "nodes": sum(len(v["nodes"]) for v in violations),
                                      "ids": [v["id"] for v in violations]}) + "\n")
        assert not violations, f"{name} ({lang}, {size}) {page.url}:\n{_report(violations)}"
    finally:
        page.close()
        if own is not None:
            own.close()


def _over(rgba: str, background: str) -> str:
    """A computed rgb()/rgba() colour as seen over `background` (#rrggbb): a translucent ring shows the page."""
    parts = [float(x) for x in rgba[rgba.index("(") + 1:rgba.index(")")].split(",")]
    alpha = parts[3] if len(parts) == 4 else 1.0
    under = [int(background[i:i + 2], 16) for i in (1, 3, 5)]
    return "#" + "".join(f"{round(c * alpha + u * (1 - alpha)):02x}" for c, u in zip(parts[:3], under))


@pytest.mark.parametrize(("who", "path"), [("staff", "/recruiter"), ("anon", "/recruiter/sign-in"),
                                           ("anon", "/chat/no-such-chat")])
def test_the_focus_ring_is_visible_on_white_and_on_the_page_background(site, who, path):
    from tests.web.test_colours import contrast

    page = site.context(who, "ja", "1280").new_page()
    try:
        page.goto(site.url(path, "ja"))
        page.keyboard.press("Tab")
        ring = page.evaluate("""() => { const s = getComputedStyle(document.activeElement);
            return [s.outlineStyle, s.outlineWidth, s.outlineColor, document.activeElement.tagName]; }""")
        assert ring[0] == "solid" and float(ring[1].removesuffix("px")) >= 2, ring
        for background in ("#ffffff", "#f4f6f8"):
            assert contrast(_over(ring[2], background), background) >= 3, (ring, background)  # the old one: 1.4:1
    finally:
        page.close()
