"""Applying inside LINE, step by step, without a database: what each answer leads to and what is asked next."""
import pytest

from bot.channels.line.lead_steps import Lead, Next, take
from bot.core.settings import Job, Text

HALL = Job("hall", Text("ホールスタッフ", "Hall staff"), ("tanaka",))
KITCHEN = Job("kitchen", Text("キッチン", "Kitchen"), ("sato",))
JOBS = {"hall": HALL, "kitchen": KITCHEN}


def test_a_name_with_several_jobs_open_asks_which_job():
    assert take(Lead(), "  山田   花子 ", None, JOBS) == Next(Lead("job", "山田 花子"), "line_ask_job")


def test_a_name_with_one_job_open_takes_that_job_and_asks_for_the_phone():
    assert take(Lead(), "山田花子", None, {"hall": HALL}) == Next(Lead("phone", "山田花子", "hall"), "line_ask_phone")


@pytest.mark.parametrize("text", [None, "  ", "x" * 101, "https://example.com", "賞品 www.evil.example",
                                  "win prize evil.com/x", "\u200b\u200b", "山田\u202e花子", "山田\x00花子"])
def test_what_cannot_be_a_name_asks_for_the_name_again(text):
    assert take(Lead(), text, None, JOBS) == Next(Lead(), "line_ask_name")


@pytest.mark.parametrize("text, data", [(None, "job:kitchen"), ("kitchen", None), ("キッチン", None),
                                        ("Kitchen", None)])
def test_a_job_is_chosen_by_its_button_id_or_title_and_the_phone_is_asked(text, data):
    d = take(Lead("job", "山田花子"), text, data, JOBS)
    assert d == Next(Lead("phone", "山田花子", "kitchen"), "line_ask_phone")


@pytest.mark.parametrize("text, data", [("dishes", None), (None, "job:closed"), (None, None)])
def test_a_job_that_is_not_open_shows_the_choices_again(text, data):
    assert take(Lead("job", "山田花子"), text, data, JOBS) == Next(Lead("job", "山田花子"), "line_ask_job")


def test_a_phone_number_completes_the_lead_in_e164():
    assert take(Lead("phone", "山田花子", "hall"), "090-1234-5678", None, JOBS) == Next(
        Lead("phone", "山田花子", "hall"), None, "+819012345678")


@pytest.mark.parametrize("text, data", [(None, "skip"), ("スキップ", None), (" None ", None)])
def test_skipping_the_phone_completes_the_lead_without_one(text, data):
    d = take(Lead("phone", "山田花子", "hall"), text, data, JOBS)
    assert d.ask is None and d.phone is None and d.lead.job_id == "hall"


def test_a_number_that_is_not_a_phone_asks_again_saying_so():
    lead = Lead("phone", "山田花子", "hall")
    assert take(lead, "12", None, JOBS) == Next(lead, "line_bad_phone")


def test_a_job_that_closed_while_they_typed_asks_for_a_job_again_instead_of_applying():
    d = take(Lead("phone", "山田花子", "gone"), "090-1234-5678", None, JOBS)
    assert d == Next(Lead("job", "山田花子", "gone"), "line_ask_job")
