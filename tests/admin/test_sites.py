"""« Sites » services: a site's time zone and position from its postcode, its permanences, the
people attached to it, closing it with appointments to come, the tenant scope and the record
of every change."""

from datetime import time, timedelta

import pytest
from sqlmodel import select

from app.core.errors import Forbidden, Invalid, NotFound
from app.models.appointments import Appointment, OpeningSlot
from app.models.nomenclatures import Role
from app.models.operators import (
    Permanence,
    PermanenceEdit,
    PermanenceStaff,
    Site,
    SiteClosing,
    SiteEdit,
    SiteEvent,
)
from app.models.staff import StaffEvent, StaffSite
from app.services.admin.operators import list_sites
from app.services.admin.permanences import add_permanence, end_permanence, update_permanence
from app.services.admin.site_closing import close_site, closing_view
from app.services.admin.site_views import site_view, sites_view
from app.services.admin.sites import (
    attach_member,
    create_site,
    detach_member,
    load_site,
    update_site,
)
from app.services.booking.geography import postcode_time_zone
from tests.factories import (
    make_appointment,
    make_openings,
    make_site,
    make_staff,
    outbox_messages,
    paris_today,
    working_day_at,
)


def site_form(**overrides) -> SiteEdit:
    values = {
        "name": "Villeurbanne Gratte-Ciel",
        "address": "2 avenue Henri Barbusse",
        "postcode": "69100",
        "city": "Villeurbanne",
        "phone": "04 72 00 00 00",
        "accessibility": "Plain-pied",
        "opening_hours": "Du lundi au vendredi, 9 h – 17 h",
    }
    return SiteEdit(**{**values, **overrides})


def permanence_form(**overrides) -> PermanenceEdit:
    values = {
        "venue": "Mairie de Vaulx-en-Velin",
        "address": "Place de la Nation",
        "postcode": "69120",
        "city": "Vaulx-en-Velin",
        "weekdays": [3, 0],
        "start_time": time(9),
        "end_time": time(12, 30),
        "starts_on": paris_today(),
    }
    return PermanenceEdit(**{**values, **overrides})


def kinds(session, site) -> list[str]:
    query = select(SiteEvent.kind).where(SiteEvent.site_id == site.id).order_by(SiteEvent.id)
    return list(session.exec(query))


@pytest.mark.parametrize(
    ("postcode", "zone"),
    [
        ("69003", "Europe/Paris"),
        ("20000", "Europe/Paris"),
        ("97110", "America/Guadeloupe"),
        ("97200", "America/Martinique"),
        ("97300", "America/Cayenne"),
        ("97400", "Indian/Reunion"),
        ("97500", "America/Miquelon"),
        ("97600", "Indian/Mayotte"),
    ],
)
def test_the_time_zone_follows_the_territory_of_the_postcode(postcode, zone):
    assert postcode_time_zone(postcode) == zone


def test_a_new_site_takes_its_time_zone_from_its_postcode_and_is_recorded(session, admin, ara):
    site = create_site(session=session, actor=admin, data=site_form(postcode="97400"))
    assert (site.operator_id, site.time_zone, site.phone) == (
        ara.id,
        "Indian/Reunion",
        "+33472000000",
    )
    event = session.exec(select(SiteEvent).where(SiteEvent.site_id == site.id)).one()
    assert (event.kind, event.actor_id) == ("created", admin.id)
    assert "97400" in event.detail and "Indian/Reunion" in event.detail


def test_an_unknown_postcode_is_refused_with_a_message_by_the_field(session, admin, ara):
    with pytest.raises(Invalid) as refused:
        create_site(session=session, actor=admin, data=site_form(postcode="99999"))
    assert "Code postal inconnu" in refused.value.fields["postcode"]
    assert session.exec(select(Site).where(Site.operator_id == ara.id)).all() == []


def test_an_edit_records_each_field_changed_and_nothing_when_nothing_changed(session, admin, ara):
    site = create_site(session=session, actor=admin, data=site_form())
    update_site(session=session, actor=admin, site_id=site.id, data=site_form())
    assert kinds(session, site) == ["created"]
    update_site(
        session=session,
        actor=admin,
        site_id=site.id,
        data=site_form(postcode="97200", city="Fort-de-France", phone=""),
    )
    assert site.time_zone == "America/Martinique" and site.phone == ""
    detail = session.exec(select(SiteEvent.detail).where(SiteEvent.kind == "edited")).one()
    assert "Code postal : « 69100 » → « 97200 »" in detail
    assert "Téléphone : « 04 72 00 00 00 » → —" in detail
    assert "Fuseau horaire : « Europe/Paris » → « America/Martinique »" in detail
    assert "Nom" not in detail


def test_another_operators_site_is_not_found_and_other_roles_are_refused(
    session, admin, counsellor, bre
):
    theirs = make_site(session, bre, name="Rennes")
    with pytest.raises(NotFound):
        load_site(session=session, actor=admin, site_id=theirs.id)
    with pytest.raises(NotFound):
        update_site(session=session, actor=admin, site_id=theirs.id, data=site_form())
    with pytest.raises(Forbidden):
        sites_view(session=session, actor=counsellor)
    sysadmin = make_staff(session, None, Role.SYSADMIN)
    assert load_site(session=session, actor=sysadmin, site_id=theirs.id) is theirs


def test_a_permanence_is_listed_on_its_site_with_its_days_and_holders(
    session, admin, ara, counsellor
):
    site = make_site(session, ara)
    permanence = add_permanence(
        session=session,
        actor=admin,
        site_id=site.id,
        data=permanence_form(staff_ids=[counsellor.id]),
    )
    assert permanence.weekdays == "03"
    row = site_view(session=session, actor=admin, site_id=site.id).permanences[0]
    assert row.schedule == "lundi et jeudi, 09 h 00 – 12 h 30"
    assert row.state == "En cours" and [user.id for user in row.holders] == [counsellor.id]
    assert kinds(session, site) == ["permanence_added"]
    assert "Camille Martin" in session.exec(select(SiteEvent.detail)).one()


def test_a_permanence_needs_a_known_postcode_and_holders_of_the_operator(session, admin, ara, bre):
    site = make_site(session, ara)
    with pytest.raises(Invalid) as refused:
        add_permanence(
            session=session, actor=admin, site_id=site.id, data=permanence_form(postcode="99999")
        )
    assert "postcode" in refused.value.fields
    stranger = make_staff(session, bre)
    with pytest.raises(Invalid) as refused:
        add_permanence(
            session=session,
            actor=admin,
            site_id=site.id,
            data=permanence_form(staff_ids=[stranger.id]),
        )
    assert "staff_ids" in refused.value.fields
    assert session.exec(select(Permanence)).all() == []


def test_a_permanence_is_edited_then_ended_and_each_step_is_recorded(
    session, admin, ara, counsellor
):
    site = make_site(session, ara)
    permanence = add_permanence(
        session=session, actor=admin, site_id=site.id, data=permanence_form()
    )
    update_permanence(
        session=session,
        actor=admin,
        site_id=site.id,
        permanence_id=permanence.id,
        data=permanence_form(weekdays=[2], staff_ids=[counsellor.id]),
    )
    assert permanence.weekdays == "2"
    holders = session.exec(select(PermanenceStaff.staff_id)).all()
    assert holders == [counsellor.id]
    end_permanence(session=session, actor=admin, site_id=site.id, permanence_id=permanence.id)
    assert permanence.ended_at is not None
    assert kinds(session, site) == ["permanence_added", "permanence_edited", "permanence_ended"]
    with pytest.raises(Invalid):
        update_permanence(
            session=session,
            actor=admin,
            site_id=site.id,
            permanence_id=permanence.id,
            data=permanence_form(),
        )


def test_attaching_and_detaching_from_the_site_is_recorded_on_the_site_and_the_person(
    session, admin, ara, counsellor
):
    site = make_site(session, ara)
    attach_member(session=session, actor=admin, site_id=site.id, staff_id=counsellor.id)
    assert session.get(StaffSite, (counsellor.id, site.id)) is not None
    assert [
        user.id for user in site_view(session=session, actor=admin, site_id=site.id).members
    ] == [counsellor.id]
    detach_member(session=session, actor=admin, site_id=site.id, staff_id=counsellor.id)
    assert session.get(StaffSite, (counsellor.id, site.id)) is None
    assert kinds(session, site) == ["staff_attached", "staff_detached"]
    staff_kinds = session.exec(
        select(StaffEvent.kind).where(StaffEvent.staff_id == counsellor.id)
    ).all()
    assert staff_kinds.count("sites_changed") == 2


# ---- closing ------------------------------------------------------------------------------------


@pytest.fixture
def closing(session, ara, counsellor):
    """A site with a booked appointment to come, a past one, weekly openings and a permanence;
    and another open site of the operator."""
    site = make_site(session, ara, name="Lyon Part-Dieu", address="10 rue de la Part-Dieu")
    other = make_site(session, ara, name="Villeurbanne", postcode="69100", city="Villeurbanne")
    coming = make_appointment(
        session, starts_at=working_day_at(site), site=site, counsellor=counsellor
    )
    past = make_appointment(
        session, starts_at=working_day_at(site, days_ahead=-20), site=site, counsellor=counsellor
    )
    make_openings(session, counsellor, site, valid_from=paris_today() - timedelta(days=30))
    make_openings(session, counsellor, site, valid_from=paris_today() + timedelta(days=5))
    session.add(
        Permanence(
            operator_id=ara.id,
            site_id=site.id,
            venue="Mairie",
            postcode="69120",
            city="Vaulx-en-Velin",
            weekdays="0",
            start_time=time(9),
            end_time=time(12),
            starts_on=paris_today(),
        )
    )
    session.flush()
    return site, other, coming, past


def test_the_closing_page_lists_the_appointments_to_come_in_the_sites_time(session, admin, closing):
    site, other, coming, _ = closing
    page = closing_view(session=session, actor=admin, site_id=site.id)
    assert [item.appointment.id for item in page.appointments] == [coming.id]
    assert page.appointments[0].when.endswith("à 09 h 00")
    assert page.appointments[0].counsellor == "Camille Martin"
    assert [target.id for target in page.targets] == [other.id]


def test_nothing_closes_until_a_choice_is_made(session, admin, closing):
    site, _, coming, _ = closing
    with pytest.raises(Invalid) as refused:
        close_site(session=session, actor=admin, site_id=site.id, data=SiteClosing(listed=1))
    assert "choice" in refused.value.fields
    assert site.active and session.get(Appointment, coming.id).status == "booked"


def test_a_list_changed_since_it_was_shown_is_shown_again(session, admin, closing):
    site, *_ = closing
    with pytest.raises(Invalid) as refused:
        close_site(
            session=session,
            actor=admin,
            site_id=site.id,
            data=SiteClosing(choice="cancel", listed=0),
        )
    assert "ont changé" in refused.value.fields["__all__"]
    assert site.active


def test_closing_moves_the_appointments_to_another_site_and_tells_each_person(
    session, admin, closing
):
    site, other, coming, past = closing
    close_site(
        session=session,
        actor=admin,
        site_id=site.id,
        data=SiteClosing(choice="move", target_site_id=other.id, listed=1),
    )
    session.refresh(coming)
    assert (coming.site_id, coming.status, coming.ics_sequence) == (other.id, "booked", 1)
    assert session.get(Appointment, past.id).site_id == site.id
    [message] = outbox_messages(session)
    assert "change de lieu" in message.body_text and "Villeurbanne" in message.body_text
    assert not site.active and site.closed_at is not None
    assert site not in list_sites(session=session, operator_id=site.operator_id)
    detail = session.exec(select(SiteEvent.detail).where(SiteEvent.kind == "closed")).one()
    assert "1 rendez-vous à venir déplacé(s) vers Villeurbanne" in detail


def test_closing_refuses_to_move_appointments_to_a_closed_or_foreign_site(
    session, admin, closing, bre
):
    site, *_ = closing
    foreign = make_site(session, bre, name="Rennes")
    for target in (None, site.id, foreign.id):
        with pytest.raises(Invalid) as refused:
            close_site(
                session=session,
                actor=admin,
                site_id=site.id,
                data=SiteClosing(choice="move", target_site_id=target, listed=1),
            )
        assert "target_site_id" in refused.value.fields
    assert site.active


def test_closing_can_turn_the_appointments_into_phone_calls(session, admin, closing):
    site, _, coming, _ = closing
    close_site(
        session=session, actor=admin, site_id=site.id, data=SiteClosing(choice="phone", listed=1)
    )
    session.refresh(coming)
    assert (coming.mode, coming.site_id, coming.status) == ("phone", None, "booked")
    assert "Par téléphone" in outbox_messages(session)[0].body_text


def test_closing_can_cancel_the_appointments_ends_openings_and_permanences(session, admin, closing):
    site, _, coming, _ = closing
    close_site(
        session=session, actor=admin, site_id=site.id, data=SiteClosing(choice="cancel", listed=1)
    )
    assert session.get(Appointment, coming.id).status == "cancelled"
    assert "annulé" in outbox_messages(session)[0].subject
    openings = session.exec(select(OpeningSlot).where(OpeningSlot.site_id == site.id)).all()
    # The running ones ended yesterday; the ones not begun are gone.
    assert len(openings) == 7
    assert {opening.valid_until for opening in openings} == {paris_today() - timedelta(days=1)}
    assert session.exec(select(Permanence.ended_at)).one() is not None
    with pytest.raises(Invalid):
        update_site(session=session, actor=admin, site_id=site.id, data=site_form())


def test_a_site_without_appointments_to_come_closes_at_once(session, admin, ara):
    site = make_site(session, ara)
    close_site(session=session, actor=admin, site_id=site.id, data=SiteClosing())
    assert not site.active
    assert "Aucun rendez-vous à venir" in session.exec(select(SiteEvent.detail)).one()
