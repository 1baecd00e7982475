"""The surveys of one person's story (issue 17), as the app's sending would have left them: an
invitation when each level 1 or 2 episode ends, the case's utility survey `survey_utility_months`
after its last level, one reminder, answers at the market's rates, an opt-out now and then.

Only people who agreed to be asked get any; one with no e-mail is « non contactable » (there is
no SMS channel). The draws come from a generator of their own, so that the rest of the dataset
is the same with or without the surveys."""

import json
import random
from datetime import datetime, timedelta

from app.demo.survey_answers import RESPONSE_RATE, AnswerDrawer, answer_delay
from app.models.surveys import SurveyKind, SurveyStatus
from app.services.surveys.invitations import months_after
from app.synthetic import tables as T
from app.synthetic.shares import PHONE_ONLY, SURVEY_CONSENT, SURVEY_OPT_OUT, SURVEY_PARTIAL

END_OF_LEVEL = {1: SurveyKind.END_LEVEL_1.value, 2: SurveyKind.END_LEVEL_2.value}
UTILITY = SurveyKind.UTILITY.value
SCHEDULED, SENT, ANSWERED = (s.value for s in (SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.ANSWERED))  # fmt: skip
UNREACHABLE, OPTED_OUT = SurveyStatus.UNREACHABLE.value, SurveyStatus.OPTED_OUT.value
EMAIL = "email"
MINUTE = timedelta(minutes=1)
WAIT = timedelta(days=1) - 5 * MINUTE  # a utility survey put off by the worker's last pass


class SurveyTeller:
    """Collects a person's level episodes as their cases are told, then writes their surveys.

    An ended episode is (ended_at, episode id, case id, level, site id, counsellor id, ask,
    started_at): `ask` is false when its end asks nobody's opinion (only the utility survey
    counts it)."""

    def __init__(self, world, rng: random.Random, ids, now: datetime, settings):
        self.world = world
        self.rng = rng
        self.invitation_id = ids["survey_invitations"]
        self.response_id = ids["survey_responses"]
        self.now = now
        self.months = settings.survey_utility_months
        self.delays = {
            "reminder_days": settings.survey_reminder_days,
            "link_days": settings.survey_link_days,
        }
        self.reminder = timedelta(days=settings.survey_reminder_days)
        self.questionnaire = {kind: id_ for kind, (id_, _) in world.questionnaires.items()}
        self.drawers = {
            kind: AnswerDrawer(kind, questions)
            for kind, (_, questions) in world.questionnaires.items()
        }
        self.ended: list[tuple] = []
        self.running: dict[int, datetime] = {}  # case id → start of a level still under way

    def reach(self) -> tuple[bool, bool]:
        """Whether the next person agrees to be asked, and whether they give an e-mail."""
        return self.rng.random() < SURVEY_CONSENT, self.rng.random() >= PHONE_ONLY

    def episode_ended(self, case_id, episode_id, code, started_at, ended_at, site_id, counsellor_id, ask) -> None:  # fmt: skip
        level = self.world.levels[code]
        if level in END_OF_LEVEL:
            self.ended.append((ended_at, episode_id, case_id, level, site_id, counsellor_id, ask, started_at))  # fmt: skip

    def level_running(self, case_id: int, code: str, started_at: datetime) -> None:
        """A level 1 or 2 unit still under way at "now": the case's utility survey waits."""
        if self.world.levels[code] in END_OF_LEVEL:
            self.running[case_id] = min(self.running.get(case_id, started_at), started_at)

    def person(
        self, batch, beneficiary_id: int, agreed_at: datetime | None, email: bool
    ) -> tuple[datetime | None, datetime | None]:
        """Write the person's surveys; returns (survey_consent_at, survey_opt_out_at)."""
        ended, self.ended = self.ended, []
        running, self.running = self.running, {}
        if agreed_at is None or not ended:
            return agreed_at, None
        planned = self._plan(sorted(ended), running)
        planned.sort(key=lambda p: (p[0], p[3][1], p[2]))
        surveys = [self._survey(*plan, email) for plan in planned]
        opted_out = self._opt_out(surveys)
        for survey in surveys:
            if opted_out is None or survey.created < opted_out:
                self._write(batch, beneficiary_id, survey)
        # The opt-out link clears the agreement and records when.
        return (None, opted_out) if opted_out else (agreed_at, None)

    def _plan(self, ended: list[tuple], running: dict[int, datetime]) -> list[tuple]:
        """(due, created, kind, episode): one survey per ended level, and per case the utility
        survey of its last level-2 episode, else level-1 one. A later level moves the waiting
        utility survey to itself (one falling due while the person is back in a level waits for
        its end); once one was sent, the later level gets one of its own."""
        planned = [(e[0], e[0], END_OF_LEVEL[e[3]], e) for e in ended if e[6]]
        by_case: dict[int, list[tuple]] = {}
        for episode in ended:
            by_case.setdefault(episode[2], []).append(episode)
        for episodes in by_case.values():
            anchor, created = episodes[0], episodes[0][0]
            for episode in episodes[1:]:
                if episode[3] < anchor[3]:
                    continue
                due = months_after(anchor[0], self.months)
                if due <= episode[7]:  # sent before the person came back to a level
                    planned.append((due, created, UTILITY, anchor))
                    created = episode[0]
                anchor = episode
            due = months_after(anchor[0], self.months)
            back = running.get(anchor[2])
            if back is not None and back < due <= self.now:
                due = self.now + WAIT  # the worker looks again the next day
            planned.append((due, created, UTILITY, anchor))
        return planned

    def _survey(self, due, created, kind, episode, email) -> "_Survey":
        """One invitation as the sending, the reminder and the person made it."""
        rng, now = self.rng, self.now
        survey = _Survey(due, created, kind, episode)
        if due > now:
            return survey  # the worker will send it when it is due
        if not email:
            survey.status = UNREACHABLE
            return survey
        # End of level: sent as the episode ends; utility: by the worker's next pass.
        sent = min(due + rng.randint(1, 15) * MINUTE if kind == UTILITY else due, now)
        survey.status, survey.channel, survey.sent = SENT, EMAIL, sent
        survey.nonce = f"{rng.getrandbits(128):032x}"
        reminder = sent + self.reminder + rng.randint(1, 15) * MINUTE
        level = episode[3]
        if rng.random() < RESPONSE_RATE[kind]:
            at = sent + answer_delay(rng, **self.delays)
            if at <= now:
                survey.status, survey.answered, survey.nonce = ANSWERED, at, None
                survey.answers = self.drawers[kind].draw(rng, level)
        if reminder <= now and (survey.answered is None or survey.answered > reminder):
            survey.reminded = reminder
        if survey.answered is None and rng.random() < SURVEY_PARTIAL:
            started = sent + answer_delay(rng, **self.delays)
            if started <= now:  # opened, the first answer saved, never submitted
                survey.started = started
                survey.answers = self.drawers[kind].draw(rng, level)
        return survey

    def _opt_out(self, surveys: list["_Survey"]) -> datetime | None:
        """Now and then a person follows the opt-out link of the first survey they receive:
        every survey of theirs still to come or to answer is closed at once, and nothing is
        asked about a level ended since (the app's opt-out)."""
        if self.rng.random() >= SURVEY_OPT_OUT:
            return None
        first = next((s for s in surveys if s.sent is not None), None)
        at = first.sent + self.rng.randint(10, 5 * 24 * 60) * MINUTE if first else None
        if at is None or at > self.now:
            return None
        for survey in surveys:
            if survey.answered is not None and survey.answered <= at:
                continue
            if survey.status == UNREACHABLE and survey.due <= at:
                continue
            survey.status, survey.nonce, survey.answered, survey.answers = OPTED_OUT, None, None, None  # fmt: skip
            if survey.sent is not None and survey.sent > at:
                survey.sent, survey.channel = None, ""  # due after the opt-out: never sent
            if survey.reminded is not None and survey.reminded > at:
                survey.reminded = None
        return at

    def _write(self, batch, beneficiary_id: int, survey: "_Survey") -> None:
        _ended, episode_id, case_id, level, site_id, counsellor_id, *_ = survey.episode
        invitation_id = self.invitation_id()
        kind = survey.kind
        questionnaire_id = self.questionnaire[kind] if survey.sent is not None else None
        batch.add(T.SURVEY_INVITATIONS, (
            invitation_id, self.world.operator_id, case_id, beneficiary_id, episode_id, kind,
            level, site_id, counsellor_id, survey.status, survey.due, survey.channel,
            questionnaire_id, survey.sent, survey.reminded, survey.answered, survey.nonce,
            survey.created, _positive(kind, survey.answers) if survey.answered and survey.answers else None,
        ))  # fmt: skip
        if survey.answers is None:
            return
        if survey.answered is not None:
            self._response(batch, invitation_id, kind, survey.answers, survey.answered)
        elif survey.started is not None:
            self._partial(batch, invitation_id, kind, survey.answers, survey.started)

    def _response(self, batch, invitation_id: int, kind: str, drawn, at: datetime) -> None:
        started = at - self.rng.randint(1, 6) * MINUTE
        batch.add(T.SURVEY_RESPONSES, (
            self.response_id(), self.world.operator_id, invitation_id, self.questionnaire[kind],
            json.dumps(drawn.answers, ensure_ascii=False), drawn.comment, drawn.satisfied,
            drawn.useful, started, at, at,
        ))  # fmt: skip

    def _partial(self, batch, invitation_id: int, kind: str, drawn, started: datetime) -> None:
        """Opened, the first answer saved, never submitted: nothing counts yet."""
        first = dict(list(drawn.answers.items())[:1])
        updated = min(started + self.rng.randint(0, 2) * MINUTE, self.now)
        batch.add(T.SURVEY_RESPONSES, (
            self.response_id(), self.world.operator_id, invitation_id, self.questionnaire[kind],
            json.dumps(first, ensure_ascii=False), "", None, None, started, updated, None,
        ))  # fmt: skip


class _Survey:
    """One invitation being told: what the sending, the reminder and the person did."""

    __slots__ = ("due", "created", "kind", "episode", "status", "channel", "sent", "reminded",
                 "answered", "nonce", "answers", "started")  # fmt: skip

    def __init__(self, due: datetime, created: datetime, kind: str, episode: tuple):
        self.due, self.created, self.kind, self.episode = due, created, kind, episode
        self.status, self.channel = SCHEDULED, ""
        self.sent = self.reminded = self.answered = self.nonce = self.answers = self.started = None


def _positive(kind: str, drawn) -> bool | None:
    """The figure the invitation keeps for the results: as `answers.py` copies it."""
    return drawn.useful if kind == UTILITY else drawn.satisfied
