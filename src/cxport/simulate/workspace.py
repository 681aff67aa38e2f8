"""The simulated organisation: channels, teams, agents, bots, labels, calendars.

A São Paulo retailer answering on WhatsApp, Instagram, Facebook, X/Twitter,
e-mail, SMS and a web chat. Entities are written once at setup (a month
before the simulated period) and some get later versions: renames,
deactivations, a channel and a team that open mid-period, hires and a
departure.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from cxport.simulate.business_hours import BusinessClock, Calendar, holidays_between
from cxport.simulate.catalog import ATTRIBUTES, RETIRED_TAG, RETIRED_TOPIC, TAGS, TOPICS
from cxport.simulate.content import person_name, slug
from cxport.simulate.options import SimOptions
from cxport.simulate.period import DAY_MS, MINUTE_MS, ZONE, Period
from cxport.simulate.writer import RecordWriter


@dataclass
class Team:
    index: int
    team_id: str
    name: str
    opens_day: int = 0
    working_days: tuple[int, ...] = (0, 1, 2, 3, 4, 5, 6)  # weekdays with shifts
    long_shifts: bool = False  # 8h48 office shifts instead of 6h20 call-centre ones
    local_offset_min: int = 0  # shift clock relative to São Paulo (Manaus: -60)
    share: float = 0.0  # of all conversations, filled from its channels


@dataclass
class VirtualAgent:
    va_id: str
    name: str


@dataclass
class Channel:
    channel_id: str
    medium: str
    name: str
    display_name: str | None
    team: Team
    va: VirtualAgent | None
    share: float
    csat: bool = True
    bulk: bool = False  # stale pending conversations are bulk-resolved weekly
    opens_day: int = 0
    clock: BusinessClock | None = None
    index: int = 0


@dataclass
class Agent:
    index: int
    agent_id: str
    name: str
    email: str | None
    reference: str | None
    team: Team
    shift_start_min: int  # local minutes after midnight
    days_off: tuple[int, ...]  # weekdays off
    supervisor: bool = False
    joins_day: int = 0
    leaves_day: int | None = None  # no shift from this day on


_WEEK = (0, 1, 2, 3, 4, 5, 6)
# id, name, office hours (Mon–Fri 8h48 shifts, else 6h20 every day), opens mid-period,
# shift clock offset from São Paulo in minutes (Manaus is an hour behind).
_TEAMS = (
    ("tm-sac", "SAC", False, False, 0),
    ("tm-vendas", "Vendas", False, False, 0),
    ("tm-social", "Redes Sociais", False, False, 0),
    ("tm-retaguarda", "Retaguarda (e-mail)", True, False, 0),
    ("tm-norte", "Regional Norte", False, True, -60),
)
_BOTS = (("va-lia", "Lia"), ("va-vic", "Vic Vendas"))
# id, medium, name, display name, team, virtual agent, share of arrivals, CSAT survey,
# weekly bulk resolve, opens mid-period.
_CHANNELS = (
    ("ch-wa-sac", "whatsapp", "Loja WhatsApp SAC", "Atendimento WhatsApp", "tm-sac", "va-lia", 0.31, True, False, False),
    ("ch-wa-vendas", "whatsapp", "Loja WhatsApp Vendas", "Vendas pelo WhatsApp", "tm-vendas", "va-vic", 0.12, True, False, False),
    ("ch-web", "web-messenger", "Chat do site", "Chat loja.example", "tm-sac", "va-lia", 0.12, True, False, False),
    ("ch-ig", "instagram", "@loja.oficial", "Instagram", "tm-social", "va-vic", 0.09, True, True, False),
    ("ch-fb", "facebook", "Loja Oficial", "Facebook", "tm-social", None, 0.07, True, True, False),
    ("ch-tw", "twitter", "@LojaAjuda", "Twitter", "tm-social", None, 0.07, False, True, False),
    ("ch-email", "email", "sac@loja.example", "E-mail SAC", "tm-retaguarda", None, 0.12, True, False, False),
    ("ch-sms", "sms", "SMS 29000", None, "tm-sac", None, 0.04, False, False, False),
    ("ch-wa-norte", "whatsapp", "Loja WhatsApp Manaus", "Atendimento Norte", "tm-norte", None, 0.06, True, False, True),
)  # fmt: skip
_WEEKDAYS_9_20 = {d: [["08:00", "20:00"]] for d in ("mon", "tue", "wed", "thu", "fri")}
# Call-centre shift starts, spread to follow the day's demand; Sunday (6) is the usual day off.
_SHIFT_STARTS = (8 * 60, 9 * 60, 10 * 60, 7 * 60, 11 * 60, 13 * 60, 14 * 60, 12 * 60, 15 * 60 + 40)
_DAYS_OFF = (6, 6, 5, 6, 0, 5, 1, 6, 2, 3, 4, 5)
# Expected human work, used to size the staff from the volume (minutes per session,
# sessions per conversation needing a human, available minutes per worked day).
_SESSION_MIN, _SESSIONS_PER_CONV, _AVAILABLE_MIN = 6.0, 1.4, 330.0


class Workspace:
    """Builds every entity of the operation for a period and a volume."""

    def __init__(self, options: SimOptions, period: Period, conversations: int) -> None:
        self.options = options
        self.period = period
        changes = options.entity_changes
        days = period.days
        self.late_day = min(days - 1, max(1, days // 5)) if changes else 0
        self.rename_day = min(days - 1, max(1, days // 3))
        self.retire_day = min(days - 1, max(1, days // 2))
        self.setup_at = period.start - 30 * DAY_MS + 9 * 60 * MINUTE_MS

        late = self.late_day
        self.teams = [
            Team(
                i,
                tid,
                name,
                late if is_late else 0,
                (0, 1, 2, 3, 4) if office else _WEEK,
                office,
                offset,
            )
            for i, (tid, name, office, is_late, offset) in enumerate(_TEAMS)
            if changes or not is_late
        ]
        self.vas = [VirtualAgent(vid, name) for vid, name in _BOTS]
        teams = {t.team_id: t for t in self.teams}
        bots = {b.va_id: b for b in self.vas}
        self.channels = [
            Channel(cid, medium, name, disp, teams[tid], bots.get(bot or ""), share, csat, bulk,
                    late if is_late else 0)
            for cid, medium, name, disp, tid, bot, share, csat, bulk, is_late in _CHANNELS
            if changes or not is_late
        ]  # fmt: skip
        for i, c in enumerate(self.channels):
            c.index = i
            c.team.share += c.share
        total = sum(c.share for c in self.channels)
        for c in self.channels:
            c.share /= total
        for t in self.teams:
            t.share /= total
        self.calendar_versions = self._calendars()
        self._attach_clocks()
        self.agents = self._staff(conversations)

    # -- calendars --------------------------------------------------------------

    def _calendars(self) -> list[tuple[int, Calendar]]:
        first, last = self.period.first, self.period.date(self.period.days)
        national = tuple(holidays_between(first - dt.timedelta(days=31), last))
        local = tuple(holidays_between(first - dt.timedelta(days=31), last, local=True))
        default = Calendar(
            "cal-padrao", ZONE, {**_WEEKDAYS_9_20, "sat": [["09:00", "15:00"]]}, national
        )
        lunch = [["09:00", "12:00"], ["13:00", "18:00"]]
        email = Calendar(
            "cal-email",
            ZONE,
            {d: lunch for d in ("mon", "tue", "wed", "thu", "fri")},
            local,
            ("ch-email",),
        )
        late = {d: [["07:00", "24:00"]] for d in ("fri", "sat")}
        social_week = {d: [["07:00", "23:00"]] for d in ("mon", "tue", "wed", "thu")}
        social = Calendar(
            "cal-social",
            ZONE,
            {**social_week, **late, "sun": [["00:00", "01:00"], ["09:00", "21:00"]]},
            None,
            ("ch-ig", "ch-fb", "ch-tw"),
        )
        draft = Calendar("cal-rascunho", ZONE, {"mon": [["00:00", "24:00"]]}, None, ())
        out = [(self.setup_at, c) for c in (default, email, social, draft)]
        if self.options.entity_changes:
            extended = {**default.weekly, "sat": [["09:00", "18:00"]]}
            changed = Calendar("cal-padrao", ZONE, extended, national)
            out.append((self.period.midnights[self.rename_day], changed))
            norte = Calendar(
                "cal-norte",
                "America/Manaus",
                {d: [["08:00", "18:00"]] for d in ("mon", "tue", "wed", "thu", "fri", "sat")},
                national,
                ("ch-wa-norte",),
            )
            out.append((self.period.midnights[self.late_day] - 3_600_000, norte))
        return out

    def _attach_clocks(self) -> None:
        by_id: dict[str, list[tuple[int, Calendar]]] = {}
        for at, cal in self.calendar_versions:
            by_id.setdefault(cal.calendar_id, []).append((at, cal))
        for c in self.channels:
            own = [cid for cid, vs in by_id.items() if c.channel_id in (vs[0][1].channel_ids or ())]
            chosen = min(own) if own else "cal-padrao"
            c.clock = BusinessClock(by_id[chosen])

    # -- staff --------------------------------------------------------------------

    def _staff(self, conversations: int) -> list[Agent]:
        o = self.options
        per_day = conversations / self.period.days
        agents: list[Agent] = []
        k = 0
        for tm in self.teams:
            human = 1.0 - 0.5 * o.va_resolve_rate  # about half the volume meets a bot
            minutes = per_day * tm.share * human * _SESSIONS_PER_CONV * _SESSION_MIN
            worked = (len(tm.working_days) / 7) * (1 - o.absence_rate)
            capacity = _AVAILABLE_MIN * (1.5 if tm.long_shifts else 1.0) * worked
            need = math.ceil(minutes / (capacity * o.utilization_target))
            count = o.agents_per_team or max(3, need)
            hires = max(1, count // 10) if o.entity_changes and tm.index == 0 else 0
            for i in range(count + hires):
                name = person_name(k)
                agents.append(
                    Agent(
                        index=len(agents),
                        agent_id=f"ag-{k + 1:04d}",
                        name=name,
                        email=None if k % 13 == 7 else f"{slug(name)}.{k + 1}@loja.example",
                        reference=None if k % 9 == 4 else f"E-{1001 + k}",
                        team=tm,
                        shift_start_min=(9 * 60 if tm.long_shifts else _SHIFT_STARTS[i % 9])
                        + (30 if tm.long_shifts and i % 2 else 0),
                        days_off=(5, 6) if tm.long_shifts else (_DAYS_OFF[i % len(_DAYS_OFF)],),
                        joins_day=max(tm.opens_day, self.rename_day if i >= count else 0),
                    )
                )
                k += 1
            if o.entity_changes and tm.index == 0 and count > 1:
                agents[-1 - hires].leaves_day = self.retire_day
        for tm in self.teams:
            name = person_name(k)
            agents.append(
                Agent(
                    len(agents),
                    f"sup-{tm.team_id[3:]}",
                    f"{name} (supervisão)",
                    f"{slug(name)}.sup@loja.example",
                    f"S-{tm.index + 1:02d}",
                    tm,
                    9 * 60,
                    (5, 6),
                    supervisor=True,
                    joins_day=tm.opens_day,
                )
            )
            k += 1
        return agents

    @property
    def holidays(self) -> frozenset[str]:
        """Local dates (YYYY-MM-DD) that are holidays of the default calendar."""
        return frozenset(
            d for _, cal in self.calendar_versions if cal.calendar_id == "cal-padrao"
            for d in (cal.holidays or ())
        )  # fmt: skip

    def supervisor(self, team: Team) -> Agent:
        return next(a for a in self.agents if a.supervisor and a.team is team)

    # -- records ----------------------------------------------------------------------

    def write(self, w: RecordWriter) -> None:
        """Every entity version: the setup, then the changes over the period."""
        at0 = self.setup_at
        mids = self.period.midnights
        for tm in self.teams:
            w.team(
                at0 if tm.opens_day == 0 else mids[tm.opens_day] - 3_600_000, tm.team_id, tm.name
            )
        for c in self.channels:
            at = at0 if c.opens_day == 0 else mids[c.opens_day] - 3_600_000
            w.channel(at, c.channel_id, c.medium, c.name, c.display_name)
        for a in self.agents:
            at = at0 if a.joins_day == 0 else mids[a.joins_day] - 2 * 3_600_000
            w.agent(at, a.agent_id, a.name, a.email, a.reference)
        for va in self.vas:
            w.virtual_agent(at0, va.va_id, va.name)
        for label in TOPICS:
            w.topic(at0, label.label_id, label.name, label.active)
        for label in TAGS:
            w.tag(at0, label.label_id, label.name, label.active)
        for d in ATTRIBUTES:
            w.attribute_definition(at0, d.attribute_id, d.name, d.kind)
        for at, cal in self.calendar_versions:
            w.business_hours(at, cal.calendar_id, cal.timezone, *cal.record_fields())
        if self.options.entity_changes:
            self._write_changes(w)

    def _write_changes(self, w: RecordWriter) -> None:
        noon = 12 * 60 * MINUTE_MS
        renamed = self.period.midnights[self.rename_day] + noon
        retired = self.period.midnights[self.retire_day] + noon
        w.team(renamed, "tm-sac", "SAC Nível 1")
        w.channel(renamed, "ch-tw", "twitter", "@LojaAjuda", "X (antigo Twitter)")
        w.channel(retired, "ch-web", "web-messenger", "Chat do site (novo)", "Chat loja.example")
        w.virtual_agent(renamed, "va-vic", "Vic, assistente de vendas")
        w.topic(renamed, "tp-entrega", "Entrega | prazo", True)
        w.topic(retired, RETIRED_TOPIC, "Dia das Mães", False)
        w.tag(renamed, "tg-bug", "bug-app", True)
        w.tag(retired, RETIRED_TAG, "Procon", False)
        w.attribute_definition(renamed, "at-plano", "Plano de fidelidade", "CUSTOM")
        for a in self.agents:
            if a.leaves_day is not None:
                w.agent(
                    self.period.midnights[a.leaves_day] + noon,
                    a.agent_id,
                    f"{a.name} (conta desativada)",
                    None,
                    a.reference,
                )
            elif a.index % 17 == 5 and not a.supervisor:
                married = a.name.split(" ")[0] + " Moreira " + a.name.split(" ")[-1]
                w.agent(renamed, a.agent_id, married, a.email, a.reference)
