"""The words of the today, funnel and applicants pages, in Japanese and English: a recruiter's words, never stored
values."""
from __future__ import annotations

STEP = {"ja": {"applied": "応募", "greeted": "初回連絡", "answered": "返信あり", "booked": "面接予約",
               "confirmed": "参加確認", "attended": "参加", "no_show": "不参加"},
        "en": {"applied": "Applied", "greeted": "Contacted", "answered": "Replied", "booked": "Booked",
               "confirmed": "Confirmed", "attended": "Attended", "no_show": "No-show"}}
STATE = {"ja": {"new": "受付", "greeted": "日程選択中", "booked": "予約済み", "confirmed": "参加確認済み",
                "rescheduling": "日程変更中", "cancelled": "キャンセル", "attended": "面接済み", "no_show": "不参加",
                "opted_out": "配信停止", "needs_human": "要対応"},
         "en": {"new": "Received", "greeted": "Choosing a time", "booked": "Booked", "confirmed": "Confirmed",
                "rescheduling": "Rescheduling", "cancelled": "Cancelled", "attended": "Interviewed",
                "no_show": "No-show", "opted_out": "Stopped messages", "needs_human": "Needs a person"}}
BY = {"ja": {"job": "職種", "source": "応募経路", "channel": "連絡手段", "week": "週"},
      "en": {"job": "Job", "source": "Source", "channel": "Channel", "week": "Week"}}
CALL = {"ja": {"blocked": "LINEでブロック", "unreachable": "連絡がつかない",
               "unconfirmed_after_reminder": "前日リマインド後も未確認", "opted_out": "配信停止中"},
        "en": {"blocked": "Blocked us on LINE", "unreachable": "Not answering",
               "unconfirmed_after_reminder": "Not confirmed after the reminder", "opted_out": "Stopped messages"}}

PAGE = {
    "ja": dict(
        switch="English", today="今日と明日", funnel="応募から面接まで", applicants="応募者をさがす",
        list="応募者一覧", today_h="今日", tomorrow_h="明日", none="面接の予定はありません。",
        time="時間", candidate="お名前", job="職種", interviewer="面接官", status="参加確認", channel="連絡手段",
        call="電話", confirmed="確認済み", unconfirmed="未確認", attended="参加", no_show="不参加",
        needs_call="お電話が必要な方", no_call="今日・明日の面接で、お電話が必要な方はいません。",
        call_from="会社からの発信番号（応募者にお知らせ済み）", no_phone="電話番号なし",
        reminded="前日リマインド送信済み", lost="面接前に連絡が途切れた方（直近14日の応募）", conversation="会話",
        all="すべて", search="さがす", search_ph="名前・電話番号・メール", state="状態", source="応募経路",
        date_from="応募日（から）", date_to="応募日（まで）", apply="絞り込む", reset="条件をクリア",
        results="{total}件中 {first}–{last}件", prev="前へ", next="次へ", page="{n} / {pages} ページ",
        csv="CSVをダウンロード", no_results="条件に合う応募者はいません。", applied_at="応募日時",
        interview="面接", by="集計の単位", steps="ステップ", count="人数", of_applied="応募に対して",
        drop="前のステップから離脱", first_contact="初回連絡までの時間", to_booking="面接予約までの時間",
        p50="中央値", p90="90%の方がこの時間内", how="数え方", week_of="{d} の週",
        chart_title="応募から面接までの人数", chart_desc="各ステップに到達した人数と、応募に対する割合",
        weeks_title="週ごとの初回連絡までの時間",
        weeks_desc="応募の週ごとに、90%の方が最初の連絡を受けるまでの時間（かっこ内は中央値）",
        no_contact="連絡前", total="合計", none_data="この条件の応募はまだありません。",
        how_text=[
            "応募: 応募を受け付けた日時（会社のタイムゾーン）で日・週を数えます。",
            "初回連絡: 候補者の連絡手段でメッセージが送信済みになった応募（担当者への通知は含みません）。",
            "返信あり: 候補者からメッセージが届いた、またはご本人のページで面接を予約した応募。",
            "面接予約: 面接の予約がある応募（あとでキャンセルされたものも含みます）。",
            "参加確認: 候補者が参加を確認した予約がある応募。",
            "参加・不参加: 面接後に記録された結果。確認なしで参加する方もいるため、面接予約に対する割合です。",
            "初回連絡までの時間: 応募から最初のメッセージの送信まで。中央値と、90%の方がその時間内に連絡を受けた時間。",
            "面接予約までの時間: 応募から最初の予約まで。",
        ]),
    "en": dict(
        switch="日本語", today="Today and tomorrow", funnel="From application to interview",
        applicants="Find applicants", list="Applicants", today_h="Today", tomorrow_h="Tomorrow",
        none="No interviews.", time="Time", candidate="Name", job="Job", interviewer="Interviewer",
        status="Confirmation", channel="Channel", call="Call", confirmed="Confirmed", unconfirmed="Not confirmed",
        attended="Attended", no_show="No-show", needs_call="Who needs a call",
        no_call="No interview today or tomorrow needs a call.", call_from="Our number (announced to candidates)",
        no_phone="no phone number", reminded="day-before reminder sent",
        lost="Lost before an interview (applied in the last 14 days)", conversation="Conversation",
        all="All", search="Search", search_ph="Name, phone or e-mail", state="Status", source="Source",
        date_from="Applied from", date_to="Applied until", apply="Filter", reset="Clear",
        results="{first}–{last} of {total}", prev="Previous", next="Next", page="Page {n} of {pages}",
        csv="Download CSV", no_results="No applicants match.", applied_at="Applied",
        interview="Interview", by="Group by", steps="Step", count="People", of_applied="of applied",
        drop="Lost since the step before", first_contact="Time to first contact", to_booking="Time to booking",
        p50="median", p90="90% within", how="How we count", week_of="week of {d}",
        chart_title="People at each step, from application to interview",
        chart_desc="How many reached each step, and their share of those who applied",
        weeks_title="Time to first contact, by week",
        weeks_desc="Per application week: the time within which 90% were first contacted (the median in brackets)",
        no_contact="not yet", total="All", none_data="No applications match yet.",
        how_text=[
            "Applied: the application, counted by its day and week in the company's time zone.",
            "Contacted: a message on the candidate's channel went out (alerts to recruiters do not count).",
            "Replied: the candidate wrote to us, or booked on their own page.",
            "Booked: an interview was booked (also when it was cancelled later).",
            "Confirmed: the candidate confirmed they will come.",
            "Attended / No-show: the outcome recorded after the interview; some come without confirming, so "
            "these are shares of those booked.",
            "Time to first contact: from the application to the first message sent; the median, and the time "
            "within which 90% were contacted.",
            "Time to booking: from the application to the first booking.",
        ]),
}


def duration(seconds: float | None, loc: str) -> str:
    """A delay as a recruiter says it: 45秒, 3分, 2時間10分, 3日."""
    if seconds is None:
        return "—"
    s = int(round(seconds))
    ja = loc == "ja"
    if s < 60:
        return f"{s}秒" if ja else f"{s} s"
    if s < 3600:
        return f"{s // 60}分" if ja else f"{s // 60} min"
    if s < 86400:
        h, m = divmod(s // 60, 60)
        return (f"{h}時間{m}分" if m else f"{h}時間") if ja else (f"{h} h {m} min" if m else f"{h} h")
    d = s / 86400
    return f"{d:.1f}日" if ja else f"{d:.1f} days"
