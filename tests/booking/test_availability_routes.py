"""Availability admin pages: motifs (operator admins), openings and absences (managers too)."""

from datetime import UTC, datetime, time
from html import unescape

import pytest
from sqlmodel import select

from app.models.appointments import Absence, AppointmentType, OpeningSlot
from app.models.nomenclatures import Role
from tests.factories import (
    log_in_as,
    make_appointment_type,
    make_operator,
    make_site,
    make_staff,
    unit_id,
)


def type_form(session, **changes) -> dict:
    form = {
        "name": "Premier rendez-vous CEP",
        "description": "",
        "duration_minutes": "60",
        "modes": ["on_site", "phone"],
        "online_bookable": "1",
        "min_notice_hours": "24",
        "max_horizon_days": "60",
        "cancel_cutoff_hours": "24",
        "buffer_minutes": "10",
        "unit_id": str(unit_id(session, "UO1")),
        "active": "1",
    }
    return form | changes


def test_admin_creates_a_motif(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    response = client.post(
        "/admin/motifs", data={**type_form(session), "csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 303
    kind = session.exec(select(AppointmentType).where(AppointmentType.operator_id == ara.id)).one()
    assert (kind.name, kind.modes, kind.buffer_minutes) == (
        "Premier rendez-vous CEP",
        "on_site phone",
        10,
    )
    assert kind.unit_id == unit_id(session, "UO1") and kind.online_bookable and kind.active
    page = client.get(response.headers["location"]).text
    assert "« Premier rendez-vous CEP » est enregistré." in page


def test_admin_edits_a_motif_and_unchecked_boxes_turn_off(client, session, ara):
    kind = make_appointment_type(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    form = type_form(session, name="Point d'étape", duration_minutes="30", modes=["video"])
    del form["online_bookable"], form["active"]

    client.post(f"/admin/motifs/{kind.id}", data={**form, "csrf_token": csrf})

    session.refresh(kind)
    assert (kind.name, kind.duration_minutes, kind.modes) == ("Point d'étape", 30, "video")
    assert not kind.online_bookable and not kind.active


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"name": "  "}, "name", "Ce champ est obligatoire"),
        ({"duration_minutes": "2"}, "duration_minutes", "Doit être au moins 5"),
        ({"modes": []}, "modes", "Cochez au moins un mode"),
        ({"buffer_minutes": "abc"}, "buffer_minutes", "Nombre entier attendu"),
        ({"unit_id": "999999"}, "unit_id", "Unité d'œuvre inconnue"),
        ({"duration_minutes": "481"}, "duration_minutes", "Doit être au plus 480"),
        ({"buffer_minutes": "121"}, "buffer_minutes", "Doit être au plus 120"),
        ({"buffer_minutes": "-5"}, "buffer_minutes", "Doit être au moins 0"),
        ({"booking_question": "?" * 301}, "booking_question", "Trop long : 300 caractères au plus"),
    ],
)
def test_a_bad_motif_is_explained_and_keeps_what_was_typed(
    client, session, ara, change, field, message
):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    form = type_form(session, description="Mon texte tapé", **change)

    page = client.post("/admin/motifs", data={**form, "csrf_token": csrf})

    assert page.status_code == 200
    assert message in unescape(page.text) and f'id="new-{field}-error"' in unescape(page.text)
    assert "Mon texte tapé" in unescape(page.text)
    assert session.exec(select(AppointmentType)).first() is None


def test_two_motifs_cannot_share_a_name(client, session, ara):
    make_appointment_type(session, ara, name="Premier rendez-vous CEP")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    page = client.post("/admin/motifs", data={**type_form(session), "csrf_token": csrf})

    assert "Un autre motif porte déjà ce nom" in unescape(page.text)


@pytest.mark.parametrize("role", [Role.COUNSELLOR, Role.MANAGER])
def test_only_operator_admins_manage_motifs(client, session, ara, role):
    kind = make_appointment_type(session, ara)
    _, csrf = log_in_as(client, session, ara, role)

    assert client.get("/admin/motifs").status_code == 403
    response = client.post(
        f"/admin/motifs/{kind.id}", data={**type_form(session), "csrf_token": csrf}
    )
    assert response.status_code == 403


def test_another_operators_motif_is_not_found(client, session, ara):
    kind = make_appointment_type(
        session, make_operator(session, "BRE", "Bretagne"), name="Entretien"
    )
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    response = client.post(
        f"/admin/motifs/{kind.id}", data={**type_form(session), "csrf_token": csrf}
    )

    assert response.status_code == 404
    assert "Entretien" not in client.get("/admin/motifs").text


def test_admin_sets_the_question_asked_at_booking_on_one_line(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)
    question = "  Êtes-vous\nen emploi ?\x00 "

    client.post(
        "/admin/motifs",
        data={**type_form(session, booking_question=question), "csrf_token": csrf},
    )

    kind = session.exec(select(AppointmentType)).one()
    assert kind.booking_question == "Êtes-vous en emploi ?"
    page = unescape(client.get("/admin/motifs").text)
    assert "Question posée à la réservation : « Êtes-vous en emploi ? »" in page
    assert 'value="Êtes-vous en emploi ?"' in page  # the edit form shows it to change
    client.post(
        f"/admin/motifs/{kind.id}",
        data={**type_form(session, booking_question=""), "csrf_token": csrf},
    )
    session.refresh(kind)
    assert kind.booking_question == ""


def test_admin_deactivates_then_reactivates_a_motif(client, session, ara):
    kind = make_appointment_type(session, ara, name="Point d'étape")
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    response = client.post(
        f"/admin/motifs/{kind.id}/desactiver", data={"csrf_token": csrf}, follow_redirects=False
    )

    assert response.status_code == 303
    session.refresh(kind)
    assert not kind.active
    page = unescape(client.get(response.headers["location"]).text)
    assert "« Point d'étape » est enregistré (inactif : il n'est plus proposé" in page
    assert "Réactiver" in page and "Inactif" in page
    client.post(f"/admin/motifs/{kind.id}/reactiver", data={"csrf_token": csrf})
    session.refresh(kind)
    assert kind.active


@pytest.mark.parametrize("action", ["desactiver", "reactiver"])
def test_deactivating_is_for_the_motifs_own_operator_admins(client, session, ara, action):
    theirs = make_appointment_type(session, make_operator(session, "BRE", "Bretagne"))
    mine = make_appointment_type(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    assert (
        client.post(f"/admin/motifs/{theirs.id}/{action}", data={"csrf_token": csrf}).status_code
        == 404
    )
    assert client.post(f"/admin/motifs/{mine.id}/{action}").status_code == 403  # no CSRF token
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    assert (
        client.post(f"/admin/motifs/{mine.id}/{action}", data={"csrf_token": csrf}).status_code
        == 403
    )
    session.refresh(theirs)
    session.refresh(mine)
    assert theirs.active and mine.active


# ---- openings and absences --------------------------------------------------------------------


def opening_form(counsellor, site, **changes) -> dict:
    form = {
        "counsellor_id": str(counsellor.id),
        "site_id": str(site.id) if site else "",
        "weekday": "0",
        "start_time": "09:00",
        "end_time": "12:30",
        "modes": ["on_site", "phone"],
        "valid_from": "2027-01-01",
        "valid_until": "",
    }
    return form | changes


@pytest.mark.parametrize("role", [Role.MANAGER, Role.OPERATOR_ADMIN])
def test_planners_add_and_remove_an_opening(client, session, ara, role):
    site = make_site(session, ara)
    counsellor = make_staff(session, ara, full_name="Camille Durand")
    _, csrf = log_in_as(client, session, ara, role)

    response = client.post(
        "/admin/disponibilites/ouvertures",
        data={**opening_form(counsellor, site), "csrf_token": csrf},
        follow_redirects=False,
    )

    assert response.status_code == 303
    opening = session.exec(select(OpeningSlot)).one()
    assert (opening.start_time, opening.end_time, opening.modes) == (
        time(9),
        time(12, 30),
        "on_site phone",
    )
    page = client.get(response.headers["location"]).text
    assert "Camille Durand" in page and "09:00 – 12:30" in page
    client.post(
        f"/admin/disponibilites/ouvertures/{opening.id}/supprimer", data={"csrf_token": csrf}
    )
    assert session.exec(select(OpeningSlot)).first() is None


@pytest.mark.parametrize(
    "change, field, message",
    [
        ({"end_time": "08:00"}, "end_time", "La fin doit suivre le début"),
        ({"valid_until": "2026-01-01"}, "valid_until", "La fin de validité précède son début"),
        ({"modes": []}, "modes", "Cochez au moins un mode"),
        ({"site_id": ""}, "modes", "Sur place suppose un lieu d'accueil"),
        ({"counsellor_id": ""}, "counsellor_id", "Nombre entier attendu"),
        ({"weekday": "9"}, "weekday", "Doit être au plus 6"),
    ],
)
def test_a_bad_opening_is_explained_and_keeps_what_was_typed(
    client, session, ara, change, field, message
):
    site = make_site(session, ara, name="Lieu tapé")
    counsellor = make_staff(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    form = opening_form(counsellor, site, start_time="09:15", **change)

    page = client.post("/admin/disponibilites/ouvertures", data={**form, "csrf_token": csrf})

    assert page.status_code == 200
    assert message in unescape(page.text) and f'id="o-{field}-error"' in unescape(page.text)
    assert 'value="09:15"' in unescape(page.text)
    assert session.exec(select(OpeningSlot)).first() is None


def test_an_opening_for_another_operators_counsellor_or_site_is_refused(client, session, ara):
    bre = make_operator(session, "BRE", "Bretagne")
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)
    mine, theirs = make_staff(session, ara), make_staff(session, bre)

    page = client.post(
        "/admin/disponibilites/ouvertures",
        data={**opening_form(theirs, make_site(session, ara)), "csrf_token": csrf},
    )
    assert "Conseiller ou conseillère inconnu(e)" in unescape(page.text)
    page = client.post(
        "/admin/disponibilites/ouvertures",
        data={**opening_form(mine, make_site(session, bre)), "csrf_token": csrf},
    )
    assert "Lieu d'accueil inconnu" in unescape(page.text)


def test_a_remote_opening_has_no_site(client, session, ara):
    counsellor = make_staff(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)

    client.post(
        "/admin/disponibilites/ouvertures",
        data={**opening_form(counsellor, None, modes=["phone", "video"]), "csrf_token": csrf},
    )

    opening = session.exec(select(OpeningSlot)).one()
    assert opening.site_id is None and opening.modes == "phone video"
    assert "À distance" in unescape(client.get("/admin/disponibilites").text)


def test_an_absence_is_read_in_the_operators_time_zone(client, session, ara):
    counsellor = make_staff(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    client.post(
        "/admin/disponibilites/absences",
        data={
            "counsellor_id": str(counsellor.id),
            "starts_at": "2027-07-05T09:00",
            "ends_at": "2027-07-05T17:00",
            "reason": "Formation",
            "csrf_token": csrf,
        },
    )

    absence = session.exec(select(Absence)).one()
    assert absence.starts_at == datetime(2027, 7, 5, 7, tzinfo=UTC)
    assert "Formation" in unescape(client.get("/admin/disponibilites").text)
    client.post(f"/admin/disponibilites/absences/{absence.id}/supprimer", data={"csrf_token": csrf})
    assert session.exec(select(Absence)).first() is None


def test_an_absence_ending_before_it_starts_is_explained(client, session, ara):
    counsellor = make_staff(session, ara)
    _, csrf = log_in_as(client, session, ara, Role.MANAGER)

    page = client.post(
        "/admin/disponibilites/absences",
        data={
            "counsellor_id": str(counsellor.id),
            "starts_at": "2027-07-05T09:00",
            "ends_at": "2027-07-05T08:00",
            "csrf_token": csrf,
        },
    )

    assert "La fin doit suivre le début" in unescape(
        page.text
    ) and 'value="2027-07-05T09:00"' in unescape(page.text)
    assert session.exec(select(Absence)).first() is None


def test_counsellors_do_not_manage_availability(client, session, ara):
    _, csrf = log_in_as(client, session, ara, Role.COUNSELLOR)
    assert client.get("/admin/disponibilites").status_code == 403


@pytest.mark.parametrize("role", [Role.NATIONAL_OBSERVER, Role.SYSADMIN])
@pytest.mark.parametrize("url", ["/admin/motifs", "/admin/disponibilites"])
def test_roles_without_an_operator_are_refused(client, session, role, url):
    log_in_as(client, session, None, role)
    assert client.get(url).status_code == 403


def test_another_operators_opening_and_absence_are_not_found(client, session, ara):
    bre = make_operator(session, "BRE", "Bretagne")
    theirs = make_staff(session, bre, full_name="Yann Le Goff")
    opening = OpeningSlot(
        operator_id=bre.id,
        counsellor_id=theirs.id,
        weekday=0,
        start_time=time(9),
        end_time=time(10),
        modes="phone",
        valid_from=datetime(2027, 1, 1).date(),
    )
    absence = Absence(
        operator_id=bre.id,
        counsellor_id=theirs.id,
        starts_at=datetime(2027, 1, 1, tzinfo=UTC),
        ends_at=datetime(2027, 1, 2, tzinfo=UTC),
    )
    session.add_all([opening, absence])
    session.flush()
    _, csrf = log_in_as(client, session, ara, Role.OPERATOR_ADMIN)

    assert "Yann Le Goff" not in unescape(client.get("/admin/disponibilites").text)
    for url in (
        f"/admin/disponibilites/ouvertures/{opening.id}/supprimer",
        f"/admin/disponibilites/absences/{absence.id}/supprimer",
    ):
        assert client.post(url, data={"csrf_token": csrf}).status_code == 404
