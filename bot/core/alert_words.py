"""Why a person is needed (an alert's reason) in a recruiter's words, Japanese and English: one table for the
recruiter page, the inbox and the alerts mailed or posted to the team (bot.service.notify)."""
from __future__ import annotations

from bot.core.vocab import AlertReason

ALERT_WORDS: dict[str, tuple[str, str]] = {
    AlertReason.NOT_UNDERSTOOD: ("ボットが理解できないメッセージ", "a message the bot did not understand"),
    AlertReason.NO_SLOTS: ("案内できる空き枠がない", "no free times to offer"),
    AlertReason.OPTED_OUT: ("配信停止の連絡", "asked for no more messages"),
    AlertReason.CANCELLED: ("面接キャンセル", "cancelled the interview"),
    AlertReason.UNCONFIRMED: ("前日リマインドに未返信（お電話で確認を）",
                              "did not confirm the interview (call to check)"),
    AlertReason.UNREACHABLE: ("連絡がつかない（フォローに未返信）", "no answer to any follow-up"),
    AlertReason.OUTCOME: ("面接の結果を記録してください", "record the interview's outcome"),
    AlertReason.UNDELIVERED: ("メッセージが届かず、別の手段で再送", "a message did not arrive"),
    AlertReason.LINE_BLOCKED: ("LINEでブロックされた（電話で連絡を）", "blocked us on LINE (call instead)"),
    AlertReason.MEDIA_RECEIVED: ("写真やファイルが届いた", "sent a photo or file"),
    AlertReason.ASKED_FOR_PERSON: ("担当者との会話を希望", "asked for a person"),
    AlertReason.ALL_OPTED_OUT: ("ご本人の連絡先がすべて配信停止中のため、自動の案内を送れません（お電話などで）",
                                "every contact opted out: call instead"),
    AlertReason.LINE_KEPT: ("同じLINEの方の新しい応募（LINEの会話は面接予約中の応募で続きます。別の手段で連絡を）",
                            "a new application of the same LINE user"),
    AlertReason.OPTED_IN_WAITING: ("配信を再開（担当者からの返答をお待ちです）",
                                   "opted in again, waiting for a person"),
    AlertReason.APPLIED_AGAIN: ("同じ方の別の応募。本日ご案内済みのため自動のあいさつは送っていません"
                                "（会話は先にご案内した応募で続きます。この応募の件はお電話などで）",
                                "applied again today"),
}
