"""Six weeks of made-up applications for `sokuresu demo`, so the funnel and today's page show something: the same
rows for the same clock (a fixed seed), written once, relative to svc.clock(). Never run outside the demo."""
from __future__ import annotations

import random
from datetime import datetime, timedelta

from sqlmodel import Session, select

from bot.core.vocab import BookingStatus, Direction, Kind, OutboxStatus
from bot.db.models import Applicant, Booking, MessageLog, Outbox
from bot.service.deps import Services

MARK = "demo-history-"  # external_id prefix: the history is there once these exist
FAMILY = ("佐藤", "鈴木", "高橋", "田中", "伊藤", "渡辺", "山本", "中村", "小林", "加藤", "吉田", "山田", "松本")
GIVEN = ("陽翔", "結衣", "蓮", "陽葵", "湊", "凛", "大和", "美咲", "悠真", "さくら", "颯太", "葵", "翔", "愛莉")
SOURCES = (("Indeed", 40), ("タウンワーク", 25), ("求人ボックス", 15), ("自社サイト", 20))
CHANNELS = (("line", 45, 0.78), ("sms", 35, 0.55), ("email", 20, 0.35))  # name, weight, share who reply


def _pick(rng: random.Random, pairs) -> str:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs])[0]


def seed(svc: Services, days: int = 42, per_day: int = 7) -> int:
    """Write the history unless it is there; how many applications were written."""
    now, tz = svc.clock(), svc.settings.tz
    rng = random.Random(14)
    jobs, people = list(svc.settings.jobs), list(svc.settings.interviewers)
    with Session(svc.engine) as s:
        if s.exec(select(Applicant.id).where(Applicant.external_id == f"{MARK}1")).first() is not None:
            return 0
        taken: set[str] = set()
        n = 0
        for day in range(days, -1, -1):
            for _ in range(rng.randint(per_day - 3, per_day + 3)):
                local = (now - timedelta(days=day)).astimezone(tz).replace(hour=rng.randint(7, 23),
                                                                          minute=rng.randint(0, 59))
                created = local.astimezone(now.tzinfo)
                if created >= now - timedelta(minutes=5):
                    continue
                n += 1
                _one(s, rng, n, created, now, tz, jobs, people, taken)
        s.commit()
    return n


def _one(s: Session, rng: random.Random, n: int, created: datetime, now: datetime, tz, jobs, people, taken) -> None:
    channel = _pick(rng, [(c, w) for c, w, _ in CHANNELS])
    reply = {c: r for c, _, r in CHANNELS}[channel]
    a = Applicant(external_id=f"{MARK}{n}", name=f"{rng.choice(FAMILY)} {rng.choice(GIVEN)}",
                  phone=f"+8190{rng.randint(10_000_000, 99_999_999)}", email=f"demo{n}@example.com", channel=channel,
                  job_id=jobs[0] if rng.random() < 0.7 or len(jobs) == 1 else rng.choice(jobs[1:]),
                  source=_pick(rng, SOURCES), state="new", created_at=created, updated_at=created)
    s.add(a)
    s.flush()
    if rng.random() < 0.03:  # never reached: a refused address, a send that failed
        return
    hour = created.astimezone(tz).hour
    wait = timedelta(seconds=rng.randint(4, 40))
    if hour >= 21:  # quiet hours: the greeting waits for the morning
        wait = (created.astimezone(tz) + timedelta(days=1)).replace(hour=9, minute=0) - created.astimezone(tz)
    elif rng.random() < 0.08:  # a provider retry, a fallback to another channel
        wait = timedelta(minutes=rng.randint(3, 50))
    sent = created + wait
    if sent > now:
        return
    a.state = "greeted"
    s.add(Outbox(applicant_id=a.id, channel=channel, kind=Kind.GREETING, due_at=created, status=OutboxStatus.SENT,
                 attempts=1, created_at=created, sent_at=sent))
    s.add(MessageLog(applicant_id=a.id, direction=Direction.OUT, channel=channel, text="ご応募ありがとうございます。",
                     created_at=sent))
    answered = sent + timedelta(minutes=rng.randint(2, 600))
    if rng.random() > reply or answered > now:
        if rng.random() < 0.3:
            a.unreachable = True
        return
    s.add(MessageLog(applicant_id=a.id, direction=Direction.IN, channel=channel, text="1", created_at=answered))
    a.last_inbound_at = answered
    booked_at = answered + timedelta(minutes=rng.randint(1, 30))
    if rng.random() > 0.78 or booked_at > now:
        return
    who = rng.choice(people)
    start = None
    for _ in range(20):
        local_day = (booked_at + timedelta(days=rng.randint(1, 6))).astimezone(tz)
        start = local_day.replace(hour=rng.randint(10, 17), minute=rng.choice((0, 30)), second=0, microsecond=0)
        key = f"{who}@{start.astimezone(now.tzinfo):%Y%m%dT%H%MZ}"
        if key not in taken:
            taken.add(key)
            break
    start = start.astimezone(now.tzinfo)
    # Interviews of the next two days are confirmed less often: they are what today's page asks people to call about.
    confirmed_at = booked_at + timedelta(hours=rng.randint(2, 30))
    confirmed = rng.random() < (0.5 if start - now < timedelta(days=2) else 0.8) and confirmed_at < min(now, start)
    b = Booking(applicant_id=a.id, interviewer=who, start_at=start, end_at=start + timedelta(minutes=30),
                status=BookingStatus.CONFIRMED if confirmed else BookingStatus.BOOKED, created_at=booked_at,
                confirmed_at=confirmed_at if confirmed else None)
    a.state = b.status
    if start + timedelta(minutes=30) < now:  # over: the recruiter recorded what happened
        b.status = BookingStatus.ATTENDED if rng.random() < (0.9 if confirmed else 0.55) else BookingStatus.NO_SHOW
        b.marked_at = start + timedelta(hours=1)
        a.state = b.status
    else:
        b.active_slot = key
    s.add(b)
    s.flush()
    if start - timedelta(days=1) < now:
        s.add(Outbox(applicant_id=a.id, booking_id=b.id, channel=channel, kind=Kind.REMINDER_DAY_BEFORE,
                     due_at=start - timedelta(days=1), status=OutboxStatus.SENT, attempts=1, created_at=booked_at,
                     sent_at=start - timedelta(days=1)))
