"""The Calendar API routes of the fake: freeBusy and events insert/get/patch/delete/list with sync tokens."""
from __future__ import annotations

import re
from datetime import datetime

from tests.fakes.google_api import UTC, FakeGoogle, _when, public

EVENTS = re.compile(r"^/calendar/v3/calendars/(?P<cal>[^/]+)/events(?:/(?P<event>[^/]+))?$")


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00")).astimezone(UTC)


def route(fake: FakeGoogle, method: str, path: str, query: dict, body: dict) -> tuple[int, dict]:
    """Answer one authorised API call: (status, JSON body or {'reason'})."""
    if path == "/calendar/v3/freeBusy" and method == "POST":
        start, end = _time(body["timeMin"]), _time(body["timeMax"])
        if len(body.get("items", ())) > 50:
            return 400, {"reason": "tooManyCalendarsRequested"}
        answer = {}
        for item in body["items"]:
            cal = fake.calendars.get(item["id"])
            if cal is None or not cal["readable"]:
                answer[item["id"]] = {"errors": [{"domain": "global", "reason": "notFound"}], "busy": []}
            else:
                answer[item["id"]] = {"busy": fake.busy(item["id"], start, end)}
        return 200, {"kind": "calendar#freeBusy", "calendars": answer}
    match = EVENTS.match(path)
    if not match:
        return 404, {"reason": "notFound"}
    cal_id, event_id = match["cal"], match["event"]
    cal = fake.calendars.get(cal_id)
    if cal is None:
        return 404, {"reason": "notFound"}
    if not cal["readable"] or not cal.get("details", True):
        return 403, {"reason": "forbidden"}
    if method != "GET" and not cal["writable"]:
        return 403, {"reason": "requiredAccessLevel"}
    if event_id is None:
        return _insert(fake, cal_id, query, body) if method == "POST" else _list(fake, cal_id, query)
    event = fake.events.get((cal_id, event_id))
    if event is None:
        return 404, {"reason": "notFound"}
    if method == "GET":
        return 200, public(event)
    if event["status"] == "cancelled":
        return 410, {"reason": "deleted"}
    event["_send_updates"] = query.get("sendUpdates")
    if method == "DELETE":
        fake.remove(cal_id, event_id)
        return 204, {}
    event.update({k: v for k, v in body.items() if k != "conferenceData"})
    fake._touch(event)
    return 200, public(event)


def _insert(fake: FakeGoogle, cal_id: str, query: dict, body: dict) -> tuple[int, dict]:
    if body.get("id") and (cal_id, body["id"]) in fake.events:
        return 409, {"reason": "duplicate"}
    create = body.get("conferenceData", {}).get("createRequest")
    event = fake._store(cal_id, {k: v for k, v in body.items() if k != "conferenceData"})
    event["_send_updates"] = query.get("sendUpdates")
    if create and query.get("conferenceDataVersion") == "1":
        code = f"abc-{event['id'][-4:]}-xyz"
        event["conferenceData"] = {
            "createRequest": {**create, "status": {"statusCode": "success"}},
            "conferenceSolution": {"key": {"type": create["conferenceSolutionKey"]["type"]}, "name": "Google Meet"},
            "entryPoints": [{"entryPointType": "video", "uri": f"https://meet.google.com/{code}",
                             "label": f"meet.google.com/{code}"}],
            "conferenceId": code}
        event["hangoutLink"] = f"https://meet.google.com/{code}"
        if fake.meet_pending:
            answer = public(event)
            answer["conferenceData"] = {"createRequest": {**create, "status": {"statusCode": "pending"}}}
            answer.pop("hangoutLink")
            return 200, answer
    return 200, public(event)


def _list(fake: FakeGoogle, cal_id: str, query: dict) -> tuple[int, dict]:
    mine = sorted((e for (c, _), e in fake.events.items() if c == cal_id), key=lambda e: e["_seq"])
    token = query.get("syncToken")
    if token:
        if fake.expired_sync or not token.startswith(f"sync-{cal_id}-"):
            fake.expired_sync = False  # one 410, as when Google drops a token; the full resync then works
            return 410, {"reason": "fullSyncRequired"}
        since = int(token.rsplit("-", 1)[1])
        mine = [e for e in mine if e["_seq"] > since]
    else:
        if query.get("showDeleted") != "true":
            mine = [e for e in mine if e["status"] != "cancelled"]
        if "timeMin" in query:
            mine = [e for e in mine if _when(e["end"]) > _time(query["timeMin"])]
        if "timeMax" in query:
            mine = [e for e in mine if _when(e["start"]) < _time(query["timeMax"])]
    offset, size = int(query.get("pageToken") or 0), int(query.get("maxResults") or 250)
    page = mine[offset:offset + size]
    answer = {"kind": "calendar#events", "items": [public(e) for e in page]}
    if offset + size < len(mine):
        answer["nextPageToken"] = str(offset + size)
    else:
        answer["nextSyncToken"] = f"sync-{cal_id}-{max((e['_seq'] for e in fake.events.values()), default=0)}"
    return 200, answer
