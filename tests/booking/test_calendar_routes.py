"""Staff calendars: agenda pages, attendance marks, no-show rates, booking from a case."""

import html
import re
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlmodel import select

from app.core.dates import format_weekday
from app.models.appointments import Appointment, AppointmentType, OpeningSlot
from app.models.base import utcnow
from app.models.cases import Interaction
from app.models.nomenclatures import Role
from app.models.triage import TriageRequest
from tests.factories import (
    confirmations,
    log_in,
    make_appointment,
    make_appointment_type,
    make_beneficiary,
    make_case,
    make_episode,
    make_operator,
    make_site,
    make_staff,
    paris_today,
    unit_id,
)

PARIS = ZoneInfo("Europe/Paris")
HTMX = {"HX-Request": "true"}

# The clock of tests/conftest.py: yesterday's agenda shows its free time, and a week ahead
# offers a slot, only when neither is a public holiday; and today must stay today between
# the test and the app.
pytestmark = pytest.mark.usefixtures("clock")


def make_type(session, operator, **overrides) -> AppointmentType:
    """« Premier rendez-vous CEP », bookable at once."""
    return make_appointment_type(
        session, operator, **{"name": "Premier rendez-vous CEP", "min_notice_hours": 0, **overrides}
    )


def at_paris(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS).astimezone(UTC)


@pytest.fixture
def world(session):
    """ARA with a site, a counsellor, a manager, a type leading to UO1, a case; BRE apart."""
    operator = make_operator(session)
    site = make_site(session, operator)
    counsellor = make_staff(session, operator, full_name="Élodie Martin")
    manager = make_staff(session, operator, role=Role.MANAGER, full_name="Marc Responsable")
    kind = make_type(session, operator, unit_id=unit_id(session, "UO1"))
    beneficiary = make_beneficiary(session, counsellor, first_name="Hélène", last_name="Guérin")
    case = make_case(session, counsellor, beneficiary)
    other_operator = make_operator(session, "BRE", "Bretagne")
    stranger = make_staff(session, other_operator)
    return {
        "operator": operator,
        "site": site,
        "counsellor": counsellor,
        "manager": manager,
        "kind": kind,
        "beneficiary": beneficiary,
        "case": case,
        "stranger": stranger,
        "other_site": make_site(session, other_operator, name="Rennes", postcode="35000"),
    }


def yesterday_paris() -> date:
    return utcnow().astimezone(PARIS).date() - timedelta(days=1)


def mark(client, token, appointment, status):
    return client.post(
        f"/agenda/rendez-vous/{appointment.id}/presence",
        data={"csrf_token": token, "status": status},
    )


# ---- agenda pages --------------------------------------------------------------------------


def test_counsellor_sees_own_day_with_appointments_and_free_time(client, session, world):
    counsellor, kind = world["counsellor"], world["kind"]
    day = yesterday_paris()
    make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=kind,
        beneficiary=world["beneficiary"],
        starts_at=at_paris(day, 9),
        case_id=world["case"].id,
        site=world["site"],
    )
    session.add(
        OpeningSlot(
            operator_id=counsellor.operator_id,
            counsellor_id=counsellor.id,
            site_id=world["site"].id,
            weekday=day.weekday(),
            start_time=time(9),
            end_time=time(12),
            valid_from=day - timedelta(days=7),
        )
    )
    log_in(client, session, counsellor)

    response = client.get("/agenda", params={"jour": day.isoformat()})

    assert response.status_code == 200
    page = response.text
    assert "Premier rendez-vous CEP" in page
    assert f'href="/cases/{world["case"].id}"' in page
    assert "Hélène GUÉRIN" in page
    assert "Sur site" in page and "Réservé" in page
    assert "09 h 00 – 10 h 00" in page
    assert "Disponible :" in page and "10 h 00 – 12 h 00" in page
    assert "Honoré" in page  # yesterday's booked appointment can be marked


def test_week_view_lists_seven_french_days(client, session, world):
    log_in(client, session, world["counsellor"])

    response = client.get("/agenda", params={"jour": "2026-11-25", "vue": "semaine"})

    assert response.status_code == 200
    assert "Semaine du lundi 23 novembre 2026" in response.text
    assert "Dimanche 29 novembre 2026" in response.text


def test_an_appointment_booked_online_links_to_its_triage_item(client, session, world):
    counsellor = world["counsellor"]
    triage = TriageRequest(
        operator_id=counsellor.operator_id,
        beneficiary_id=world["beneficiary"].id,
        channel="web",
        motive="autre",
        cep_situation="actif_prive",
    )
    session.add(triage)
    session.flush()
    day = yesterday_paris()
    make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(day, 14),
        triage_request_id=triage.id,
    )
    log_in(client, session, counsellor)

    page = client.get("/agenda", params={"jour": day.isoformat()}).text

    assert f'href="/triage/{triage.id}"' in page


def test_manager_picks_a_counsellor_or_a_whole_site(client, session, world):
    counsellor, kind = world["counsellor"], world["kind"]
    day = yesterday_paris()
    make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=kind,
        beneficiary=world["beneficiary"],
        starts_at=at_paris(day, 11),
        site=world["site"],
    )
    log_in(client, session, world["manager"])

    own = client.get("/agenda", params={"jour": day.isoformat()})
    theirs = client.get("/agenda", params={"jour": day.isoformat(), "conseiller": counsellor.id})
    site = client.get("/agenda", params={"jour": day.isoformat(), "lieu": world["site"].id})

    assert "Hélène GUÉRIN" not in own.text
    assert "Hélène GUÉRIN" in theirs.text and "Élodie Martin" in theirs.text
    assert "Hélène GUÉRIN" in site.text and "Lyon Part-Dieu" in site.text


def test_counsellor_cannot_open_a_colleagues_agenda(client, session, world):
    log_in(client, session, world["counsellor"])

    response = client.get("/agenda", params={"conseiller": world["manager"].id})

    assert response.status_code == 403


def test_staff_and_sites_of_another_operator_get_404(client, session, world):
    log_in(client, session, world["manager"])

    assert client.get("/agenda", params={"conseiller": world["stranger"].id}).status_code == 404
    assert client.get("/agenda", params={"lieu": world["other_site"].id}).status_code == 404


def test_a_mark_is_confirmed_in_the_entry_marked(client, session, world):
    counsellor, day = world["counsellor"], yesterday_paris()
    kind, beneficiary = world["kind"], world["beneficiary"]
    first, second = (
        make_appointment(
            session,
            counsellor=counsellor,
            appointment_type=kind,
            beneficiary=beneficiary,
            starts_at=at_paris(day, hour),
            case_id=world["case"].id,
        )
        for hour in (9, 11)
    )
    token = log_in(client, session, counsellor)
    response = client.post(
        f"/agenda/rendez-vous/{second.id}/presence",
        data={"csrf_token": token, "status": "no_show", "jour": day.isoformat(), "vue": "jour"},
        headers=HTMX,
    )
    assert confirmations(response) == ["[focus] Rendez-vous marqué « absent·e »."]
    said = response.text.index('class="alert success done"')
    assert response.text.index(f'id="agenda-rdv-{first.id}"') < said
    assert response.text.index(f'id="agenda-rdv-{second.id}"') < said
    assert response.text.count("autofocus") == 1
    # Marked from another day's view, it is said above the days.
    elsewhere = mark(client, token, first, "excused")
    assert confirmations(elsewhere) == ["[focus] Rendez-vous marqué « excusé·e »."]
    assert f'id="agenda-rdv-{first.id}"' not in elsewhere.text


def test_appointment_of_another_operator_cannot_be_marked(client, session, world):
    other_kind = make_type(session, make_operator(session, "BRE", "Bretagne"), name="Autre")
    stranger = world["stranger"]
    person = make_beneficiary(session, stranger)
    theirs = make_appointment(
        session,
        counsellor=stranger,
        appointment_type=other_kind,
        beneficiary=person,
        starts_at=at_paris(yesterday_paris(), 9),
    )
    token = log_in(client, session, world["manager"])

    assert mark(client, token, theirs, "no_show").status_code == 404


# ---- attendance ----------------------------------------------------------------------------


def test_honoured_records_the_interaction_once_on_the_running_episode(client, session, world):
    counsellor, case = world["counsellor"], world["case"]
    episode = make_episode(session, counsellor, case, "UO1")
    appointment = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(yesterday_paris(), 10),
        case_id=case.id,
        mode="video",
    )
    token = log_in(client, session, counsellor)

    first = mark(client, token, appointment, "honoured")
    again = mark(client, token, appointment, "honoured")

    assert first.status_code == 200
    assert "pré-enregistré" in first.text
    assert again.status_code == 409
    [interaction] = session.exec(select(Interaction).where(Interaction.case_id == case.id)).all()
    assert interaction.channel == "visio"
    assert interaction.duration_minutes == 60
    assert interaction.episode_id == episode.id
    assert interaction.counsellor_id == counsellor.id
    assert interaction.occurred_at == appointment.starts_at
    session.refresh(appointment)
    assert appointment.status == "honoured"
    assert appointment.interaction_id == interaction.id


def test_manager_marking_records_the_interaction_in_the_counsellors_name(client, session, world):
    counsellor, case = world["counsellor"], world["case"]
    appointment = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(yesterday_paris(), 8),
        case_id=case.id,
        mode="phone",
    )
    token = log_in(client, session, world["manager"])

    assert mark(client, token, appointment, "honoured").status_code == 200

    interaction = session.exec(select(Interaction).where(Interaction.case_id == case.id)).one()
    assert interaction.counsellor_id == counsellor.id
    assert interaction.channel == "telephone"
    assert interaction.episode_id is None  # no UO1 running


def test_honoured_with_only_a_triage_item_says_so_and_creates_nothing(client, session, world):
    counsellor = world["counsellor"]
    triage = TriageRequest(
        operator_id=counsellor.operator_id,
        beneficiary_id=world["beneficiary"].id,
        channel="web",
        motive="autre",
        cep_situation="actif_prive",
    )
    session.add(triage)
    session.flush()
    appointment = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(yesterday_paris(), 15),
        triage_request_id=triage.id,
    )
    token = log_in(client, session, counsellor)

    response = mark(client, token, appointment, "honoured")

    assert response.status_code == 200
    assert "Pas encore de dossier" in response.text
    assert session.exec(select(Interaction)).all() == []
    session.refresh(appointment)
    assert appointment.status == "honoured" and appointment.interaction_id is None


def test_an_appointment_to_come_cannot_be_marked(client, session, world):
    counsellor = world["counsellor"]
    later = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=utcnow() + timedelta(days=3),
    )
    token = log_in(client, session, counsellor)

    response = mark(client, token, later, "no_show")

    assert response.status_code == 409
    session.refresh(later)
    assert later.status == "booked"


def test_no_show_and_excused_create_no_interaction(client, session, world):
    counsellor = world["counsellor"]
    day = yesterday_paris()
    missed = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(day, 9),
        case_id=world["case"].id,
    )
    excused = make_appointment(
        session,
        counsellor=counsellor,
        appointment_type=world["kind"],
        beneficiary=world["beneficiary"],
        starts_at=at_paris(day, 11),
        case_id=world["case"].id,
    )
    token = log_in(client, session, counsellor)

    assert mark(client, token, missed, "no_show").status_code == 200
    assert mark(client, token, excused, "excused").status_code == 200
    assert session.exec(select(Interaction)).all() == []


# ---- no-show rate --------------------------------------------------------------------------


def test_no_show_rate_per_counsellor_and_site(client, session, world):
    counsellor, manager, kind = world["counsellor"], world["manager"], world["kind"]
    person = world["beneficiary"]
    day = date(2026, 10, 5)
    site = world["site"]
    statuses = ["honoured", "honoured", "honoured", "no_show", "excused", "cancelled"]
    for hour, status in zip(range(8, 14), statuses, strict=True):
        make_appointment(
            session,
            counsellor=counsellor,
            appointment_type=kind,
            beneficiary=person,
            starts_at=at_paris(day, hour),
            status=status,
            site=site,
        )
    make_appointment(
        session,
        counsellor=manager,
        appointment_type=kind,
        beneficiary=person,
        starts_at=at_paris(day, 9),
        mode="video",
        status="no_show",
    )
    log_in(client, session, manager)

    response = client.get("/agenda/absenteisme", params={"du": "2026-10-01", "au": "2026-10-31"})

    assert response.status_code == 200
    rows = {
        re.sub(r"\s+", " ", row).strip()
        for row in re.findall(r"<tr>(.*?)</tr>", response.text, re.S)
    }
    cells = {re.sub(r"<[^>]+>", "|", row) for row in rows}
    assert any("Élodie Martin" in c and "|3|" in c and "|1|" in c and "25 %" in c for c in cells)
    assert any("Marc Responsable" in c and "100 %" in c for c in cells)
    assert any("Lyon Part-Dieu" in c and "25 %" in c for c in cells)
    assert any("À distance" in c and "100 %" in c for c in cells)
    assert "40 %" in response.text  # 2 no-shows out of 5


def test_no_show_rate_is_for_managers_only(client, session, world):
    log_in(client, session, world["counsellor"])

    assert client.get("/agenda/absenteisme").status_code == 403


# ---- booking from a case -------------------------------------------------------------------


@pytest.fixture
def bookable(session, world):
    """A free hour at the site, a week ahead, for the counsellor."""
    counsellor = world["counsellor"]
    day = utcnow().astimezone(PARIS).date() + timedelta(days=7)
    session.add(
        OpeningSlot(
            operator_id=counsellor.operator_id,
            counsellor_id=counsellor.id,
            site_id=world["site"].id,
            weekday=day.weekday(),
            start_time=time(9),
            end_time=time(10),
            valid_from=day - timedelta(days=1),
            valid_until=day,
        )
    )
    session.flush()
    return day


def test_case_booking_panel_lists_free_slots(client, session, world, bookable):
    log_in(client, session, world["counsellor"])
    params = {"motif": world["kind"].id, "mode": "on_site", "lieu": world["site"].id}

    response = client.get(f"/cases/{world['case'].id}/rendez-vous", params=params)

    assert response.status_code == 200
    assert 'id="case-booking"' in response.text
    assert "à 09 h 00" in response.text
    assert "Aucun rendez-vous pour ce dossier" in response.text


def test_booking_from_a_case_books_via_staff_for_its_beneficiary(client, session, world, bookable):
    token = log_in(client, session, world["counsellor"])
    case = world["case"]
    start = at_paris(bookable, 9).isoformat()
    form = {
        "csrf_token": token,
        "motif": world["kind"].id,
        "mode": "on_site",
        "lieu": world["site"].id,
        "creneau": start,
        "idempotency_key": "staff-test-1",
    }

    response = client.post(f"/cases/{case.id}/rendez-vous", data=form, follow_redirects=False)
    again = client.post(f"/cases/{case.id}/rendez-vous", data=form, headers={"HX-Request": "true"})

    assert response.status_code == 303
    [appointment] = session.exec(select(Appointment)).all()
    assert appointment.booked_via == "staff"
    assert appointment.case_id == case.id
    assert appointment.beneficiary_id == case.beneficiary_id
    assert appointment.booked_by_id == world["counsellor"].id
    assert again.status_code == 200 and appointment.reference in again.text


def test_booking_from_a_case_without_a_slot_shows_the_error(client, session, world, bookable):
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site", "creneau": ""}

    response = client.post(f"/cases/{world['case'].id}/rendez-vous", data=form)

    assert response.status_code == 200
    assert "Choisissez un créneau" in response.text


def test_booking_from_a_case_is_confirmed_with_its_day_and_a_link_to_it(
    client, session, world, bookable
):
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site"}
    form |= {"lieu": world["site"].id, "creneau": at_paris(bookable, 9).isoformat()}
    response = client.post(
        f"/cases/{world['case'].id}/rendez-vous",
        data=form | {"idempotency_key": "staff-t-2"},
        headers=HTMX,
    )
    [appointment] = session.exec(select(Appointment)).all()
    said = f"Rendez-vous réservé le {format_weekday(bookable)} à 09 h 00."
    assert response.status_code == 200  # htmx asked: the panel, no redirect
    assert confirmations(response) == [f"[focus] {said} Voir le rendez-vous"]
    assert f'<a href="#rdv-{appointment.id}">' in response.text
    assert f'<li id="rdv-{appointment.id}">' in response.text
    assert response.text.count("autofocus") == 1


def test_a_refused_booking_from_a_case_confirms_nothing(client, session, world, bookable):
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site", "creneau": ""}
    response = client.post(f"/cases/{world['case'].id}/rendez-vous", data=form, headers=HTMX)
    assert "Choisissez un créneau" in response.text and confirmations(response) == []


def test_case_booking_of_another_operator_gets_404(client, session, world):
    other_case = make_case(session, world["stranger"])
    log_in(client, session, world["counsellor"])

    assert client.get(f"/cases/{other_case.id}/rendez-vous").status_code == 404


# ---- the free slots of the booking panel, week by week -------------------------------------


def open_on(session, world, *days: date, start: int = 9, end: int = 10) -> None:
    """An opening of the counsellor at the site on each of these days alone."""
    counsellor = world["counsellor"]
    for day in days:
        session.add(
            OpeningSlot(
                operator_id=counsellor.operator_id,
                counsellor_id=counsellor.id,
                site_id=world["site"].id,
                weekday=day.weekday(),
                start_time=time(start),
                end_time=time(end),
                valid_from=day,
                valid_until=day,
            )
        )
    session.flush()


def slot_panel(client, world, **params):
    query = {"motif": world["kind"].id, "mode": "on_site", "lieu": world["site"].id, **params}
    response = client.get(f"/cases/{world['case'].id}/rendez-vous", params=query)
    assert response.status_code == 200
    return response.text


def day_groups(page: str) -> list[tuple[str, list[str]]]:
    """[(the day's legend, [its times]), …] as the panel groups them."""
    groups = re.findall(
        r'<fieldset class="slot-day">\s*<legend>([^<]+)</legend>(.*?)</fieldset>', page, re.S
    )
    return [(legend, re.findall(r">(\d\d h \d\d)</label>", body)) for legend, body in groups]


def week_links(page: str) -> dict[str, str]:
    """{« Semaine précédente » / « Semaine suivante »: the week its plain link asks for}."""
    links = re.findall(r'<a href="[^"]*semaine=([\d-]+)"[^>]*>[←\s]*(Semaine \w+)', page)
    return {label: week for week, label in links}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


WEEKDAYS = "lundi mardi mercredi jeudi vendredi samedi dimanche".split()
MONTHS = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre"


def heading(day: date, this_year: int) -> str:
    """« Mardi 1er décembre », with the year when it is not this one."""
    number = "1er" if day.day == 1 else str(day.day)
    label = f"{WEEKDAYS[day.weekday()].capitalize()} {number} {MONTHS.split()[day.month - 1]}"
    return label if day.year == this_year else f"{label} {day.year}"


def test_the_panel_opens_on_the_week_of_the_next_free_slot(client, session, world):
    today = paris_today()
    later = today + timedelta(days=21)
    open_on(session, world, later)
    log_in(client, session, world["counsellor"])

    page = slot_panel(client, world)

    first_day = monday(later)
    assert f"Semaine du lundi {first_day.day} " in page
    [(legend, times)] = day_groups(page)
    assert legend.startswith(WEEKDAYS[later.weekday()].capitalize() + f" {later.day} ")
    assert times == ["09 h 00"]
    assert week_links(page) == {
        "Semaine précédente": (first_day - timedelta(days=7)).isoformat(),
        "Semaine suivante": (first_day + timedelta(days=7)).isoformat(),
    }


def test_free_slots_are_grouped_by_day_in_french_under_a_heading(client, session, world):
    week = monday(paris_today()) + timedelta(days=7)
    tuesday, thursday = week + timedelta(days=1), week + timedelta(days=3)
    open_on(session, world, thursday, start=14, end=15)
    open_on(session, world, tuesday, start=9, end=10)
    log_in(client, session, world["counsellor"])

    page = slot_panel(client, world, semaine=week.isoformat())

    this_year = paris_today().year
    # The opening's last start leaves room for the hour the type lasts: one start a day here.
    assert [legend for legend, _ in day_groups(page)] == [
        heading(tuesday, this_year),
        heading(thursday, this_year),
    ]
    assert [times for _, times in day_groups(page)] == [["09 h 00"], ["14 h 00"]]
    assert f'aria-label="{heading(tuesday, this_year).lower()} à 09 h 00"' in page
    assert "/2026" not in page and "/2027" not in page


def test_weeks_go_forward_and_back_within_this_week_and_the_horizon(client, session, world):
    today = paris_today()
    open_on(session, world, today + timedelta(days=7))
    horizon = today + timedelta(days=world["kind"].max_horizon_days)
    log_in(client, session, world["counsellor"])

    asked_midweek = slot_panel(client, world, semaine=(today + timedelta(days=16)).isoformat())
    before = slot_panel(client, world, semaine=(today - timedelta(days=40)).isoformat())
    beyond = slot_panel(client, world, semaine=(horizon + timedelta(days=30)).isoformat())

    week = monday(today + timedelta(days=16))
    assert f"Semaine du lundi {week.day} " in asked_midweek
    assert "Aucun créneau libre cette semaine." in asked_midweek
    first_free_week = monday(today + timedelta(days=7))
    assert re.search(
        rf'<a href="[^"]*semaine={first_free_week.isoformat()}"[^>]*>'
        rf"Aller au prochain créneau libre \(semaine du lundi {first_free_week.day} ",
        asked_midweek,
    )
    assert week_links(asked_midweek) == {
        "Semaine précédente": (week - timedelta(days=7)).isoformat(),
        "Semaine suivante": (week + timedelta(days=7)).isoformat(),
    }
    # Never before this week, never past the week of the horizon's last day.
    assert f"Semaine du lundi {monday(today).day} " in before
    assert week_links(before) == {"Semaine suivante": (monday(today) + timedelta(7)).isoformat()}
    assert f"Semaine du lundi {monday(horizon).day} " in beyond
    assert week_links(beyond) == {
        "Semaine précédente": (monday(horizon) - timedelta(7)).isoformat()
    }


def test_the_week_links_swap_the_panel_with_htmx(client, session, world):
    today = paris_today()
    open_on(session, world, today + timedelta(days=7), today + timedelta(days=14))
    log_in(client, session, world["counsellor"])
    page = slot_panel(client, world)
    next_week = week_links(page)["Semaine suivante"]

    swapped = client.get(
        f"/cases/{world['case'].id}/rendez-vous",
        params={"motif": world["kind"].id, "mode": "on_site", "lieu": world["site"].id}
        | {"semaine": next_week},
        headers={"HX-Request": "true"},
    )

    assert swapped.status_code == 200 and "<html" not in swapped.text
    assert swapped.text.lstrip().startswith('<section id="case-booking"')
    assert f'hx-get="/cases/{world["case"].id}/rendez-vous?' in page
    assert 'hx-target="#case-booking"' in page
    second = date.fromisoformat(next_week)
    assert f"Semaine du lundi {second.day} " in swapped.text
    assert [times for _, times in day_groups(swapped.text)] == [["09 h 00"]]


def test_a_form_error_keeps_the_week_shown(client, session, world):
    today = paris_today()
    open_on(session, world, today + timedelta(days=7), today + timedelta(days=14))
    week = monday(today + timedelta(days=14))
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site"}
    form |= {"lieu": world["site"].id, "semaine": week.isoformat(), "creneau": ""}

    response = client.post(
        f"/cases/{world['case'].id}/rendez-vous", data=form, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert "Choisissez un créneau" in response.text
    assert f"Semaine du lundi {week.day} " in response.text


@pytest.mark.parametrize("field", ["motif", "lieu", "semaine"])
def test_an_altered_hidden_value_gets_a_french_message_in_the_panel(
    client, session, world, bookable, field
):
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site"}
    form |= {"lieu": world["site"].id, "creneau": at_paris(bookable, 9).isoformat()}
    form[field] = "abc"

    response = client.post(
        f"/cases/{world['case'].id}/rendez-vous", data=form, headers={"HX-Request": "true"}
    )

    assert response.status_code == 200
    assert '<section id="case-booking"' in response.text
    assert "Le formulaire envoyé a été modifié ou est incomplet" in response.text
    assert session.exec(select(Appointment)).all() == []


def test_a_slot_taken_meanwhile_offers_the_next_free_ones_grouped_by_day(client, session, world):
    today = paris_today()
    first, second = today + timedelta(days=7), today + timedelta(days=8)
    open_on(session, world, first, second, start=9, end=11)
    token = log_in(client, session, world["counsellor"])
    form = {"csrf_token": token, "motif": world["kind"].id, "mode": "on_site"}
    form |= {"lieu": world["site"].id, "creneau": at_paris(first, 9).isoformat()}
    url = f"/cases/{world['case'].id}/rendez-vous"
    assert client.post(url, data=form | {"idempotency_key": "staff-a"}).status_code == 200

    taken = client.post(url, data=form | {"idempotency_key": "staff-b"}, headers=HTMX)

    assert taken.status_code == 200
    assert "Ce créneau vient d'être réservé" in html.unescape(taken.text)
    assert "Créneaux libres suivants" in taken.text
    this_year = today.year
    # The hour taken blocks 9:00–10:00 on the first day; the second is free all morning.
    assert day_groups(taken.text) == [
        (heading(first, this_year), ["10 h 00"]),
        (heading(second, this_year), ["09 h 00", "09 h 15", "09 h 30", "09 h 45", "10 h 00"]),
    ]
    assert len(session.exec(select(Appointment)).all()) == 1
