"""Demo data: two operators, their staff, ~200 beneficiaries and cases in every state.

Everything goes through the real services, so the demo exercises the same rules as the app.
Services stamp some moments with "now" (triage handling, closing); the demo moves those
moments back afterwards so that the history looks like ten months of real work.
"""

import itertools
import random
import re
import unicodedata
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, select

from app.core.errors import Conflict
from app.demo.appointments import book_next
from app.demo.availability import seed_availability
from app.demo.content import (
    _HORS_KINDS,
    AGES,
    CHANNEL_WEIGHTS,
    CLOSE_NOTES,
    CLOSE_WEIGHTS,
    CLOSED_SCRIPTS,
    CONTROL_TEAM,
    DIPLOMA_WEIGHTS,
    FEMALE_NAMES,
    FIRST_ADVICE,
    INTERACTION_SHAPES,
    LAST_NAMES,
    MALE_NAMES,
    MOTIVE_WEIGHTS,
    NAF_WEIGHTS,
    OPEN_KINDS,
    OPEN_SCRIPTS,
    OPERATOR_PLAN,
    OPERATORS,
    OUTCOMES,
    PAUSE_OUTCOME,
    PCS_WEIGHTS,
    PRIVATE_NOTES,
    REDIRECT_ADVICE,
    REDIRECT_REASONS,
    REDIRECTED,
    REQUEST_TEXTS,
    SITUATION_PROFILE,
    SIZE_WEIGHTS,
    STAFF,
    STATUS_PROFILE,
    STATUS_WEIGHTS,
    SUMMARIES,
)
from app.demo.documents import prove_episode
from app.demo.markets import seed_markets
from app.demo.partners import seed_partners
from app.demo.referrals import refer_some
from app.demo.surveys import PHONE_ONLY, ask_for_surveys, give_only_a_phone, seed_surveys
from app.demo.uo4 import seed_uo4
from app.demo.waiting_list import wait_for_a_slot
from app.models.base import utcnow
from app.models.beneficiaries import Beneficiary, BeneficiaryCreate
from app.models.cases import Case, CaseClose, Episode, EpisodeEnd, EpisodeStart, InteractionCreate
from app.models.consents import ConsentRecord
from app.models.fields import normalise_phone
from app.models.nomenclatures import (
    CepSituation,
    CloseReason,
    Role,
    Rqth,
    Sex,
)
from app.models.operators import Operator, Permanence, PermanenceStaff, Site
from app.models.outbox import OutboxMessage
from app.models.staff import StaffSite, StaffUser
from app.models.triage import TriageCreate, TriageOpenCase, TriageRedirect, TriageRequest
from app.services.access.scope import owned_by
from app.services.admin.catalogue import list_units
from app.services.admin.operators import create_operator
from app.services.admin.staff import create_staff_user
from app.services.audit.changes import changes_unrecorded
from app.services.cases.beneficiaries import create_beneficiary
from app.services.cases.episodes import end_episode, start_episode
from app.services.cases.interactions import record_interaction
from app.services.cases.lifecycle import close_case, reopen_case
from app.services.cases.triage import (
    create_request,
    open_case_from_request,
    redirect_request,
    suggest_redirection,
)

DEMO_PASSWORD = "demo-filrouge-2026"
PARIS = ZoneInfo("Europe/Paris")


@dataclass(frozen=True)
class DemoLogin:
    email: str
    password: str
    role: str
    operator: str


@dataclass
class _Team:
    """One operator's demo world: its sites, counsellors and each counsellor's home site."""

    operator: Operator
    sites: list[Site]
    counsellors: list[StaffUser] = field(default_factory=list)
    home_site: dict[int, int] = field(default_factory=dict)


@dataclass
class _Ctx:
    session: Session
    rng: random.Random
    today: date
    units: dict[str, int]
    serial: itertools.count
    phones: set[str] = field(default_factory=set)
    # Proofs draw from their own generator so that they don't shift the rest of the demo.
    proof_rng: random.Random = field(default_factory=lambda: random.Random(7))
    # So do the people's agreement to be asked for their opinion (surveys).
    survey_rng: random.Random = field(default_factory=lambda: random.Random(17))


# ---- public entry points --------------------------------------------------------------------


def demo_logins() -> list[DemoLogin]:
    """The demo accounts, all sharing one password."""
    return [
        DemoLogin(email, DEMO_PASSWORD, role.label, code or "—")
        for code, email, _name, role, _sites in STAFF
    ]


def demo_data_present(*, session: Session) -> bool:
    """True when any operator exists (the database is not empty)."""
    return session.exec(select(Operator.id)).first() is not None


def seed_demo_if_empty(*, session: Session, rng_seed: int = 2026) -> bool:
    """Seed the demo unless an operator already exists; True when it seeded."""
    if demo_data_present(session=session):
        return False
    seed_demo(session=session, rng_seed=rng_seed)
    return True


def seed_demo(*, session: Session, rng_seed: int = 2026) -> list[DemoLogin]:
    """Create the whole demo world deterministically; the caller commits."""
    # Nobody's record changed by anybody: the trail is not filled with a CHANGE per demo row.
    with changes_unrecorded(session):
        return _seed_world(session=session, rng_seed=rng_seed)


def _seed_world(*, session: Session, rng_seed: int) -> list[DemoLogin]:
    codes = [spec["code"] for spec in OPERATORS]
    if session.exec(select(Operator.id).where(Operator.code.in_(codes))).first():
        raise Conflict("Les données de démonstration existent déjà (opérateur ARA ou BRE).")
    ctx = _Ctx(
        session=session,
        rng=random.Random(rng_seed),
        today=utcnow().astimezone(PARIS).date(),
        units={u.code: u.id for u in list_units(session=session)},
        serial=itertools.count(1),
    )
    teams = [_create_operator(ctx, spec) for spec in OPERATORS]
    # Before any episode: each takes the lot of its first day.
    seed_markets(session=session, operators=[team.operator for team in teams])
    _create_staff(ctx, teams)
    for team, spec in zip(teams, OPERATORS, strict=True):
        _create_permanences(ctx, team, spec)
    for team, spec in zip(teams, OPERATORS, strict=True):
        seed_availability(
            session=session,
            operator=team.operator,
            sites=team.sites,
            counsellors=team.counsellors,
            today=ctx.today,
        )
        _seed_operator(ctx, team, spec)
        admin = session.exec(
            select(StaffUser).where(
                owned_by(StaffUser, team.operator.id), StaffUser.role == Role.OPERATOR_ADMIN
            )
        ).first()
        seed_uo4(
            session=session,
            admin=admin,
            sites=team.sites,
            counsellors=team.counsellors,
            today=ctx.today,
        )
        seed_surveys(
            session=session,
            operator_id=team.operator.id,
            rng=random.Random(f"surveys-{team.operator.code}"),
            now=utcnow(),
        )
    _mark_demo_messages_sent(session)
    return demo_logins()


def _mark_demo_messages_sent(session: Session) -> None:
    """The demo's e-mails belong to its history: only what people do afterwards is sent."""
    pending = session.exec(select(OutboxMessage).where(OutboxMessage.status == "pending"))
    for message in pending:
        message.status, message.sent_at, message.attempts = "sent", message.created_at, 1
        session.add(message)
    session.flush()


# ---- operators, sites, staff ------------------------------------------------------------------


def _create_operator(ctx: _Ctx, spec: dict) -> _Team:
    operator = create_operator(
        session=ctx.session, code=spec["code"], name=spec["name"], region_code=spec["region"]
    )
    # The demo's accounts sign in with the printed password alone; an administrator requires
    # the second factor from « Sécurité » (the default of a real operator: see the README).
    operator.two_factor_managers = operator.two_factor_admins = False
    sites = [
        Site(
            operator_id=operator.id,
            name=name,
            address=address,
            postcode=postcode,
            city=city,
            time_zone="Europe/Paris",
            accessibility=accessibility,
            opening_hours=hours,
        )
        for name, address, postcode, city, hours, accessibility in spec["sites"]
    ]
    ctx.session.add_all(sites)
    ctx.session.flush()
    return _Team(operator=operator, sites=sites)


def _create_staff(ctx: _Ctx, teams: list[_Team]) -> None:
    by_code = {team.operator.code: team for team in teams}
    for code, email, name, role, site_indexes in STAFF:
        user = create_staff_user(
            session=ctx.session,
            email=email,
            full_name=name,
            role=role,
            password=DEMO_PASSWORD,
            operator_code=code,
            control_team=CONTROL_TEAM if role == Role.CONTROLLER else None,
        )
        if code is None:
            continue
        team = by_code[code]
        for index in site_indexes:
            ctx.session.add(StaffSite(staff_id=user.id, site_id=team.sites[index].id))
        if role == Role.COUNSELLOR:
            team.counsellors.append(user)
            team.home_site[user.id] = team.sites[site_indexes[0]].id
    ctx.session.flush()


def _create_permanences(ctx: _Ctx, team: _Team, spec: dict) -> None:
    """Permanences in partners' premises: the sites' pages list them (the first site in the
    alphabet has one, as a page to look at)."""
    for site, holder, venue, address, postcode, city, weekdays, start, end in spec["permanences"]:
        permanence = Permanence(
            operator_id=team.operator.id,
            site_id=team.sites[site].id,
            venue=venue,
            address=address,
            postcode=postcode,
            city=city,
            weekdays=weekdays,
            start_time=time(start),
            end_time=time(end),
            starts_on=ctx.today - timedelta(days=90),
        )
        ctx.session.add(permanence)
        ctx.session.flush()
        holder_id = team.counsellors[holder].id
        ctx.session.add(PermanenceStaff(permanence_id=permanence.id, staff_id=holder_id))
    ctx.session.flush()


# ---- beneficiaries ----------------------------------------------------------------------------


def _ascii_slug(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    return re.sub(r"[^a-z0-9]+", "-", plain).strip("-")


def _phone(ctx: _Ctx) -> str:
    """A valid, unused French mobile number (06 or 07), in E.164."""
    while True:
        if ctx.rng.random() < 0.7:
            national = "06" + "".join(ctx.rng.choices("0123456789", k=8))
        else:
            national = "07" + ctx.rng.choice("3456789")
            national += "".join(ctx.rng.choices("0123456789", k=7))
        try:
            e164 = normalise_phone(national)
        except ValueError:
            continue
        if e164 not in ctx.phones:
            ctx.phones.add(e164)
            return e164


def _pick(rng: random.Random, weights: dict):
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _profile(ctx: _Ctx, situation: CepSituation) -> dict:
    """A reporting profile drawn from realistic weights, bent to fit the person's situation."""
    rng = ctx.rng
    status = _pick(rng, STATUS_WEIGHTS)
    profile = {
        "sex": _pick(rng, {Sex.FEMALE: 60, Sex.MALE: 38, Sex.UNKNOWN: 2}),
        "birth_year": ctx.today.year - rng.choice(AGES),
        "employment_status": status,
        "pcs": _pick(rng, PCS_WEIGHTS),
        "naf_section": _pick(rng, NAF_WEIGHTS),
        "company_size": _pick(rng, SIZE_WEIGHTS),
        "diploma_level": _pick(rng, DIPLOMA_WEIGHTS),
        "rqth": _pick(rng, {Rqth.NO: 88, Rqth.YES: 5, Rqth.UNKNOWN: 7}),
    }
    if situation == CepSituation.YOUNG_NEET:
        profile["birth_year"] = ctx.today.year - rng.randint(18, 24)
    return profile | STATUS_PROFILE.get(status, {}) | SITUATION_PROFILE.get(situation, {})


def _create_beneficiary(ctx: _Ctx, team: _Team, spec: dict, situation) -> Beneficiary:
    profile = _profile(ctx, situation)
    female = profile["sex"] == Sex.FEMALE
    if profile["sex"] == Sex.UNKNOWN:
        female = ctx.rng.random() < 0.5
    first = ctx.rng.choice(FEMALE_NAMES if female else MALE_NAMES)
    last = ctx.rng.choice(LAST_NAMES + spec["last_names"] * 3)
    number = next(ctx.serial)
    data = BeneficiaryCreate(
        first_name=first,
        last_name=last,
        email=f"{_ascii_slug(first)}.{_ascii_slug(last)}.{number}@exemple.fr",
        phone=_phone(ctx),
        postcode=ctx.rng.choice(spec["postcodes"]),
        consent=ctx.rng.random() < 0.95,
        **profile,
    )
    person = create_beneficiary(session=ctx.session, actor=team.counsellors[0], data=data)
    ask_for_surveys(ctx.session, ctx.survey_rng, person)
    return person


# ---- dates ------------------------------------------------------------------------------------


def _workday(ctx: _Ctx, days_ago: int) -> int:
    """The same day, or the Friday before when it falls on a weekend."""
    while (ctx.today - timedelta(days=days_ago)).weekday() >= 5:
        days_ago += 1
    return days_ago


def _moment(ctx: _Ctx, days_ago: int) -> datetime:
    """A working-hours moment (Paris time) on a past working day, in UTC."""
    day = ctx.today - timedelta(days=_workday(ctx, max(days_ago, 1)))
    clock = time(ctx.rng.choice((9, 10, 11, 14, 15, 16)), ctx.rng.choice((0, 15, 30)))
    return datetime.combine(day, clock, tzinfo=PARIS).astimezone(UTC)


def _schedule(ctx: _Ctx, *, newest: int, count: int, spread: int = 150) -> tuple[int, list]:
    """A received day and `count` later moments on distinct working days, the last on `newest`."""
    newest = _workday(ctx, newest)
    oldest = min(300, ctx.rng.randint(newest + 8 * count + 10, newest + 8 * count + spread))
    days = [d for d in range(newest + 1, oldest) if _workday(ctx, d) == d]
    picked = sorted(ctx.rng.sample(days, count - 1), reverse=True) + [newest]
    return oldest, [_moment(ctx, d) for d in picked]


# ---- triage -----------------------------------------------------------------------------------


def _request(
    ctx: _Ctx,
    team: _Team,
    person: Beneficiary,
    *,
    received: datetime,
    situation,
    site_id: int,
    assigned_to_id: int | None = None,
) -> TriageRequest:
    motive = _pick(ctx.rng, MOTIVE_WEIGHTS)
    data = TriageCreate(
        beneficiary_id=person.id,
        channel=_pick(ctx.rng, CHANNEL_WEIGHTS),
        motive=motive,
        cep_situation=situation,
        request_text=ctx.rng.choice(REQUEST_TEXTS[motive]),
        received_at=received,
        site_id=site_id,
        assigned_to_id=assigned_to_id,
    )
    actor = ctx.rng.choice(team.counsellors)
    _backdate_person(ctx, person, received)
    return create_request(session=ctx.session, actor=actor, data=data)


def _backdate_person(ctx: _Ctx, person: Beneficiary, first_contact: datetime) -> None:
    """The person (and their consent) was recorded at first contact, not on seeding day."""
    person.created_at = person.updated_at = first_contact
    if person.consent_at is not None:
        person.consent_at = first_contact
    if person.survey_consent_at is not None:
        person.survey_consent_at = first_contact
    ctx.session.add(person)
    for record in ctx.session.exec(
        select(ConsentRecord).where(ConsentRecord.beneficiary_id == person.id)
    ):
        record.at = first_contact
        ctx.session.add(record)


def _settle_triage(ctx: _Ctx, request: TriageRequest, case: Case, *, minutes: int) -> None:
    """Move the triage handling (and its UO0 episode) back to the day the request came in."""
    handled = request.received_at + timedelta(minutes=minutes)
    request.handled_at = handled
    episode = ctx.session.exec(
        select(Episode).where(Episode.case_id == case.id, Episode.unit_id == ctx.units["UO0"])
    ).one()
    episode.ended_at = handled
    ctx.session.add_all([request, episode])
    ctx.session.flush()


def _pending(ctx: _Ctx, team: _Team, person: Beneficiary, assignee: StaffUser | None) -> None:
    site_id = team.home_site[assignee.id] if assignee else ctx.rng.choice(team.sites).id
    received = _moment(ctx, ctx.rng.randint(1, 12))
    _request(
        ctx,
        team,
        person,
        received=received,
        situation=CepSituation.PRIVATE_WORKER,
        site_id=site_id,
        assigned_to_id=assignee.id if assignee else None,
    )
    if assignee is None:
        wait_for_a_slot(ctx.session, person)


def _redirected(ctx: _Ctx, team: _Team, person: Beneficiary, situation: CepSituation) -> None:
    received = _moment(ctx, ctx.rng.randint(5, 290))
    request = _request(
        ctx,
        team,
        person,
        received=received,
        situation=situation,
        site_id=ctx.rng.choice(team.sites).id,
    )
    redirection = suggest_redirection(situation)
    actor = ctx.rng.choice(team.counsellors)
    case = redirect_request(
        session=ctx.session,
        actor=actor,
        request_id=request.id,
        data=TriageRedirect(
            redirection=redirection,
            reason=REDIRECT_REASONS[situation],
            first_advice=REDIRECT_ADVICE[redirection],
        ),
    )
    _settle_triage(ctx, request, case, minutes=20)
    _backdate_close(ctx, case, request.handled_at)


def _open_from_triage(
    ctx: _Ctx, team: _Team, person: Beneficiary, referent: StaffUser, days_ago: int
) -> Case:
    site_id = team.home_site[referent.id]
    request = _request(
        ctx,
        team,
        person,
        received=_moment(ctx, days_ago),
        situation=CepSituation.PRIVATE_WORKER,
        site_id=site_id,
        assigned_to_id=referent.id,
    )
    case = open_case_from_request(
        session=ctx.session,
        actor=ctx.rng.choice([referent, referent, *team.counsellors]),
        request_id=request.id,
        data=TriageOpenCase(referent_id=referent.id, first_advice=ctx.rng.choice(FIRST_ADVICE)),
    )
    _settle_triage(ctx, request, case, minutes=15)
    return case


# ---- accompaniment ----------------------------------------------------------------------------


def _record(
    ctx: _Ctx, actor: StaffUser, case: Case, *, at: datetime, kind: str, episode: Episode | None
) -> datetime:
    """Record one interaction; returns when it ended."""
    minutes, channels = INTERACTION_SHAPES[kind]
    duration = ctx.rng.choice(minutes)
    data = InteractionCreate(
        occurred_at=at,
        duration_minutes=duration,
        channel=_pick(ctx.rng, channels),
        episode_id=episode.id if episode else None,
        summary=ctx.rng.choice(SUMMARIES[kind]),
        private_notes=ctx.rng.choice(PRIVATE_NOTES),
    )
    record_interaction(session=ctx.session, actor=actor, case_id=case.id, data=data)
    return at + timedelta(minutes=duration)


def _play(ctx: _Ctx, actor: StaffUser, case: Case, steps: list[str], moments: list) -> datetime:
    """Run a script: '+UO1' starts a unit with an interview, 'suivi' follows up within it,
    'hors' is a contact outside any unit, '-' (or '-pause') ends the running unit."""
    moments = iter(moments)
    episode, code, last = None, "", case.opened_at
    for step in steps:
        if step.startswith("-"):
            outcome = PAUSE_OUTCOME if step == "-pause" else OUTCOMES[code]
            ended_at = last + timedelta(minutes=5)
            end_episode(
                session=ctx.session,
                actor=actor,
                episode_id=episode.id,
                data=EpisodeEnd(outcome=outcome, ended_at=ended_at),
            )
            prove_episode(ctx.session, ctx.proof_rng, actor, case, episode, ended_at)
            episode = None
        elif step.startswith("+"):
            code, at = step[1:], next(moments)
            episode, _ = start_episode(
                session=ctx.session,
                actor=actor,
                case_id=case.id,
                data=EpisodeStart(unit_id=ctx.units[code], started_at=at),
            )
            last = _record(ctx, actor, case, at=at, kind=code, episode=episode)
        else:
            kind = f"suivi {code}" if step == "suivi" else ctx.rng.choice(_HORS_KINDS)
            last = _record(
                ctx,
                actor,
                case,
                at=next(moments),
                kind=kind,
                episode=episode if step == "suivi" else None,
            )
    return last


def _moment_count(steps: list[str]) -> int:
    return sum(1 for step in steps if not step.startswith("-"))


def _open_case(ctx: _Ctx, team: _Team, person: Beneficiary, referent: StaffUser, kind: str) -> None:
    steps = OPEN_SCRIPTS[kind]
    newest = ctx.rng.randint(35, 110) if kind == "idle" else ctx.rng.randint(1, 21)
    received, moments = _schedule(ctx, newest=newest, count=_moment_count(steps))
    case = _open_from_triage(ctx, team, person, referent, received)
    _play(ctx, referent, case, steps, moments)
    refer_some(ctx.session, ctx.proof_rng, referent, case)
    book_next(ctx.session, ctx.proof_rng, referent, case, team.home_site[referent.id])


def _closed_case(ctx: _Ctx, team: _Team, person: Beneficiary, referent: StaffUser) -> Case:
    reason = _pick(ctx.rng, CLOSE_WEIGHTS)
    steps = ctx.rng.choice(CLOSED_SCRIPTS[reason])
    received, moments = _schedule(ctx, newest=ctx.rng.randint(25, 200), count=_moment_count(steps))
    case = _open_from_triage(ctx, team, person, referent, received)
    last = _play(ctx, referent, case, steps, moments)
    close_case(
        session=ctx.session,
        actor=referent,
        case_id=case.id,
        data=CaseClose(reason=reason, note=CLOSE_NOTES[reason]),
    )
    _backdate_close(ctx, case, last + timedelta(days=ctx.rng.randint(1, 10)))
    return case


def _reopened_case(ctx: _Ctx, team: _Team, person: Beneficiary, referent: StaffUser) -> None:
    """A case closed months ago that the person came back to: reopened, then N1 again."""
    case = _closed_case(ctx, team, person, referent)
    reopen_case(session=ctx.session, actor=referent, case_id=case.id)
    back_at = _moment(ctx, ctx.rng.randint(6, 12))
    _record(ctx, referent, case, at=back_at, kind="reouverture", episode=None)
    _play(ctx, referent, case, ["+UO1"], [_moment(ctx, ctx.rng.randint(1, 4))])


def _backdate_close(ctx: _Ctx, case: Case, closed_at: datetime) -> None:
    """close_case stamps "now"; a demo history needs closings spread over the months."""
    closed_at = min(closed_at, utcnow() - timedelta(days=1))
    case.closed_at = closed_at
    case.last_activity_at = closed_at
    ctx.session.add(case)
    ctx.session.flush()


# ---- one operator -----------------------------------------------------------------------------


def _seed_operator(ctx: _Ctx, team: _Team, spec: dict) -> None:
    """~100 people: pending requests, redirections, open, closed and reopened cases."""
    seed_partners(session=ctx.session, operator=team.operator)
    first, second, third = team.counsellors
    situations = [CepSituation.PRIVATE_WORKER] * (OPERATOR_PLAN["people"] - len(REDIRECTED))
    people = [_create_beneficiary(ctx, team, spec, s) for s in situations]
    redirected = [_create_beneficiary(ctx, team, spec, s) for s in REDIRECTED]
    for person, situation in zip(redirected, REDIRECTED, strict=True):
        _redirected(ctx, team, person, situation)
    people = iter(people)
    for assignee in [first] * 5 + [second] * 3 + [third] * 2 + [None] * 5:
        _pending(ctx, team, next(people), assignee)
    open_referents = [first] * 20 + [second] * 15 + [third] * 15
    kinds = itertools.cycle(OPEN_KINDS)
    for referent in open_referents:
        _open_case(ctx, team, next(people), referent, next(kinds))
    for index, referent in enumerate(
        itertools.islice(itertools.cycle([first, second, third]), OPERATOR_PLAN["closed"])
    ):
        person = next(people)
        if index in PHONE_ONLY:
            give_only_a_phone(ctx.session, person)
        _closed_case(ctx, team, person, referent)
    _reopened_case(ctx, team, next(people), first)
    _archived_cases(ctx, team, list(people), [first, second, third])


# The cases of the previous market (« Marché 2020-2023 »): each script's moments, as days of
# late 2023 (the last one's follow-up in January 2024, the unit started under the old market).
_ARCHIVE = [
    (["+UO1", "-"], [date(2023, 10, 3)]),
    (
        ["+UO1", "-", "+UO2.1", "suivi", "-"],
        [date(2023, 10, 10), date(2023, 11, 7), date(2023, 11, 21)],
    ),
    (["+UO1", "-", "+UO2.1", "-"], [date(2023, 9, 19), date(2023, 10, 17)]),
    (
        ["+UO1", "-", "+UO2.2", "suivi", "-"],
        [date(2023, 11, 14), date(2023, 12, 12), date(2024, 1, 16)],
    ),
]


def _archived_cases(ctx: _Ctx, team: _Team, people: list, counsellors: list) -> None:
    """Closed cases from late 2023, under the previous market, with the people the plan left;
    drawn from generators of their own so that the rest of the demo stays as it was."""
    code = team.operator.code
    archive = replace(
        ctx, rng=random.Random(f"archive-{code}"), proof_rng=random.Random(f"proofs-{code}")
    )
    for person, referent, (steps, days) in zip(
        people, itertools.cycle(counsellors), _ARCHIVE, strict=False
    ):
        moments = [_moment(archive, (ctx.today - day).days) for day in days]
        received = (ctx.today - days[0]).days + archive.rng.randint(5, 12)
        case = _open_from_triage(archive, team, person, referent, received)
        last = _play(archive, referent, case, steps, moments)
        close_case(
            session=ctx.session,
            actor=referent,
            case_id=case.id,
            data=CaseClose(reason=CloseReason.COMPLETED, note=CLOSE_NOTES[CloseReason.COMPLETED]),
        )
        _backdate_close(archive, case, last + timedelta(days=archive.rng.randint(1, 10)))


# ---- demo content (French, as users see it) ---------------------------------------------------
# Compact tables read better than one entry per line, hence no formatter here.
