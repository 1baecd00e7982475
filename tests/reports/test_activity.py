"""The activity report: its figures reconcile with the rows, per operator, for managers only."""

from collections import Counter
from datetime import UTC, date, datetime, timedelta
from itertools import count
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import select

from app.core.errors import Forbidden, Invalid
from app.models.cases import Case, Episode, Interaction
from app.models.catalogue import ServiceUnit
from app.models.nomenclatures import InteractionChannel, Redirection, Role
from app.models.triage import TriageRedirect
from app.services.reports.activity import activity_report
from tests.factories import (
    make_beneficiary,
    make_case,
    make_episode,
    make_interaction,
    make_operator,
    make_partner,
    make_staff,
    report_rows,
)

PARIS = ZoneInfo("Europe/Paris")
START, END = date(2025, 1, 1), date(2025, 6, 30)
BASE = datetime(2024, 12, 15, tzinfo=UTC)  # generated moments fall a little around the period
HOURS = 24 * 220
CHANNELS = [channel.value for channel in InteractionChannel]
_refs = count(1)


@pytest.fixture
def today(clock) -> date:
    """Today in Paris by the clock (tests/conftest.py), the day what a test records now falls
    on: read from the real clock, it could be yesterday's by the time the report runs."""
    return clock.astimezone(PARIS).date()


def report(session, actor, start=START, end=END, **filters):
    return activity_report(session=session, actor=actor, start=start, end=end, **filters)


def in_period(moment: datetime | None) -> bool:
    return moment is not None and START <= moment.astimezone(PARIS).date() <= END


def local_month(moment: datetime) -> str:
    return moment.astimezone(PARIS).strftime("%Y-%m")


# ---- reconciliation with the rows -------------------------------------------------------------

moment = st.integers(0, HOURS).map(lambda h: BASE + timedelta(hours=h))
episode_spec = st.tuples(st.integers(0, 3), moment, st.one_of(st.none(), st.integers(0, 2000)))
interaction_spec = st.tuples(st.sampled_from(CHANNELS), moment, st.booleans())
case_spec = st.tuples(
    moment,
    st.lists(episode_spec, max_size=3),
    st.lists(interaction_spec, max_size=4),
)


def insert_case(session, operator, counsellor, beneficiary, opened_at) -> Case:
    case = Case(
        operator_id=operator.id,
        reference=f"T-{next(_refs):06d}",
        beneficiary_id=beneficiary.id,
        referent_id=counsellor.id,
        channel="telephone",
        motive="reconversion",
        opened_at=opened_at,
        last_activity_at=opened_at,
    )
    session.add(case)
    session.flush()
    return case


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(specs=st.lists(case_spec, min_size=1, max_size=6))
def test_the_report_totals_equal_the_counts_of_the_rows(session, ara, manager, specs):
    savepoint = session.begin_nested()
    try:
        units = session.exec(select(ServiceUnit).order_by(ServiceUnit.position)).all()[:4]
        counsellor = make_staff(session, ara)
        beneficiary = make_beneficiary(session, counsellor)
        entries, started, ended = Counter(), Counter(), Counter()
        by_channel, outside = Counter(), Counter()
        for opened_at, episodes, interactions in specs:
            case = insert_case(session, ara, counsellor, beneficiary, opened_at)
            level_1 = [at for index, at, _ in episodes if units[index].level == 1]
            if level_1 and in_period(min(level_1)):  # an entry: its first level-1 episode
                entries[local_month(min(level_1))] += 1
            made = []
            for unit_index, started_at, hours in episodes:
                ended_at = None if hours is None else started_at + timedelta(hours=hours)
                episode = Episode(
                    operator_id=ara.id,
                    case_id=case.id,
                    unit_id=units[unit_index].id,
                    started_at=started_at,
                    ended_at=ended_at,
                )
                session.add(episode)
                made.append(episode)
                code = units[unit_index].code
                started[code] += in_period(started_at)
                ended[code] += in_period(ended_at)
            session.flush()
            for channel, occurred_at, within_unit in interactions:
                episode_id = made[0].id if made and within_unit else None
                session.add(
                    Interaction(
                        operator_id=ara.id,
                        case_id=case.id,
                        episode_id=episode_id,
                        counsellor_id=counsellor.id,
                        occurred_at=occurred_at,
                        duration_minutes=30,
                        channel=channel,
                    )
                )
                if in_period(occurred_at):
                    by_channel[channel] += 1
                    outside[channel] += episode_id is None
        session.flush()

        found = report(session, manager)

        month_rows = found.section("entrees").rows
        assert len(month_rows) == 6
        assert [row[1] for row in month_rows] == [entries[f"2025-{m:02d}"] for m in range(1, 7)]
        units_rows = report_rows(found, "unites")
        for code in {unit.code for unit in units}:
            expected = (started[code], ended[code])
            assert units_rows.get(code, (None, 0, 0))[1:3] == expected
        channel_rows = {row[0]: row[1:3] for row in found.section("actes").rows}
        for channel in InteractionChannel:
            assert channel_rows[channel.label] == (by_channel[channel], outside[channel])
        total = sum(by_channel.values())
        assert channel_rows["Total"] == (total, sum(outside.values()))
        summary = report_rows(found, "synthese")
        assert summary["Entrées"] == (sum(entries.values()),)
        assert summary["Actes"] == (total,)
    finally:
        savepoint.rollback()


# ---- sections with their own rules ------------------------------------------------------------


def serve(session, counsellor, person, **case_fields):
    """A case entering level 1 now, with an interview in it: an entry, a person served."""
    case = make_case(session, counsellor, person, **case_fields)
    episode = make_episode(session, counsellor, case, "UO1")
    make_interaction(session, counsellor, case, episode_id=episode.id)
    return case


def test_people_served_are_counted_once_with_their_profile(session, ara, manager, today):
    counsellor = make_staff(session, ara)
    woman = make_beneficiary(session, counsellor, sex="F", birth_year=2003, rqth="oui")
    man = make_beneficiary(session, counsellor, sex="M", birth_year=1960)
    serve(session, counsellor, woman)
    serve(session, counsellor, woman)
    serve(session, counsellor, man)
    make_case(session, counsellor)  # opened, with no level-1 or level-2 interaction yet

    found = report(session, manager, start=today, end=today)

    assert report_rows(found, "profil-sexe")["Femme"] == (1,)
    assert report_rows(found, "profil-sexe")["Homme"] == (1,)
    ages = report_rows(found, "profil-age")
    assert ages["Plus de 55 ans"] == (1,)
    assert ages["Moins de 26 ans"] == (1,)
    assert report_rows(found, "profil-rqth")["Oui"] == (1,)
    assert report_rows(found, "synthese")["Personnes accompagnées"] == (2,)


def test_a_case_closed_before_the_period_does_not_count_its_person(session, ara, manager):
    counsellor = make_staff(session, ara)
    person = make_beneficiary(session, counsellor)
    case = make_case(session, counsellor, person)
    case.opened_at = datetime(2024, 3, 1, tzinfo=UTC)
    case.status, case.closed_at, case.close_reason = (
        "closed",
        datetime(2024, 6, 1, tzinfo=UTC),
        "termine",
    )
    session.flush()

    assert report_rows(report(session, manager), "synthese")["Personnes accompagnées"] == (0,)


def test_redirections_are_counted_by_destination(session, ara, manager, today):
    from app.models.triage import TriageCreate
    from app.services.cases.triage import create_request, redirect_request

    counsellor = make_staff(session, ara)
    person = make_beneficiary(session, counsellor)
    request = create_request(
        session=session,
        actor=counsellor,
        data=TriageCreate(beneficiary_id=person.id, channel="telephone", motive="reconversion"),
    )
    redirect_request(
        session=session,
        actor=counsellor,
        request_id=request.id,
        data=TriageRedirect(redirection=Redirection.APEC),
    )

    found = report_rows(report(session, manager, start=today, end=today), "accueil")

    assert found["Réorientée — APEC"] == (1,)
    assert found["En attente"] == (0,)


def test_referrals_are_counted_by_partner_type_and_outcome(session, ara, manager, today):
    from app.models.partners import Referral

    counsellor = make_staff(session, ara)
    case = make_case(session, counsellor)
    partner = make_partner(session, ara, type="apec")
    for outcome in ("achieved", None):
        session.add(
            Referral(
                operator_id=ara.id,
                case_id=case.id,
                partner_id=partner.id,
                purpose="Bilan",
                consent_at=datetime.now(UTC),
                status="completed" if outcome else "sent",
                outcome=outcome,
            )
        )
    session.flush()

    found = report_rows(report(session, manager, start=today, end=today), "orientations")

    assert found["Apec"] == (2, 1, 0, 0, 0, 1)


def test_the_site_filter_keeps_the_cases_of_that_site(session, ara, manager, today):
    from tests.factories import make_site

    counsellor = make_staff(session, ara)
    lyon, grenoble = make_site(session, ara), make_site(session, ara, name="Grenoble")
    serve(session, counsellor, None, site_id=lyon.id)
    serve(session, counsellor, None, site_id=grenoble.id)

    found = report(session, manager, start=today, end=today, site_id=lyon.id)

    assert report_rows(found, "synthese")["Entrées"] == (1,)
    assert report_rows(found, "synthese")["Personnes accompagnées"] == (1,)


# ---- tenant and role --------------------------------------------------------------------------


def test_another_operators_rows_never_count(session, ara, manager, today):
    other = make_operator(session, "BRE", "Bretagne")
    stranger = make_staff(session, other)
    serve(session, stranger, None)

    found = report_rows(report(session, manager, start=today, end=today), "synthese")

    assert found["Entrées"] == (0,)
    assert found["Actes"] == (0,)
    assert found["Personnes accompagnées"] == (0,)


def test_an_operator_admin_may_read_the_report(session, ara):
    admin = make_staff(session, ara, Role.OPERATOR_ADMIN)
    assert report(session, admin).section("synthese").rows


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.NATIONAL_OBSERVER, Role.SYSADMIN])
def test_other_roles_are_refused(session, ara, role):
    actor = make_staff(session, ara if role == Role.COUNSELLOR else None, role)
    with pytest.raises(Forbidden):
        report(session, actor)


def test_a_period_ending_before_it_starts_is_invalid(session, manager):
    with pytest.raises(Invalid) as caught:
        report(session, manager, start=END, end=START)
    assert "au" in caught.value.fields


def test_no_show_rate_counts_honoured_and_missed_appointments_only(session, ara, manager):
    from app.models.appointments import Appointment
    from tests.factories import make_appointment_type

    counsellor = make_staff(session, ara)
    person = make_beneficiary(session, counsellor)
    kind = make_appointment_type(session, ara)
    for hour, status in ((8, "honoured"), (10, "no_show"), (12, "honoured"), (14, "cancelled")):
        starts_at = datetime(2025, 3, 4, hour, tzinfo=UTC)
        session.add(
            Appointment(
                operator_id=ara.id,
                reference=f"RDV-{hour}-{next(_refs)}",
                appointment_type_id=kind.id,
                counsellor_id=counsellor.id,
                mode="phone",
                starts_at=starts_at,
                ends_at=starts_at + timedelta(hours=1),
                blocks_until=starts_at + timedelta(hours=1),
                status=status,
                beneficiary_id=person.id,
                ics_uid=f"uid-{hour}-{next(_refs)}@test",
            )
        )
    session.flush()

    summary = report_rows(report(session, manager), "synthese")

    assert summary["Rendez-vous honorés"] == (2,)
    assert report_rows(report(session, manager), "rendez-vous")["Absences"] == (1,)
    assert summary["Taux d'absence (%)"] == (33.3,)


def test_no_show_rate_is_empty_without_appointments(session, manager):
    assert report_rows(report(session, manager), "synthese")["Taux d'absence (%)"] == (None,)


# ---- first contact to first appointment -------------------------------------------------------

CONTACT = datetime(2025, 3, 3, 9, tzinfo=UTC)
DELAY = "Délai médian premier contact → premier rendez-vous (jours)"


@pytest.fixture
def kind(session, ara):
    from tests.factories import make_appointment_type

    return make_appointment_type(session, ara)


def add_appointment(session, kind, case, starts_at, status="booked"):
    from app.models.appointments import Appointment

    n = next(_refs)
    session.add(
        Appointment(
            operator_id=case.operator_id,
            reference=f"RDV-{n}",
            appointment_type_id=kind.id,
            counsellor_id=case.referent_id,
            mode="phone",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(minutes=30),
            blocks_until=starts_at + timedelta(minutes=30),
            status=status,
            beneficiary_id=case.beneficiary_id,
            case_id=case.id,
            ics_uid=f"uid-{n}@test",
        )
    )
    session.flush()


def new_case(session, ara, counsellor, opened_at=CONTACT) -> Case:
    return insert_case(session, ara, counsellor, make_beneficiary(session, counsellor), opened_at)


def delay(found) -> tuple:
    """The median and the number of cases, as they go into a file."""
    return found.section("delai").plain_rows()[0][1:]


def summary_delay(found) -> float | None:
    return dict(row[:2] for row in found.section("synthese").plain_rows())[DELAY]


def test_the_delay_is_the_middle_value_for_an_odd_count(session, ara, manager, counsellor, kind):
    for days in (2, 9, 30):
        case = new_case(session, ara, counsellor)
        # Hours apart, so that one counsellor's appointments never overlap.
        add_appointment(session, kind, case, CONTACT + timedelta(days=days, hours=-days))

    found = report(session, manager)

    assert delay(found) == (8.6, 3)  # 9 days less 9 hours: the fraction of a day counts
    assert summary_delay(found) == 8.6


def test_the_delay_averages_the_two_middle_values_for_an_even_count(
    session, ara, manager, counsellor, kind
):
    for days in (1, 4, 7, 40):
        add_appointment(
            session, kind, new_case(session, ara, counsellor), CONTACT + timedelta(days=days)
        )

    assert delay(report(session, manager)) == (5.5, 4)


def test_cancelled_appointments_are_ignored(session, ara, manager, counsellor, kind):
    case = new_case(session, ara, counsellor)
    add_appointment(session, kind, case, CONTACT + timedelta(days=1), status="cancelled")
    add_appointment(session, kind, case, CONTACT + timedelta(days=6), status="no_show")
    add_appointment(session, kind, case, CONTACT + timedelta(days=8), status="honoured")
    only_cancelled = new_case(session, ara, counsellor)
    add_appointment(session, kind, only_cancelled, CONTACT + timedelta(days=2), "cancelled")

    assert delay(report(session, manager)) == (6.0, 1)


def test_the_triage_request_received_first_is_the_first_contact(
    session, ara, manager, counsellor, kind
):
    from app.models.triage import TriageRequest

    case = new_case(session, ara, counsellor)
    for received_at in (CONTACT - timedelta(days=3), CONTACT - timedelta(days=1)):
        session.add(
            TriageRequest(
                operator_id=ara.id,
                beneficiary_id=case.beneficiary_id,
                received_at=received_at,
                channel="telephone",
                motive="reconversion",
                cep_situation="actif_prive",
                status="case_opened",
                case_id=case.id,
            )
        )
    add_appointment(session, kind, case, CONTACT + timedelta(days=2))

    assert delay(report(session, manager)) == (5.0, 1)


def test_cases_opened_outside_the_period_or_without_appointment_do_not_count(
    session, ara, manager, counsellor, kind
):
    earlier = new_case(session, ara, counsellor, datetime(2024, 11, 4, 9, tzinfo=UTC))
    add_appointment(session, kind, earlier, CONTACT)
    new_case(session, ara, counsellor)

    found = report(session, manager)

    assert delay(found) == (None, 0)
    assert summary_delay(found) is None
