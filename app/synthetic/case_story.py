"""One case's events, from its first interview to its closing: episodes, interactions (in a
unit or hors UO), appointments on the referent's calendar, referrals and issued proofs."""

import json
from datetime import datetime, timedelta

from app.demo.content import OUTCOMES, PRIVATE_NOTES, SUMMARIES
from app.demo.documents import EXTRA_TEXTS
from app.demo.referrals import DECLINE_REASON, OUTCOME_NOTE, PURPOSES, SCRIPTS
from app.models.nomenclatures import CloseReason
from app.synthetic import tables as T
from app.synthetic.shares import (
    ACKNOWLEDGED,
    BY_APPOINTMENT,
    CANCELLED,
    CHANNEL_LABEL,
    CLOSE,
    CLOSES,
    DAY,
    DROP_OUT,
    EXCUSED,
    HORS,
    LEVEL_1,
    LEVEL_2,
    LEVEL_2_2,
    MODE,
    NO_SHOW,
    PLAN,
    PROOF_RATE,
    REFERRED,
    SHAPES,
)
from app.synthetic.world import pick_count

UNREACHABLE = CloseReason.UNREACHABLE.value


class CaseStory:
    """The events of one case, from its first interview to its closing."""

    def __init__(self, teller, batch, case_id, beneficiary_id, referent, site_id, opened_at):  # fmt: skip
        self.t = teller
        self.rng = teller.rng
        self.world = teller.world
        self.batch = batch
        self.case_id = case_id
        self.beneficiary_id = beneficiary_id
        self.referent = referent
        self.site_id = site_id
        self.opened_at = opened_at
        self.last_activity = opened_at
        # Kept on the case as the app's session events keep it (app/models/case_firsts.py).
        self.first_appointment: datetime | None = None
        # The start of the first episode of each level; a level-1 episode starts with its first
        # interview, so that start is the case's first level-1 interview too.
        self.level_started: dict[int, datetime] = {}
        self.running: list[list] = []  # episodes not yet written: [id, code, start, end, outcome]
        self.ended: list[tuple] = []  # (episode id, unit code, ended_at, interactions)
        self.stopped = False  # the story reached "now"
        self.cursor = teller.clock.day_of(opened_at)

    # ---- episodes --------------------------------------------------------------------------

    def episode(self, code: str, started: datetime, ended: datetime | None, outcome: str) -> int:
        episode_id = self.t.ids["episodes"]()
        self.batch.add(T.EPISODES, (
            episode_id, self.world.operator_id, self.case_id, self.world.units[code], started,
            ended, outcome if ended else "", self.referent,
            None,  # no lot: the generated operators have none (outside any market)
            None, None,  # never cancelled
        ))  # fmt: skip
        return episode_id

    def play(self, triage_id: int | None) -> None:
        """N1 for nearly every case, N2 for a minority, a referral sometimes, hors UO contacts."""
        rng = self.rng
        if rng.random() < LEVEL_1:
            self.unit("UO1", sessions=1 + pick_count(rng, (15, 35, 35, 15)), triage_id=triage_id)
            if not self.stopped and rng.random() > DROP_OUT and rng.random() < LEVEL_2:
                self.cursor += rng.randint(5, 30)
                self.unit("UO2.1", sessions=rng.randint(2, 5))
                if not self.stopped and rng.random() < LEVEL_2_2:
                    self.cursor += rng.randint(10, 40)
                    self.unit("UO2.2", sessions=rng.randint(1, 4))
            if rng.random() < REFERRED:
                self.referral()
        for _ in range(pick_count(rng, (62, 30, 8))):
            self.hors_uo()

    def unit(self, code: str, *, sessions: int, triage_id: int | None = None) -> None:
        """Start a unit, hold its sessions, end it (unless the story reaches today first)."""
        rng, clock = self.rng, self.t.clock
        episode_id = None
        started = None
        interactions = []
        for index in range(sessions):
            self.cursor += rng.randint(2, 21) if index == 0 else rng.randint(7, 25)
            kind = code if index == 0 else f"suivi {code}"
            moment = self.session(kind, code, triage_id if index == 0 else None)
            if moment is None:
                break
            if episode_id is None:
                episode_id = self.t.ids["episodes"]()
                started = moment[0]
                self.level_started.setdefault(self.world.levels[code], started)
            self._interaction((episode_id, self.world.units[code]), kind, *moment, interactions)
        if episode_id is None:
            return
        end_day = self.cursor + rng.randint(1, 10)
        ended = clock.moment(end_day, rng.randint(540, 1080)) if end_day < self.t.today else None
        self.running.append([episode_id, code, started, ended, OUTCOMES[code]])
        if ended is None:
            self.stopped = True
        else:
            self.ended.append((episode_id, code, ended, interactions))
            self.last_activity = max(self.last_activity, ended)
            self.cursor = end_day

    def session(self, kind: str, code: str, triage_id):
        """When and how an interview happens: (moment, minutes, channel, motif, slot, triage
        request), on a slot of the referent's calendar when it was by appointment (motif and
        slot are None otherwise); None when its day is still to come."""
        rng, t = self.rng, self.t
        minutes, channels = SHAPES[kind]
        motif = self.world.appointment_kinds.get(code)
        if motif is not None and rng.random() < BY_APPOINTMENT:
            calendar = self.world.calendar(self.referent)
            if rng.random() < NO_SHOW + EXCUSED:
                missed = calendar.book(rng, self.cursor)
                if missed is not None and missed[0] < t.today:
                    status = (
                        "no_show" if rng.random() < NO_SHOW / (NO_SHOW + EXCUSED) else "excused"
                    )
                    self.appointment(motif, missed, status, triage_id)
                    self.cursor = missed[0] + rng.randint(3, 10)
            if rng.random() < CANCELLED:
                self.cancelled(motif, triage_id)
            slot = calendar.book(rng, self.cursor)
            if slot is not None:
                self.cursor = slot[0]
                if slot[0] >= t.today:
                    self.appointment(motif, slot, "booked", triage_id)
                    self.stopped = True
                    return None
                channel = channels(rng)
                if channel == "email":
                    channel = "telephone"
                return (t.clock.moment(*slot), motif.minutes, channel, motif, slot, triage_id)
        self.cursor = t.clock.next_workday(self.cursor)
        if self.cursor >= t.today:
            self.stopped = True
            return None
        moment = t.clock.moment(self.cursor, rng.randint(540, 1050))
        return (moment, rng.choice(minutes), channels(rng), None, None, None)

    def _interaction(self, within, kind, moment, minutes, channel, motif, slot, triage_id, collected):  # fmt: skip
        """An interaction `within` (episode id, unit id), or hors UO when both are None."""
        interaction_id = self.t.ids["interactions"]()
        summary = self.rng.choice(SUMMARIES[kind])
        episode_id, unit_id = within
        self.batch.add(T.INTERACTIONS, (
            interaction_id, self.world.operator_id, self.case_id, episode_id, unit_id,
            self.beneficiary_id, self.referent,
            moment, minutes, channel, summary, self.rng.choice(PRIVATE_NOTES),
            moment + timedelta(minutes=minutes + 5),
        ))  # fmt: skip
        collected.append((moment, channel, summary))
        self.last_activity = max(self.last_activity, moment + timedelta(minutes=minutes))
        if motif is not None:
            self.appointment(motif, slot, "honoured", triage_id, interaction_id, channel)

    def hors_uo(self) -> None:
        """A short contact outside any unit (hors UO), some time during the case."""
        rng, t = self.rng, self.t
        start = t.clock.day_of(self.opened_at)
        day = t.clock.next_workday(rng.randint(start, max(start, self.cursor)))
        if day >= t.today:
            return
        kind = rng.choice(HORS)
        minutes, channels = SHAPES[kind]
        moment = t.clock.moment(day, rng.randint(540, 1050))
        self._interaction((None, None), kind, moment, rng.choice(minutes), channels(rng), None, None, None, [])  # fmt: skip

    # ---- appointments ----------------------------------------------------------------------

    def appointment(self, motif, slot, status, triage_id, interaction_id=None, channel=None):
        rng, t, world = self.rng, self.t, self.world
        appointment_id = t.ids["appointments"]()
        starts = t.clock.moment(*slot)
        ends = starts + timedelta(minutes=motif.minutes)
        if status != "cancelled":
            self.first_appointment = min(starts, self.first_appointment or starts)
        mode = (
            MODE.get(channel) if channel else rng.choice(("on_site", "on_site", "video", "phone"))
        )
        online = rng.random() < 0.3
        created = max(starts - timedelta(days=rng.randint(2, 20), hours=rng.randint(0, 8)), self.opened_at)  # fmt: skip
        created = min(created, t.now)
        reminder = starts - DAY if status != "booked" or starts - DAY < t.now else None
        cancelled_at = None
        if status == "cancelled":
            cancelled_at = min(created + (starts - created) / 2, t.now)
            reminder = None
        self.batch.add(T.APPOINTMENTS, (
            appointment_id, world.operator_id, f"RDV-{world.code}-{appointment_id:06d}",
            motif.id, self.referent, self.site_id if mode == "on_site" else None, mode, starts,
            ends, ends + timedelta(minutes=motif.buffer), status, self.beneficiary_id,
            triage_id, self.case_id, interaction_id, "online" if online else "staff",
            None if online else self.referent, "", "", "", None,
            f"synthetique-{appointment_id}@filrouge", 1 if cancelled_at else 0, "", reminder,
            cancelled_at, "", created, cancelled_at or max(created, min(starts, t.now)),
        ))  # fmt: skip

    def cancelled(self, motif, triage_id) -> None:
        """A booking the person cancelled: its slot was freed, so it takes none here."""
        day = self.t.clock.next_workday(self.cursor)
        if day < self.t.today:
            slot = (day, self.rng.choice((9 * 60, 10 * 60 + 30, 13 * 60 + 30)))
            self.appointment(motif, slot, "cancelled", triage_id)

    # ---- referrals -------------------------------------------------------------------------

    def referral(self) -> None:
        rng, t, world = self.rng, self.t, self.world
        if not world.partners:
            return
        day = t.clock.next_workday(self.cursor - rng.randint(0, 10))
        if day >= t.today:
            return
        created = t.clock.moment(day, rng.randint(540, 1050))
        partner_id, partner_type = rng.choice(world.partners)
        script = rng.choice(SCRIPTS)
        referral_id = t.ids["referrals"]()
        events = [(None, "proposed", created)]
        status, previous = "proposed", "proposed"
        stamps = {"sent": None, "answered": None, "closed": None}
        for target, days in script:
            at = created + timedelta(days=days, minutes=10)
            if at >= t.now:
                break
            events.append((previous, target, at))
            previous = status = target
            if target == "sent":
                stamps["sent"] = at
            if target in ("accepted", "declined"):
                stamps["answered"] = at
            if target in ("declined", "completed", "abandoned", "expired"):
                stamps["closed"] = at
        updated = events[-1][2]
        outcome = "achieved" if status == "completed" else None
        self.batch.add(T.REFERRALS, (
            referral_id, world.operator_id, self.case_id, partner_id,
            PURPOSES.get(partner_type, "Information et accompagnement du partenaire."),
            "Coordonnées et objet de la demande.", created, None, status,
            DECLINE_REASON if status == "declined" else "", outcome,
            OUTCOME_NOTE if outcome else "", None, self.referent, created, stamps["sent"],
            stamps["answered"], stamps["closed"], updated,
        ))  # fmt: skip
        t.consent(self.batch, self.beneficiary_id, "partner_share", True, created, partner_id=partner_id)  # fmt: skip
        for from_status, to_status, at in events:
            via = "partner_link" if to_status in ("accepted", "declined", "in_progress", "completed") else "counsellor"  # fmt: skip
            via = "system" if to_status == "expired" else via
            self.batch.add(T.REFERRAL_EVENTS, (
                t.ids["referral_events"](), world.operator_id, referral_id, from_status,
                to_status, at, self.referent if via == "counsellor" else None, via, "",
            ))  # fmt: skip
        self.last_activity = max(self.last_activity, updated)

    # ---- closing and proofs ----------------------------------------------------------------

    def closing(self) -> tuple[datetime | None, str | None]:
        """Most cases close some weeks after their last event; recent ones are still open."""
        rng, t = self.rng, self.t
        if self.stopped or rng.random() > CLOSES:
            return None, None
        day = t.clock.day_of(self.last_activity) + rng.randint(5, 45)
        if day >= t.today:
            return None, None
        closed = max(t.clock.moment(day, rng.randint(540, 1080)), self.last_activity)
        return closed, CLOSE(rng)

    def close_running(self, closed_at: datetime | None, reason: str | None) -> None:
        """Write the episodes; closing a case ends the units still running (as the app does).
        The surveys hear of every level that ended; nobody is asked about a unit ended by
        closing the case of a person who could not be reached (the app's rule)."""
        for episode_id, code, started, ended, outcome in self.running:
            ask = True
            if ended is None and closed_at is not None:
                ended = max(closed_at, started)
                ask = reason != UNREACHABLE
            if ended is not None:
                self.t.surveys.episode_ended(
                    self.case_id, episode_id, code, started, ended, self.site_id, self.referent,
                    ask,
                )  # fmt: skip
            else:
                self.t.surveys.level_running(self.case_id, code, started)
            self.batch.add(T.EPISODES, (
                episode_id, self.world.operator_id, self.case_id, self.world.units[code],
                started, ended, outcome if ended else "", self.referent, None, None, None,
            ))  # fmt: skip

    def write_proofs(self, reference: str, request_text: str) -> None:
        rng, t, world = self.rng, self.t, self.world
        for episode_id, code, ended, interactions in self.ended:
            if rng.random() > PROOF_RATE:
                continue
            for kind in world.proofs.get(code, ()):
                issued = min(ended + timedelta(hours=rng.randint(1, 30)), t.now)
                sections = deliverable_sections(kind, request_text, interactions)
                deliverable_id = t.ids["deliverables"]()
                self.batch.add(T.DELIVERABLES, (
                    deliverable_id, world.operator_id, self.case_id, kind.id, episode_id,
                    kind.label, json.dumps(sections, ensure_ascii=False),
                    kind.includes_action_plan, "issued", 1, self.referent, ended, issued,
                ))  # fmt: skip
                content = {
                    "title": kind.label,
                    "kind_label": kind.label,
                    "version": 1,
                    "operator_name": world.name,
                    "site_name": world.site_names[self.site_id],
                    "case_reference": reference,
                    "beneficiary_name": t.beneficiary_name,
                    "counsellor_name": world.counsellor_names[self.referent],
                    "issued_at": issued.isoformat(),
                    "time_zone": world.time_zone,
                    "sections": [{"title": s["title"], "body": s["body"]} for s in sections],
                    "action_plan": PLAN if kind.includes_action_plan else None,
                }
                acknowledged = issued + timedelta(hours=rng.randint(2, 72))
                acknowledged = acknowledged if rng.random() < ACKNOWLEDGED and acknowledged < t.now else None  # fmt: skip
                version_id = t.ids["deliverable_versions"]()
                self.batch.add(T.DELIVERABLE_VERSIONS, (
                    version_id, world.operator_id, deliverable_id, 1,
                    json.dumps(content, ensure_ascii=False), kind.storage_key, kind.sha256, kind.size_bytes, issued,
                    self.referent, min(issued + timedelta(minutes=5), t.now), None,
                    None, None, None,  # link_nonce and revocation: links from before nonces
                    None, None,  # not handed over in person: e-mailed
                    acknowledged, "online" if acknowledged else None, None,
                    None,  # file_deleted_at: the file is there
                    -version_id,  # feed_seq: numbered in issue order once all are written
                ))  # fmt: skip
                self.last_activity = max(self.last_activity, issued)


def deliverable_sections(kind, request_text: str, interactions: list) -> list[dict]:
    """The sections a kind prints, pre-filled as the app does (see prefilled_sections)."""
    sections = []
    if kind.includes_request:
        sections.append({"key": "demande", "title": "Votre demande", "body": request_text})
    if kind.includes_interactions:
        body = "\n\n".join(
            f"Entretien du {moment:%d/%m/%Y} ({CHANNEL_LABEL[channel]}) : {summary}"
            for moment, channel, summary in interactions
        )
        sections.append({"key": "entretiens", "title": "Ce que nous avons travaillé ensemble", "body": body})  # fmt: skip
    for position, title in enumerate(kind.extra_titles):
        sections.append({"key": f"libre-{position + 1}", "title": title, "body": EXTRA_TEXTS.get(title, "")})  # fmt: skip
    return sections
