"""Interviewer calendars: the slot engine and the calendar backends (no bot, no Flask)."""
from calendars.base import BookingRequest, Calendar, Interval, Slot, SlotRules, SlotTaken

__all__ = ["BookingRequest", "Calendar", "Interval", "Slot", "SlotRules", "SlotTaken"]
