"""One beneficiary's story, written as rows: the person, their triage requests, cases,
episodes, interactions, appointments, deliverables, referrals and surveys.

Stories are told in order with one random generator, so that a seed gives the same data. Each
table's rows go to a Batch that the generator writes (parents first) every few thousand people.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from app.demo.content import (
    AGES,
    FEMALE_NAMES,
    FIRST_ADVICE,
    LAST_NAMES,
    MALE_NAMES,
    REDIRECT_ADVICE,
)
from app.models.consents import ConsentPurpose
from app.models.fields import search_key
from app.services.privacy.consent_texts import CURRENT
from app.synthetic import tables as T
from app.synthetic.case_story import CaseStory
from app.synthetic.naming import slug
from app.synthetic.shares import (
    CHANNEL,
    CLOSE_NOTES,
    DIPLOMA,
    HOUR,
    MOTIVE,
    NAF,
    PCS,
    PENDING_ONLY,
    PROFILE,
    REDIRECT_REASONS,
    REDIRECTED,
    REDIRECTED_TO,
    REQUESTS,
    RQTH,
    SECOND_CASE,
    SEX,
    SIZE,
    STATUS,
    TRIAGED,
)
from app.synthetic.surveys import SurveyTeller
from app.synthetic.world import OperatorWorld


@dataclass
class Batch:
    """Rows waiting to be written, table by table."""

    rows: dict[str, list[tuple]] = field(
        default_factory=lambda: {t.name: [] for t in T.STORY_TABLES}
    )

    def add(self, table, row: tuple) -> None:
        self.rows[table.name].append(row)

    def size(self) -> int:
        return sum(len(rows) for rows in self.rows.values())


class Storyteller:
    """Tells the stories of one operator's beneficiaries, allocating every id itself."""

    def __init__(
        self, world: OperatorWorld, rng: random.Random, ids, now: datetime, surveys: SurveyTeller
    ):
        self.world = world
        self.rng = rng
        self.ids = ids  # table name → next-id function
        self.now = now
        self.surveys = surveys
        self.clock = world.clock
        self.today = self.clock.day_of(now)
        self.beneficiary_name = ""

    # ---- people ---------------------------------------------------------------------------

    def person(self, batch: Batch) -> None:
        rng, world = self.rng, self.world
        beneficiary_id = self.ids["beneficiaries"]()
        sex = SEX(rng)
        female = sex == "F" or (sex == "NR" and rng.random() < 0.5)
        first = rng.choice(FEMALE_NAMES if female else MALE_NAMES)
        last = rng.choice(LAST_NAMES)
        self.beneficiary_name = f"{first} {last.upper()}"
        agrees, gives_email = self.surveys.reach()
        email = f"{slug(first)}.{slug(last)}.{beneficiary_id}@beneficiaires.synthetique.example"
        email = email if gives_email else None
        phone = f"+33{rng.choice('67')}{rng.randrange(10**8):08d}"
        if rng.random() < PENDING_ONLY:
            first_contact = self._pending_request(batch, beneficiary_id)
        else:
            first_contact = self._cases(batch, beneficiary_id)
        status = STATUS(rng)
        profile = {
            "pcs": PCS(rng),
            "naf_section": NAF(rng),
            "company_size": SIZE(rng),
        } | PROFILE.get(status, {})
        consent_at = first_contact if rng.random() < 0.95 else None
        survey_consent_at, survey_opt_out_at = self.surveys.person(
            batch, beneficiary_id, first_contact if agrees else None, email is not None
        )
        digits = "0" + phone[3:]
        batch.add(T.BENEFICIARIES, (
            beneficiary_id, world.operator_id, first, last, email, phone,
            rng.choice(world.postcodes), consent_at, survey_consent_at, survey_opt_out_at, None, sex,
            self.now.year - rng.choice(AGES), status,
            profile["pcs"], profile["naf_section"], profile["company_size"], DIPLOMA(rng),
            RQTH(rng), None, search_key(first, last, email, phone, digits)[:600], first_contact,
            first_contact,
        ))  # fmt: skip
        self._consents(batch, beneficiary_id, consent_at, agrees and first_contact)
        if survey_opt_out_at is not None:
            self.consent(batch, beneficiary_id, "surveys", False, survey_opt_out_at, "survey_link")

    def _consents(self, batch: Batch, beneficiary_id: int, processing, surveys) -> None:
        """What the person agreed to at first contact, as the counsellor recorded it."""
        if processing:
            self.consent(batch, beneficiary_id, "processing", True, processing)
        if surveys:
            self.consent(batch, beneficiary_id, "surveys", True, surveys)

    def consent(
        self, batch: Batch, beneficiary_id: int, purpose: str, given: bool, at: datetime,
        channel: str = "interview", partner_id: int | None = None,
    ) -> None:  # fmt: skip
        shown = CURRENT[ConsentPurpose(purpose)]
        batch.add(T.CONSENT_RECORDS, (
            self.ids["consent_records"](), self.world.operator_id, beneficiary_id, purpose,
            partner_id, given, shown.code, shown.version, channel, at, None,
        ))  # fmt: skip

    def _pending_request(self, batch: Batch, beneficiary_id: int) -> datetime:
        rng = self.rng
        day = max(0, self.today - rng.randint(0, 10))
        received = min(self.clock.moment(day, rng.randint(480, 1080)), self.now - HOUR)
        assignee = rng.choice(self.world.counsellors) if rng.random() < 0.5 else None
        motive = MOTIVE(rng)
        batch.add(T.TRIAGE_REQUESTS, (
            self.ids["triage_requests"](), self.world.operator_id, beneficiary_id,
            rng.choice(self.world.sites), assignee, received, CHANNEL(rng), motive,
            rng.choice(REQUESTS[motive]), "", "actif_prive", "pending", None, "", None, None,
            None,
        ))  # fmt: skip
        return received

    def _cases(self, batch: Batch, beneficiary_id: int) -> datetime:
        """One case, sometimes a second one later; returns the first contact."""
        rng = self.rng
        # Activity grows a little over the years: later days are drawn a bit more often.
        day = int(self.today * rng.random() ** 0.85)
        day = max(7, min(day, self.today - 3))
        first_contact, closed_at = self._case(batch, beneficiary_id, day)
        if closed_at is not None and rng.random() < SECOND_CASE:
            again = self.clock.day_of(closed_at) + rng.randint(30, 400)
            if again < self.today - 3:
                self._case(batch, beneficiary_id, again)
        return first_contact

    # ---- one case -------------------------------------------------------------------------

    def _case(
        self, batch: Batch, beneficiary_id: int, day: int
    ) -> tuple[datetime, datetime | None]:
        """A case opened on local day `day`; returns (first contact, closing or None)."""
        rng, world, clock = self.rng, self.world, self.clock
        referent = rng.choice(world.counsellors)
        site_id = world.home_site[referent]
        day = clock.next_workday(day)
        opened_at = clock.moment(day, rng.randint(540, 1050))
        case_id = self.ids["cases"]()
        motive = MOTIVE(rng)
        request_text = rng.choice(REQUESTS[motive])
        channel = CHANNEL(rng)
        story = CaseStory(self, batch, case_id, beneficiary_id, referent, site_id, opened_at)
        redirected = rng.random() < REDIRECTED
        triage_id = None
        first_contact = opened_at
        if redirected or rng.random() < TRIAGED:
            received_at = opened_at - timedelta(days=rng.randint(0, 6), minutes=rng.randint(5, 300))
            first_contact = received_at
            triage_id = self.ids["triage_requests"]()
            situation, redirection = (
                rng.choice(REDIRECTED_TO) if redirected else ("actif_prive", None)
            )
            batch.add(T.TRIAGE_REQUESTS, (
                triage_id, world.operator_id, beneficiary_id, site_id, referent, received_at,
                channel, motive, request_text,
                REDIRECT_ADVICE[redirection] if redirected else rng.choice(FIRST_ADVICE),
                situation, "redirected" if redirected else "case_opened", redirection,
                REDIRECT_REASONS[situation] if redirected else "", case_id, referent, opened_at,
            ))  # fmt: skip
            story.episode("UO0", received_at, opened_at, "Demande réorientée" if redirected else "Rendez-vous proposé")  # fmt: skip
        if redirected:
            closed_at, reason = opened_at, "reoriente"
            note = REDIRECT_REASONS[situation]
        else:
            story.play(triage_id)
            closed_at, reason = story.closing()
            note = CLOSE_NOTES.get(reason, "") if reason else ""
            story.close_running(closed_at, reason)
        reference = f"{world.code}-{opened_at.year}-{case_id:06d}"
        story.write_proofs(reference, request_text)
        batch.add(T.CASES, (
            case_id, world.operator_id, reference, beneficiary_id, site_id, referent, channel,
            motive, request_text, "closed" if closed_at else "open", reason, note, opened_at,
            closed_at, max(story.last_activity, closed_at or opened_at), first_contact,
            story.first_appointment, story.level_started.get(1), story.level_started.get(2),
            story.level_started.get(1),
        ))  # fmt: skip
        return first_contact, closed_at
