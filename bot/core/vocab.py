"""The words Sokuresu stores and branches on, each spelled once.

They are `StrEnum`s: a member is equal to its string, so rows written before these existed, JSON payloads and
SQL comparisons keep working, while a misspelt member fails at import instead of matching nothing. Channel
names are not here on purpose: a channel is a plugin (bot/channels/registry.py), and the core must not need
an edit when one is added.
"""
from __future__ import annotations

from enum import StrEnum


class OutboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its due time
    SENDING = "sending"  # claimed under a lease; the send may or may not have reached the provider
    UNKNOWN = "unknown"  # the last send may have gone out (no answer came back): asked about before it is sent again
    SENT = "sent"
    FAILED = "failed"  # given up (permanent error or too many attempts)
    CANCELLED = "cancelled"  # taken back before it went out


# Rows that have not gone out, as far as we know: waiting, in a worker's hands, or to be asked about.
OUTBOX_WAITING = (OutboxStatus.PENDING, OutboxStatus.SENDING, OutboxStatus.UNKNOWN)


class BookingStatus(StrEnum):
    BOOKED = "booked"
    CONFIRMED = "confirmed"  # the candidate said they will come
    CANCELLED = "cancelled"
    ATTENDED = "attended"  # recorded by a recruiter after the interview
    NO_SHOW = "no_show"


# A booking that still holds its slot.
LIVE_BOOKING = (BookingStatus.BOOKED, BookingStatus.CONFIRMED)


class InboxStatus(StrEnum):
    PENDING = "pending"  # waiting for its turn (per sender, in order)
    PROCESSING = "processing"  # claimed under a lease
    DONE = "done"
    FAILED = "failed"  # given up after the last attempt


class Direction(StrEnum):
    IN = "in"
    OUT = "out"


class OptOutReason(StrEnum):
    STOP_WORD = "stop_word"  # the candidate asked (STOP, 配信停止) on that channel
    CARRIER = "carrier"  # the provider refused the address: the number opted out at the carrier
    BLOCKED = "blocked"  # the candidate blocked our LINE account
    UNSUBSCRIBED = "unsubscribed"  # the e-mail's one-click List-Unsubscribe


class AlertReason(StrEnum):
    """Why a recruiter is needed; the recruiter page labels each one."""
    NO_SLOTS = "no_slots"
    NOT_UNDERSTOOD = "not_understood"
    ASKED_FOR_PERSON = "asked_for_person"
    OPTED_IN_WAITING = "opted_in_waiting"
    MEDIA_RECEIVED = "media_received"
    ALL_OPTED_OUT = "all_opted_out"
    OPTED_OUT = "opted_out"
    UNDELIVERED = "undelivered"
    LINE_BLOCKED = "line_blocked"
    LINE_KEPT = "line_kept"
    APPLIED_AGAIN = "applied_again"  # the same person applied again the day they were greeted: no second greeting
    UNCONFIRMED = "unconfirmed"
    UNREACHABLE = "unreachable"
    OUTCOME = "outcome"
    CANCELLED = "cancelled"  # the candidate cancelled their interview


class Kind(StrEnum):
    """What an outbox row carries. Most are candidate messages named after their text (bot/core/texts.py)."""
    MESSAGE = "message"  # free text (a recruiter's words, a channel's own answer)
    GREETING = "greeting"
    NUDGE = "nudge"
    CONTENT = "content"
    DATE_MENU = "date_menu"
    OFFER_ON_DATE = "offer_on_date"
    NO_SLOTS = "no_slots"
    NO_SLOTS_ON_DATE = "no_slots_on_date"
    PICK_AGAIN = "pick_again"
    BOOKED = "booked"
    ALREADY_BOOKED = "already_booked"
    CONFIRMED = "confirmed"
    CONFIRM_CANCEL = "confirm_cancel"
    CANCEL_KEPT = "cancel_kept"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"
    HELP = "help"
    HANDOFF = "handoff"
    HUMAN_REQUESTED = "human_requested"
    BACK_TO_BOT_BOOKED = "back_to_bot_booked"
    STOPPED = "stopped"
    WELCOME_BACK_BOOKED = "welcome_back_booked"
    WELCOME_BACK_HANDOFF = "welcome_back_handoff"
    STICKER_REPLY = "sticker_reply"
    MEDIA_REPLY = "media_reply"
    UNSUPPORTED_REPLY = "unsupported_reply"
    CALENDAR_MOVED = "calendar_moved"
    CALENDAR_MOVED_ONLY = "calendar_moved_only"
    CALENDAR_CANCELLED = "calendar_cancelled"
    CALENDAR_CANCELLED_NO_SLOTS = "calendar_cancelled_no_slots"
    REMINDER_DAY_BEFORE = "reminder_day_before"
    REMINDER_SOON = "reminder_soon"
    UNCONFIRMED_NUDGE = "unconfirmed_nudge"
    THANKS_AFTER = "thanks_after"
    OFFER_AGAIN = "offer_again"
    SLOT_TAKEN = "slot_taken"
    WELCOME_BACK = "welcome_back"
    NO_SHOW = "no_show"  # after a recorded no-show: new times, kindly
    MEETING_LINK = "meeting_link"  # the online meeting's link, when it came after the confirmation
    LINE_CONTENT = "line_content"  # LINE's rich-menu "about us": the content cards
    RESCHEDULE = "reschedule"
    ALERT = "alert"  # to the recruiter (channel "recruiter"), not to the candidate
    UNCONFIRMED_ALERT = "unconfirmed_alert"  # a recruiter alert due later: nobody confirmed the interview
    OUTCOME_REQUEST = "outcome_request"  # a recruiter alert after the interview: record attended / no-show
    UNREACHABLE = "unreachable"  # a recruiter alert: no answer after every nudge
    CALENDAR_BOOK = "calendar_book"  # work, not a message: write a deferred calendar event
    STAFF_ALERT = "staff_alert"  # one alert's mail to a person of the company, or its chat message (STAFF_CHANNEL)


# The recruiters' own "channel": alerts for people at the company, sent by the log channel (bot/channels/log.py).
RECRUITER_CHANNEL = "recruiter"
# An alert's copies for people (bot/service/notify.py): a mail to each, a Slack-compatible chat webhook; sent by
# bot/channels/staff, without an applicant of their own so that no candidate's conversation shows them.
STAFF_CHANNEL = "staff"
# Outbox rows that carry a deferred calendar write rather than a message (run by the worker).
CALENDAR = "calendar"


class RefusalReason(StrEnum):
    """Why an application (or its greeting) was refused or held back to keep the company's name and bill safe;
    the recruiter page words each one (bot/web/recruiter.py)."""
    RATE_CLIENT = "rate_client"  # too many applications from one network in a short time
    RATE_DESTINATION = "rate_destination"  # too many applications to one phone number or e-mail address
    PROOF_OF_WORK = "proof_of_work"  # the form's proof-of-work step was missing, wrong or replayed
    COUNTRY = "country"  # a phone number outside the allowed countries
    NUMBER_TYPE = "number_type"  # not a mobile number for SMS (landline, premium-rate, shared-cost, ...)
    GREETED_TODAY = "greeted_today"  # stored, but this address was greeted already in the last day


class KeyPurpose(StrEnum):
    """What a key derived from SECRET_KEY is for; each can be rotated alone (`sokuresu keys rotate <purpose>`)."""
    FEEDS = "feeds"  # interviewers' calendar feed URLs (/calendar/<token>.ics)
    LINKS = "links"  # links in messages: candidate pages, unsubscribe, short links, recruiters' outcome links
    SESSIONS = "sessions"  # the recruiter's sign-in link and session cookie
    VAULT = "vault"  # stored credentials (OAuth grants), encrypted


class Role(StrEnum):
    """What a person of the company may do in the recruiter workspace."""
    ADMIN = "admin"  # everything, and people (invite, remove) and the audit log
    RECRUITER = "recruiter"  # every candidate and every action on them
    INTERVIEWER = "interviewer"  # only the candidates of their own interviews (settings interviewer by e-mail)


class AuditAction(StrEnum):
    """What a person did, as the audit log records it (never the candidate's data itself, only their id)."""
    SIGN_IN = "sign_in"
    SIGN_OUT = "sign_out"
    INVITE = "invite"  # a person was invited or given a new sign-in link by an admin
    REMOVE = "remove"  # a person's access was taken away
    MARK_OUTCOME = "mark_outcome"  # attended / no-show recorded (the outcome in `detail`)
    UNDO_OUTCOME = "undo_outcome"
    RESUME = "resume"  # a conversation handed back to the bot, or marked answered
    ERASE = "erase"  # a person's data deleted (on request, or by the retention setting); `detail` says how much
    REPLY = "reply"  # a person wrote to the candidate from the inbox
    NOTE = "note"  # an internal note on a conversation (never sent)
    RESOLVE = "resolve"  # an alert marked as dealt with
    SAVED_REPLIES = "saved_replies"  # an admin changed the saved replies
