"""docs/openapi.yaml describes POST /api/applications as it behaves, and the app serves that very document."""
from __future__ import annotations

import json
import re
from pathlib import Path

from bot.service.intake import WINDOW_DAYS, offered
from tests.conftest import AUTH, application

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "openapi.yaml").read_text(encoding="utf-8")


def _block(name: str) -> str:
    """The text of one schema under components/schemas (a 4-space key, up to the next one)."""
    found = re.search(rf"^    {name}:\n(.*?)(?=^    \S|\Z)", DOC, re.S | re.M)
    assert found, name
    return found.group(1)


def _properties(name: str) -> list[str]:
    return re.findall(r"^        (\w+):\n", _block(name), re.M)


def _list(text: str, key: str) -> list[str]:
    found = re.search(rf"^\s+{key}: \[(.*)\]$", text, re.M)
    return [item.strip().strip('"') for item in found.group(1).split(",")]


def _examples(after: str) -> list[dict]:
    """The JSON examples (`value: {...}` on one line) in the part of the document after `after`."""
    part = DOC.split(after, 1)[1]
    return [json.loads(v) for v in re.findall(r"^\s+value: (\{.*\})$", part, re.M)]


def test_the_app_serves_docs_openapi_yaml_as_it_is(client):
    res = client.get("/api/openapi.yaml")  # no key needed: job boards read it before they have one
    assert res.status_code == 200 and res.mimetype == "application/yaml"
    assert res.get_data(as_text=True) == DOC
    assert (ROOT / "bot" / "static" / "openapi.yaml").read_text(encoding="utf-8") == DOC, \
        "copy docs/openapi.yaml to bot/static/openapi.yaml (the installed package serves that copy)"


def test_the_documented_fields_are_the_ones_intake_reads(client, svc):
    fields = _properties("Application")
    assert sorted(fields) == sorted(["name", "channel", "job", "locale", "email", "phone", "line_user_id",
                                     "contact_window", "source", "external_id"])
    res = client.post("/api/applications", json={}, headers=AUTH)
    assert res.status_code == 422 and sorted(res.get_json()["errors"]) == sorted(_list(_block("Application"),
                                                                                        "required"))
    wrong = client.post("/api/applications", json=dict.fromkeys(fields, 12345), headers=AUTH).get_json()["errors"]
    assert sorted(wrong) == sorted(fields)  # each documented field is read (and a number is not a string)
    extra = client.post("/api/applications", json=application(board_internal_rank=3), headers=AUTH)
    assert extra.status_code == 201  # additionalProperties: ignored
    assert _list(_block("Application"), "enum")[:3] == offered(svc.channel_info)
    assert _list(_block("ContactWindow"), "enum") == list(WINDOW_DAYS)


def test_the_documented_examples_are_true(client):
    requests, responses = _examples("examples:")[:2], _examples('"201":')[:2]
    documented = set(_properties("Applicant"))
    for body, example in zip(requests, responses):
        res = client.post("/api/applications", json=body, headers=AUTH)
        assert res.status_code == 201, res.get_json()
        answer = res.get_json()
        assert set(answer) <= documented and set(example) <= documented
        assert set(answer) - {"line_add_friend_url"} == set(example) - {"line_add_friend_url"}
        assert answer["state"] == example["state"] and answer["channel"] == example["channel"]
    again = client.post("/api/applications", json=requests[0], headers=AUTH)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json()["created"] is False


def test_the_documented_error_shapes_are_true(client):
    unauthorised = client.post("/api/applications", json=application(), headers={"Authorization": "Bearer nope"})
    assert unauthorised.status_code == 401 and set(unauthorised.get_json()) == set(_list(_block("Error"), "required"))
    for body in ("not json", "[1, 2]", "null"):
        res = client.post("/api/applications", data=body, headers={**AUTH, "Content-Type": "application/json"})
        assert res.status_code == 422 and res.get_json() == {"error": "Unprocessable Entity",
                                                             "errors": {"body": "must be a JSON object"}}
    for bad in ("[" * 100_000 + "]" * 100_000, '{"name": "\\ud800"}'):
        res = client.post("/api/applications", data=bad, headers={**AUTH, "Content-Type": "application/json"})
        assert res.status_code == 400 and set(res.get_json()) == {"error", "reason"}
    huge = client.post("/api/applications", json=application(source="x" * 300_000), headers=AUTH)
    assert huge.status_code == 413 and set(huge.get_json()) == {"error", "reason"}
    for code in ("400", "401", "413", "422", "503"):
        assert f'        "{code}":' in DOC
