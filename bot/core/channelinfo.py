"""What generic modules know about a channel, as data the channel declares (bot.channels.plugin) and the
registry hands the service layer (Services.channel_info): where its address is kept, what it is called, whether
candidates may choose it, and in which order it is tried when another address fails. Nothing here names a channel."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Mapping

if TYPE_CHECKING:
    from bot.core.settings import Settings


@dataclass(frozen=True)
class FormField:
    """The /apply input for a channel's address (the HTML keeps the field's name as its id)."""

    name: str  # the Applicant column and the form field: "phone", "email"
    type: str  # the input's type: "tel", "email"
    autocomplete: str  # what the browser may fill in: "tel", "email"
    label: Mapping[str, str]  # locale -> the label above the input
    placeholder: Mapping[str, str]  # locale -> the example in the empty input
    hint: Mapping[str, str]  # locale -> what the form says when the value is not valid


@dataclass(frozen=True)
class ChannelInfo:
    name: str  # as stored on applicant.channel and outbox.channel
    label: Mapping[str, str] = field(default_factory=dict)  # locale -> its name on the recruiter page ("SMS")
    # The Applicant column holding the candidate's address on this channel; None: it has none (the sandbox chat).
    address_field: str | None = None
    address_length: int = 64  # the longest address accepted
    # normalise_address(raw) -> the address as stored (E.164, …); raises ValueError(reason) when it is not one.
    normalise_address: Callable[[str], str] | None = None
    # check_address(address, settings) -> why this channel cannot reach an otherwise valid address, or None; run when
    # a candidate chooses it (SMS: a landline, or any number but a mobile under [protection] sms_mobile_only).
    check_address: Callable[[str, Settings], str | None] | None = None
    # screen_address(address) -> why no application may give this address at all, whatever channel it chose (SMS: a
    # premium-rate number, dear to call as well as to text), or None; run on every address of this column.
    screen_address: Callable[[str], str | None] | None = None
    # region_of(address) -> the ISO country of an address (a phone number's), for [protection] countries; None: none.
    region_of: Callable[[str], str | None] | None = None
    # locale -> {problem code: the form's words} for its address checks ("landline", "sms_needs_phone").
    problems: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    address_key: Callable[[str], str] | None = None  # how opt-outs compare addresses (e-mail: case-insensitive)
    # The candidate links the address by sending a code from the channel (LINE), so applying needs no address; an
    # application of this channel without its address or a code has lost the channel to a newer application.
    links_by_code: bool = False
    offered: Mapping[str, str] | None = None  # locale -> its wording on /apply; None: candidates cannot choose it
    form_field: FormField | None = None  # the /apply input for its address, if candidates type one
    # Where it stands among a person's other addresses when theirs opted out or a greeting did not arrive (lowest
    # first); None: never a fallback.
    fallback_rank: int | None = None
    # A fallback to it without a transport still goes out, in the stand-in chat (the demo runs e-mail there).
    falls_back_to_stand_in: bool = False
    stand_in: bool = False  # the web chat that receives every candidate channel without a transport
    payload_to: str | None = None  # the payload key that names the address of a row without an applicant
    payload_keys: tuple[str, ...] = ()  # what its prepare hook adds to a row, dropped when the row moves channel
    stopped_labels: Mapping[str, str] = field(default_factory=dict)  # opt-out reason -> the recruiter page's note

    def address(self, applicant) -> str | None:
        """The applicant's address on this channel, None without one."""
        return getattr(applicant, self.address_field) if self.address_field and applicant is not None else None
