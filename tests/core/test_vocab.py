"""The stored words are spelled once (bot/core/vocab.py): every message kind has its wording, every alert
reason its label, and no module compares a status or kind with a bare string."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.core.texts import TEXTS
from bot.core.vocab import AlertReason, BookingStatus, Kind, OutboxStatus

ROOT = Path(__file__).resolve().parents[2]
# Rows that carry work or reach the recruiter: no candidate wording of their own.
NOT_WORDED = {Kind.MESSAGE, Kind.CONTENT, Kind.ALERT, Kind.UNCONFIRMED_ALERT, Kind.OUTCOME_REQUEST, Kind.UNREACHABLE,
              Kind.CALENDAR_BOOK, Kind.STAFF_ALERT}


@pytest.mark.parametrize("locale", ["ja", "en"])
def test_every_candidate_message_kind_has_its_wording(locale):
    missing = [k for k in Kind if k not in NOT_WORDED and k not in TEXTS[locale]]
    assert not missing


def test_every_alert_reason_has_a_label_on_the_recruiter_page():
    from bot.web.recruiter import REASON_LABELS
    assert [r for r in AlertReason if r not in REASON_LABELS] == []


def test_a_member_is_its_stored_string():
    # Rows written before the enums, JSON payloads and SQL comparisons all see plain strings.
    assert OutboxStatus.PENDING == "pending" and f"{BookingStatus.NO_SHOW}" == "no_show"
    assert {"greeting": 1}[Kind.GREETING] == 1


def _bare(node: ast.AST) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _name(node: ast.AST) -> str:
    return node.attr if isinstance(node, ast.Attribute) else node.id if isinstance(node, ast.Name) else ""


def test_no_module_compares_a_status_or_kind_with_a_bare_string():
    found = []
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if "migrations" in path.parts or path.name == "vocab.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
            # Statuses of any row; kinds of outbox rows, planned rows and actions (not LINE's event types, a
            # postback's parts or the local calendar's entries, which are other words).
            left = node.left if isinstance(node, ast.Compare) else None
            if isinstance(left, ast.Attribute) and (left.attr == "status" or left.attr == "kind" and _name(
                    left.value) in ("Outbox", "row", "r", "action", "p", "planned", "out")):
                values = [c.elts if isinstance(c, (ast.Tuple, ast.Set, ast.List)) else [c] for c in node.comparators]
                if any(_bare(v) for group in values for v in group):
                    found.append(where)
            if isinstance(node, ast.Call) and _name(node.func) in ("Send", "AlertRecruiter", "Planned", "alert"):
                # alert(session, svc, who, reason); the others name their word first
                first = node.args[3:4] if _name(node.func) == "alert" else node.args[:1]
                if any(_bare(a) for a in first + [k.value for k in node.keywords if k.arg in ("kind", "reason")]):
                    found.append(where)
    assert found == []
