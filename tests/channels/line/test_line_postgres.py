"""The LINE flow, the queue and the delivery rules again on PostgreSQL (skipped without TEST_DATABASE_URL)."""
import pytest

from tests.channels.line.test_line_delivery import (  # noqa: F401  (collected again here, on PostgreSQL)
    test_a_push_line_accepted_but_whose_answer_was_lost_is_not_sent_twice,
    test_stale_and_forged_slot_buttons_get_a_polite_re_offer_and_never_a_booking,
    test_unfollow_marks_the_candidate_blocked_and_stops_every_push,
)
from tests.channels.line.test_line_flow import test_application_greeting_slot_card_reschedule_and_cancel_on_line  # noqa: F401
from tests.channels.line.test_line_inbox import (  # noqa: F401,E501
    runner,
    test_a_batch_books_once_and_its_later_turns_no_longer_offer_the_booked_time,
    test_a_row_taken_over_after_its_lease_ran_out_runs_once,
    test_a_runner_keeps_one_users_order_behind_an_event_another_process_holds,
    test_a_turn_that_fails_leaves_no_trace_and_is_retried,
    test_a_users_later_event_waits_for_the_earlier_one_held_by_another_worker,
    test_the_web_process_runner_answers_right_after_the_200_with_the_free_reply,
)
from tests.channels.line.test_line_linking import test_a_new_friend_applies_inside_line_then_books  # noqa: F401
from tests.channels.line.test_line_webhook import test_redelivered_event_never_replies_or_books_twice  # noqa: F401


@pytest.fixture
def db_url(pg_url):
    return pg_url


def test_after_the_server_dropped_every_connection_the_webhook_keeps_and_answers_the_event(line_user, line_svc,
                                                                                          fake_line, runner):
    """Connections are not pinged before use: the first statement on a dropped one fails, the pool is
    refreshed, and the webhook and the runner try once more (no 500, no lost event)."""
    import psycopg
    from sqlalchemy.engine import make_url

    from tests.channels.line.test_line_inbox import linked, wait_for

    linked(line_user)
    # The pool holds several connections to drop: a retry must not take the next stale one.
    with line_svc.engine.connect() as one, line_svc.engine.connect() as two, line_svc.engine.connect() as three:
        for conn in (one, two, three):
            conn.exec_driver_sql("select 1")
    url = make_url(line_svc.engine.url.render_as_string(hide_password=False))
    with psycopg.connect(host=url.host, port=url.port, user=url.username, dbname=url.database,
                         autocommit=True) as admin:  # as a database restart would
        dropped = admin.execute("select count(pg_terminate_backend(pid)) from pg_stat_activity "
                                "where datname = current_database() and pid <> pg_backend_pid()").fetchone()[0]
    assert dropped >= 1
    res = line_user.say("ヘルプ")
    assert res.status_code == 200
    wait_for(lambda: len(fake_line.seen_by(line_user.user_id)) == 2)
    assert "次のようにお送りください" in fake_line.seen_by(line_user.user_id)[1][0]["text"]
