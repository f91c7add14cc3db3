"""Links already sent keep working: every signed value is pinned to what SECRET_KEY gave before."""
from bot.service.candidate_page import applicant_token_of, page_url
from bot.service.followups import outcome_sig
from bot.service.shortlinks import token_for, unsubscribe_token, unsubscribe_url
from bot.web.security import feed_token

KEY = "s3cret"


def test_tokens_and_signatures_are_those_already_sent():
    assert token_for(KEY, 7, "https://x/y") == "KitsHm85"
    assert feed_token(KEY, "iv1") == "44bbbac3d4bf3fd7b7e6bde1a02c1fde"
    assert outcome_sig(KEY, "bt", "attended") == "9c6b936d4dd8c60a972135deb994323c"
    assert unsubscribe_url(KEY, "B", "tokA") == "B/u/InRva0Ei.zQa-syvxb85aYSo5dB-cxOWm4oI"
    assert page_url(KEY, "B", "tokA", slot="1") == "B/c/InRva0Ei.mz9ydK3nHon61uMbnf1dPiD4m0s?slot=1"


def test_a_signed_link_opens_only_its_own_kind_of_page():
    page, unsubscribe = "InRva0Ei.mz9ydK3nHon61uMbnf1dPiD4m0s", "InRva0Ei.zQa-syvxb85aYSo5dB-cxOWm4oI"
    assert applicant_token_of(KEY, page) == "tokA" and unsubscribe_token(KEY, unsubscribe) == "tokA"
    assert applicant_token_of(KEY, unsubscribe) is None and unsubscribe_token(KEY, page) is None
    assert unsubscribe_token(KEY, "bad.sig") is None
