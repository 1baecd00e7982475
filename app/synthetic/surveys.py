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
from app.demo.surveys import months_after
from app.models.surveys import SurveyKind, SurveyStatus
from app.synthetic import tables as T
from app.synthetic.shares import PHONE_ONLY, SURVEY_CONSENT, SURVEY_OPT_OUT, SURVEY_PARTIAL

END_OF_LEVEL = {1: SurveyKind.END_LEVEL_1.value, 2: SurveyKind.END_LEVEL_2.value}
UTILITY = SurveyKind.UTILITY.value
SCHEDULED, SENT, ANSWERED = (s.value for s in (SurveyStatus.SCHEDULED, SurveyStatus.SENT, SurveyStatus.ANSWERED))  # fmt: skip
UNREACHABLE, OPTED_OUT = SurveyStatus.UNREACHABLE.value, SurveyStatus.OPTED_OUT.value
EMAIL = "email"
MINUTE = timedelta(minutes=1)


class SurveyTeller:
    """Collects a person's level episodes as their cases are told, then writes their surveys.

    An ended episode is (ended_at, episode id, case id, level, site id, counsellor id)."""

    def __init__(self, world, rng: random.Random, ids, now: datetime, settings):
        self.world = world
        self.rng = rng
        self.invitation_id = ids["survey_invitations"]
        self.response_id = ids["survey_responses"]
        self.now = now
        self.months = settings.survey_utility_months
        self.reminder_days = settings.survey_reminder_days
        self.link_days = settings.survey_link_days
        self.reminder = timedelta(days=settings.survey_reminder_days)
        self.questionnaire = {kind: id_ for kind, (id_, _) in world.questionnaires.items()}
        self.drawers = {
            kind: AnswerDrawer(kind, questions)
            for kind, (_, questions) in world.questionnaires.items()
        }
        self.ended: list[tuple] = []

    def reach(self) -> tuple[bool, bool]:
        """Whether the next person agrees to be asked, and whether they give an e-mail."""
        return self.rng.random() < SURVEY_CONSENT, self.rng.random() >= PHONE_ONLY

    def episode_ended(self, case_id, episode_id, code, ended_at, site_id, counsellor_id) -> None:
        level = self.world.levels[code]
        if level in END_OF_LEVEL:
            self.ended.append((ended_at, episode_id, case_id, level, site_id, counsellor_id))

    def person(
        self, batch, beneficiary_id: int, agreed_at: datetime | None, email: bool
    ) -> tuple[datetime | None, datetime | None]:
        """Write the person's surveys; returns (survey_consent_at, survey_opt_out_at)."""
        ended, self.ended = self.ended, []
        if agreed_at is None or not ended:
            return agreed_at, None
        planned = self._plan(sorted(ended))
        planned.sort(key=lambda p: (p[0], p[3][1], p[2]))
        leaves = self.rng.random() < SURVEY_OPT_OUT
        opted_out = None
        for due, created, kind, episode in planned:
            if opted_out is not None and created >= opted_out:
                continue  # the episode ended after the opt-out: nobody asks any more
            left = self._invitation(
                batch, beneficiary_id, due, created, kind, episode, email, opted_out,
                leaving=leaves and opted_out is None,
            )  # fmt: skip
            opted_out = opted_out or left
        # The opt-out link clears the agreement and records when.
        return (None, opted_out) if opted_out else (agreed_at, None)

    def _plan(self, ended: list[tuple]) -> list[tuple]:
        """(due, created, kind, episode): one survey per ended level, and per case the utility
        survey of its last level-2 episode, else level-1 one. A later level moves the waiting
        utility survey to itself; once that was sent, the later level gets one of its own."""
        planned = [(e[0], e[0], END_OF_LEVEL[e[3]], e) for e in ended]
        by_case: dict[int, list[tuple]] = {}
        for episode in ended:
            by_case.setdefault(episode[2], []).append(episode)
        for episodes in by_case.values():
            anchor, created = episodes[0], episodes[0][0]
            for episode in episodes[1:]:
                if episode[3] < anchor[3]:
                    continue
                due = months_after(anchor[0], self.months)
                if due <= episode[0]:
                    planned.append((due, created, UTILITY, anchor))
                    created = episode[0]
                anchor = episode
            planned.append((months_after(anchor[0], self.months), created, UTILITY, anchor))
        return planned

    def _invitation(
        self, batch, beneficiary_id, due, created, kind, episode, email, opted_out, *, leaving
    ) -> datetime | None:
        """Write one invitation (and its answers); returns when the person opted out through
        it, if they did."""
        rng, now = self.rng, self.now
        _ended, episode_id, case_id, level, site_id, counsellor_id = episode
        invitation_id = self.invitation_id()
        status, channel, questionnaire_id = SCHEDULED, "", None
        sent = reminded = answered = nonce = left = None
        if due > now:
            pass  # the worker will send it when it is due
        elif opted_out is not None:
            status = OPTED_OUT  # due after the person opted out
        elif not email:
            status = UNREACHABLE
        else:
            # End of level: sent as the episode ends; utility: by the worker's next pass.
            sent = min(due + rng.randint(1, 15) * MINUTE if kind == UTILITY else due, now)
            status, channel, questionnaire_id = SENT, EMAIL, self.questionnaire[kind]
            nonce = f"{rng.getrandbits(128):032x}"
            reminder = sent + self.reminder + rng.randint(1, 15) * MINUTE
            if leaving:
                at = sent + rng.randint(10, 5 * 24 * 60) * MINUTE
                if at <= now:
                    left, status, nonce = at, OPTED_OUT, None
            if rng.random() < RESPONSE_RATE[kind] and left is None:
                at = sent + answer_delay(rng, reminder_days=self.reminder_days, link_days=self.link_days)  # fmt: skip
                answered = at if at <= now else None
            stopped = answered or left  # no reminder once answered, nor after an opt-out
            if reminder <= now and (stopped is None or stopped > reminder):
                reminded = reminder
            if answered is not None:
                status, nonce = ANSWERED, None
                self._response(batch, invitation_id, kind, level, answered)
            elif left is None and rng.random() < SURVEY_PARTIAL:
                self._partial(batch, invitation_id, kind, level, sent)
        batch.add(T.SURVEY_INVITATIONS, (
            invitation_id, self.world.operator_id, case_id, beneficiary_id, episode_id, kind,
            level, site_id, counsellor_id, status, due, channel, questionnaire_id, sent,
            reminded, answered, nonce, created,
        ))  # fmt: skip
        return left

    def _response(self, batch, invitation_id: int, kind: str, level: int, at: datetime) -> None:
        drawn = self.drawers[kind].draw(self.rng, level)
        started = at - self.rng.randint(1, 6) * MINUTE
        batch.add(T.SURVEY_RESPONSES, (
            self.response_id(), self.world.operator_id, invitation_id, self.questionnaire[kind],
            json.dumps(drawn.answers, ensure_ascii=False), drawn.comment, drawn.satisfied,
            drawn.useful, started, at, at,
        ))  # fmt: skip

    def _partial(self, batch, invitation_id: int, kind: str, level: int, sent: datetime) -> None:
        """Opened, the first answer saved, never submitted: nothing counts yet."""
        rng = self.rng
        started = sent + answer_delay(rng, reminder_days=self.reminder_days, link_days=self.link_days)  # fmt: skip
        if started > self.now:
            return
        first = dict(list(self.drawers[kind].draw(rng, level).answers.items())[:1])
        updated = min(started + rng.randint(0, 2) * MINUTE, self.now)
        batch.add(T.SURVEY_RESPONSES, (
            self.response_id(), self.world.operator_id, invitation_id, self.questionnaire[kind],
            json.dumps(first, ensure_ascii=False), "", None, None, started, updated, None,
        ))  # fmt: skip
