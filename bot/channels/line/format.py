"""Channel-neutral payloads as LINE message objects (plain JSON): quick replies, a date picker, Flex cards."""
from __future__ import annotations

import re

MAX_LABEL = 20       # LINE: an action label shown on a quick-reply button or Flex button
MAX_QUICK = 13       # LINE: quick-reply items per message
MAX_TEXT = 5000      # LINE: characters in one text message
MAX_ALT = 400        # LINE allows more for a Flex alt text; the notification preview shows far less
MAX_BUBBLES = 12     # LINE: bubbles in one carousel
MAX_MESSAGES = 5     # LINE: messages in one push or reply
OPEN = {"ja": {"video": "動画を見る", "article": "記事を読む", "message": "メッセージを読む",
               "pick_date": "カレンダーから選ぶ"},
        "en": {"video": "Watch", "article": "Read", "message": "Read", "pick_date": "Pick on a calendar"}}
_END_TIME = re.compile(r"\s*[〜–~-][\s\u2060]*\d{1,2}:\d{2}$")  # "〜\u2060" keeps a slot's times on one line


def fit(label: str) -> str:
    """Shorten a label to LINE's 20 characters: drop a slot's end time first, then cut."""
    label = label.strip()
    if len(label) > MAX_LABEL:
        label = _END_TIME.sub("", label).rstrip(", ")
    return label if len(label) <= MAX_LABEL else label[:MAX_LABEL - 1] + "…"


def postback(label: str, data: str) -> dict:
    # displayText shows the tap as the candidate's own line in the chat, as if they had typed it.
    return {"type": "postback", "label": fit(label), "data": data, "displayText": label[:300]}


def date_picker(label: str) -> dict:
    # The picked day comes back as postback.params.date; the webhook folds it into 'date:YYYY-MM-DD'.
    return {"type": "datetimepicker", "label": fit(label), "data": "date", "mode": "date"}


def quick_reply(buttons: list[dict], locale: str) -> dict | None:
    """Buttons as quick replies; 'other days' and day menus get a calendar picker."""
    actions, picker = [], False
    for button in buttons:
        if button["data"] == "other":
            actions.append(date_picker(button["label"]))
            picker = True
        else:
            actions.append(postback(button["label"], button["data"]))
    if not picker and any(b["data"].startswith("date:") for b in buttons):
        actions = actions[:MAX_QUICK - 1] + [date_picker(OPEN.get(locale, OPEN["ja"])["pick_date"])]
    if not actions:
        return None
    return {"items": [{"type": "action", "action": a} for a in actions[:MAX_QUICK]]}


def _text(text: str, **style) -> dict:
    return {"type": "text", "text": text, "wrap": True, **style}


def _uri_button(label: str, url: str, style: str = "link") -> dict:
    return {"type": "button", "style": style, "height": "sm",
            "action": {"type": "uri", "label": fit(label), "uri": url}}


def content_carousel(links: list[dict], locale: str) -> dict:
    """The company's videos and articles as a carousel: thumbnail, title, one button each."""
    words = OPEN.get(locale, OPEN["ja"])
    bubbles = []
    for link in links[:MAX_BUBBLES]:
        bubble = {"type": "bubble", "size": "kilo",
                  "body": {"type": "box", "layout": "vertical", "contents": [_text(link["title"], weight="bold")]},
                  "footer": {"type": "box", "layout": "vertical",
                             "contents": [_uri_button(words.get(link["kind"], words["article"]), link["url"])]}}
        if (link.get("thumbnail") or "").startswith("https://"):  # LINE shows only https images
            bubble["hero"] = {"type": "image", "url": link["thumbnail"], "size": "full", "aspectRatio": "16:9",
                              "aspectMode": "cover", "animated": False,  # as the SDK's model fills it in
                              "action": {"type": "uri", "uri": link["url"]}}
        bubbles.append(bubble)
    return {"type": "carousel", "contents": bubbles}


def booking_card(card: dict, buttons: list[dict]) -> dict:
    """The confirmation as one bubble: the facts in rows, links and change/cancel buttons below."""
    rows = [{"type": "box", "layout": "baseline", "spacing": "sm", "contents": [
        _text(row["label"], size="sm", color="#8a8a8a", flex=2), _text(row["value"], size="sm", flex=5)]}
        for row in card["rows"] if row.get("value")]
    footer = [_uri_button(link["label"], link["url"], "primary" if i == 0 else "link")
              for i, link in enumerate(card.get("links", []))]
    footer += [{"type": "button", "style": "secondary", "height": "sm", "action": postback(b["label"], b["data"])}
               for b in buttons]
    bubble = {"type": "bubble",
              "header": {"type": "box", "layout": "vertical",
                         "contents": [_text(card["title"], weight="bold", size="lg")]},
              "body": {"type": "box", "layout": "vertical", "spacing": "sm", "contents": rows}}
    if footer:
        bubble["footer"] = {"type": "box", "layout": "vertical", "spacing": "sm", "contents": footer}
    return bubble


def alt_text(text: str) -> str:
    text = text.strip() or "…"
    return text if len(text) <= MAX_ALT else text[:MAX_ALT - 1] + "…"


def _carousel(links: list[dict], locale: str) -> dict:
    return {"type": "flex", "altText": alt_text(" / ".join(link["title"] for link in links)),
            "contents": content_carousel(links, locale)}


def from_parts(parts: list[dict], locale: str) -> list[dict]:
    """A message told in parts (the greeting): each text a message, each list of links a carousel, and the
    buttons as quick replies on the very last message, the only one LINE shows them on (so the times go last)."""
    messages, buttons = [], []
    for part in parts:
        if part.get("text"):
            messages.append({"type": "text", "text": part["text"][:MAX_TEXT]})
        if part.get("links"):
            messages.append(_carousel(part["links"], locale))
        buttons = part.get("buttons") or buttons
    messages = messages[:MAX_MESSAGES] or [{"type": "text", "text": "…"}]
    if quick := quick_reply(buttons, locale):
        messages[-1]["quickReply"] = quick
    return messages


def to_line(payload: dict, locale: str = "ja") -> list[dict]:
    """Return the LINE message objects (at most 3) for one outbox payload."""
    text, buttons = payload.get("text", ""), payload.get("buttons", [])
    if payload.get("parts"):
        return from_parts(payload["parts"], locale)
    if payload.get("card"):
        return [{"type": "flex", "altText": alt_text(text), "contents": booking_card(payload["card"], buttons)}]
    links = payload.get("links") or []
    if links and payload.get("content_text"):
        # The links travel as a Flex card below, so the plain-text list of them is left out here.
        text = re.sub(r"\n{3,}", "\n\n", text.replace(payload["content_text"].rstrip("\n"), "\n")).strip()
    messages = [{"type": "text", "text": text[:MAX_TEXT] or "…"}]
    if links:
        messages.append(_carousel(links, locale))
    if quick := quick_reply(buttons, locale):
        messages[-1]["quickReply"] = quick  # LINE shows quick replies only on the last message
    return messages
