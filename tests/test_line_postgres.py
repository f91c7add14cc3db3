"""The LINE flow, the queue and the delivery rules again on PostgreSQL (skipped without TEST_DATABASE_URL)."""
import pytest

from tests.test_line_delivery import (  # noqa: F401  (collected again here, on PostgreSQL)
    test_a_push_line_accepted_but_whose_answer_was_lost_is_not_sent_twice,
    test_stale_and_forged_slot_buttons_get_a_polite_re_offer_and_never_a_booking,
    test_unfollow_marks_the_candidate_blocked_and_stops_every_push)
from tests.test_line_flow import test_application_greeting_slot_card_reschedule_and_cancel_on_line  # noqa: F401
from tests.test_line_inbox import (  # noqa: F401
    test_a_queued_event_run_twice_after_a_lease_takeover_has_one_effect,
    test_a_users_later_event_waits_for_the_earlier_one_held_by_another_worker)
from tests.test_line_linking import test_a_new_friend_applies_inside_line_then_books  # noqa: F401
from tests.test_line_webhook import test_redelivered_event_never_replies_or_books_twice  # noqa: F401


@pytest.fixture
def db_url(pg_url):
    return pg_url
