"""Notifications: each event tells the counsellor concerned, never the one who acted; the
count, the list (newest first, with the person's name), opening one and marking all read."""

from datetime import timedelta

import pytest
from sqlmodel import select

from app.core.config import get_settings
from app.core.errors import NotFound
from app.core.security import create_link_token
from app.models.beneficiaries import Beneficiary
from app.models.nomenclatures import Channel, RequestMotive, Role
from app.models.notifications import Notification, NotificationKind
from app.models.triage import TriageCreate
from app.services.booking.changes import cancel_appointment, move_appointment
from app.services.cases.triage import create_request
from app.services.deliverables.documents import issue_deliverable
from app.services.deliverables.sharing import acknowledge_online
from app.services.messaging.notifications import (
    list_notifications,
    mark_all_read,
    notify,
    open_notification,
    unread_count,
)
from app.services.referrals.partner_side import partner_decides, partner_reports_outcome
from app.services.referrals.views import follow_up_counts, follow_up_due
from app.services.referrals.workflow import expire_unanswered
from tests.booking.test_reservations import agenda, book  # noqa: F401 (agenda is a fixture)
from tests.deliverables.test_documents import draft
from tests.factories import (
    make_case,
    make_operator,
    make_partner,
    make_staff,
    outbox_messages,
    working_day_at,
)
from tests.referrals.test_workflow import sent, token_of

K = NotificationKind


def notifications(session, user) -> list[Notification]:
    return list(
        session.exec(
            select(Notification)
            .where(Notification.recipient_id == user.id)
            .order_by(Notification.id)
        )
    )


def tell(session, user, text="Quelque chose est arrivé.", **overrides) -> Notification:
    values = {
        "session": session,
        "operator_id": user.operator_id,
        "recipient_id": user.id,
        "kind": K.REFERRAL_ANSWERED,
        "text": text,
        "link": "/",
    }
    return notify(**{**values, **overrides})


@pytest.fixture
def partner(session, ara):
    return make_partner(session, ara, name="CIBC Lyon", email="accueil@cibc-lyon.fr")


# ---- notify itself --------------------------------------------------------------------------


def test_nobody_is_told_of_their_own_action(session, counsellor):
    assert tell(session, counsellor, actor_id=counsellor.id) is None
    assert notifications(session, counsellor) == []


def test_an_account_of_another_operator_or_inactive_is_told_nothing(session, counsellor, bre):
    assert tell(session, counsellor, operator_id=bre.id) is None
    counsellor.active = False
    assert tell(session, counsellor) is None
    assert notifications(session, counsellor) == []


# ---- each event -----------------------------------------------------------------------------


@pytest.mark.usefixtures("clock")
def test_a_partner_declining_tells_the_referent_and_links_to_the_referral(
    session, counsellor, case, partner
):
    referral, token = sent(session, counsellor, case, partner)
    assert notifications(session, counsellor) == []  # sending it was her own action
    partner_decides(session=session, token=token, accept=False, reason="Plus de places")
    [told] = notifications(session, counsellor)
    assert told.kind == K.REFERRAL_ANSWERED and told.case_id == case.id
    assert (
        told.text
        == f"CIBC Lyon a refusé l'orientation (dossier {case.reference}) : voyez son motif."
    )
    assert told.link == f"/cases/{case.id}?section=orientations#ref-{referral.id}"
    assert told.read_at is None


@pytest.mark.usefixtures("clock")
def test_a_partner_accepting_then_reporting_tells_the_referent_each_time(
    session, counsellor, case, partner
):
    referral, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=True)
    outcome_token = token_of(outbox_messages(session)[-1])
    partner_reports_outcome(session=session, token=outcome_token, outcome="achieved")
    texts = [n.text for n in notifications(session, counsellor)]
    assert texts == [
        f"CIBC Lyon a accepté l'orientation (dossier {case.reference}).",
        f"CIBC Lyon a indiqué l'issue de l'orientation (dossier {case.reference}).",
    ]
    assert referral.status == "completed"


@pytest.mark.usefixtures("clock")
def test_the_referent_not_the_sender_is_told_when_the_case_changed_hands(
    session, counsellor, ara, partner
):
    referent = make_staff(session, ara)
    case = make_case(session, counsellor, referent_id=referent.id)
    _, token = sent(session, counsellor, case, partner)
    partner_decides(session=session, token=token, accept=False, reason="Hors de notre secteur")
    assert [n.kind for n in notifications(session, referent)] == [K.REFERRAL_ANSWERED]
    assert notifications(session, counsellor) == []


@pytest.mark.usefixtures("clock")
def test_an_expired_referral_tells_the_referent_and_is_to_chase(session, counsellor, case, partner):
    referral, _ = sent(session, counsellor, case, partner)  # no follow-up date
    days = get_settings().referral_answer_days
    assert follow_up_counts(session=session, actor=counsellor).due == 0
    expire_unanswered(session=session, now=referral.sent_at + timedelta(days=days))
    [told] = notifications(session, counsellor)
    assert told.kind == K.REFERRAL_EXPIRED
    assert f"sans réponse après {days} jours" in told.text
    assert follow_up_counts(session=session, actor=counsellor).due == 1
    assert [r.referral.id for r in follow_up_due(session=session, actor=counsellor)] == [
        referral.id
    ]


def test_a_beneficiary_booking_online_tells_the_counsellor(session, agenda):  # noqa: F811
    *_, counsellor = agenda
    appointment = book(session, agenda)
    [told] = notifications(session, counsellor)
    assert told.kind == K.APPOINTMENT_BOOKED
    assert appointment.reference in told.text and "réservé en ligne" in told.text
    day = working_day_at(agenda[1]).date().isoformat()
    assert told.link == f"/agenda?jour={day}&conseiller={counsellor.id}"


def test_a_booking_by_staff_tells_nobody(session, agenda):  # noqa: F811
    operator, _site, _kind, counsellor = agenda
    colleague = make_staff(session, operator)
    case = make_case(session, colleague)
    book(session, agenda, person=None, via="staff", actor=colleague, case_id=case.id)
    assert notifications(session, counsellor) == []


def test_a_beneficiary_moving_or_cancelling_tells_the_counsellor(session, agenda):  # noqa: F811
    _operator, site, _kind, counsellor = agenda
    appointment = book(session, agenda)
    move_appointment(
        session=session, appointment_id=appointment.id, start=working_day_at(site, hour=11)
    )
    cancel_appointment(session=session, appointment_id=appointment.id)
    kinds = [n.kind for n in notifications(session, counsellor)]
    assert kinds == [K.APPOINTMENT_BOOKED, K.APPOINTMENT_MOVED, K.APPOINTMENT_CANCELLED]
    moved = notifications(session, counsellor)[1]
    assert "11 h 00" in moved.text and "désormais" in moved.text


def test_staff_cancelling_tells_nobody(session, agenda):  # noqa: F811
    *_, counsellor = agenda
    appointment = book(session, agenda)
    cancel_appointment(session=session, appointment_id=appointment.id, by="staff")
    assert [n.kind for n in notifications(session, counsellor)] == [K.APPOINTMENT_BOOKED]


def test_a_document_read_online_tells_the_referent(session, counsellor, case):
    deliverable = draft(session, counsellor, case)
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    token = create_link_token(purpose="document", subject_id=version.id)
    acknowledge_online(session=session, token=token)
    acknowledge_online(session=session, token=token)  # once is enough
    [told] = notifications(session, counsellor)
    assert told.kind == K.DOCUMENT_ACKNOWLEDGED and told.case_id == case.id
    assert told.link == f"/deliverables/{deliverable.id}"
    assert f"« {deliverable.title} », version 1, en ligne" in told.text


def test_a_request_assigned_by_a_colleague_tells_the_assignee(session, counsellor, ara, case):
    colleague = make_staff(session, ara, full_name="Lou Bernard")
    data = TriageCreate(
        beneficiary_id=case.beneficiary_id,
        channel=Channel.PHONE,
        motive=RequestMotive.RETRAIN,
        assigned_to_id=counsellor.id,
    )
    request = create_request(session=session, actor=colleague, data=data)
    [told] = notifications(session, counsellor)
    assert told.kind == K.REQUEST_ASSIGNED and told.link == f"/triage/{request.id}"
    assert told.text.startswith("Lou Bernard vous a attribué une demande")
    # Putting it in one's own queue is no news.
    create_request(session=session, actor=counsellor, data=data)
    assert len(notifications(session, counsellor)) == 1


# ---- reading them ---------------------------------------------------------------------------


def test_the_list_is_newest_first_with_the_person_and_the_count_is_the_unread(
    session, counsellor, case
):
    first = tell(session, counsellor, "Premier", case_id=case.id)
    second = tell(session, counsellor, "Second")
    second.created_at = first.created_at + timedelta(seconds=1)
    rows = list_notifications(session=session, actor=counsellor)
    assert [r.notification.text for r in rows] == ["Second", "Premier"]
    assert rows[1].person == session.get(Beneficiary, case.beneficiary_id).full_name
    assert rows[0].person == ""
    assert unread_count(session=session, actor=counsellor) == 2
    assert open_notification(session=session, actor=counsellor, notification_id=first.id) == "/"
    assert first.read_at is not None
    assert unread_count(session=session, actor=counsellor) == 1
    assert mark_all_read(session=session, actor=counsellor) == 1
    assert unread_count(session=session, actor=counsellor) == 0


def test_nobody_opens_anothers_notification(session, counsellor, ara, bre):
    told = tell(session, counsellor)
    for other in (make_staff(session, ara), make_staff(session, bre)):
        with pytest.raises(NotFound):
            open_notification(session=session, actor=other, notification_id=told.id)
        assert mark_all_read(session=session, actor=other) == 0
    assert told.read_at is None


def test_staff_who_see_no_cases_have_no_notifications(session):
    observer = make_staff(session, make_operator(session, "OBS", "Obs"), Role.NATIONAL_OBSERVER)
    with pytest.raises(NotFound):
        unread_count(session=session, actor=observer)
