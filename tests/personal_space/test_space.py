"""The personal space itself: one person's appointments, documents, referrals; only through a
live space link (expired, closed, tampered or another kind of link: a kind page); contact
details, consents and rights requests from there."""

import re
from datetime import UTC, datetime, time, timedelta

import pytest
from sqlmodel import select

from app.core.security import read_link_claims, read_link_token
from app.models.audit import AuditAction, AuditEvent
from app.models.base import utcnow
from app.models.consents import ConsentPurpose, ConsentRecord
from app.models.deliverables import DeliverableVersion
from app.models.outbox import OutboxMessage
from app.models.partners import ReferralCreate
from app.models.surveys import SurveyStatus
from app.services.booking.details import LINK_PURPOSE as APPOINTMENT_LINK
from app.services.booking.details import manage_link
from app.services.deliverables.documents import issue_deliverable
from app.services.deliverables.sharing import share_version
from app.services.personal_space.links import mint_link
from app.services.privacy.consents import may_contact
from app.services.privacy.rights import rights_queue
from app.services.referrals.workflow import propose_referral
from app.services.surveys.links import ANSWER_PURPOSE as SURVEY_LINK
from tests.factories import (
    draft,
    log_in,
    make_appointment,
    make_beneficiary,
    make_case,
    make_partner,
    make_staff,
    read,
)
from tests.personal_space.conftest import post
from tests.surveys.sent_invitations import sent_invitation

pytestmark = pytest.mark.usefixtures("clock")
REFUSED = "Ce lien vers votre espace n'est pas valable"


def in_days(days: int, hour: int = 13) -> datetime:
    return datetime.combine(utcnow().date() + timedelta(days=days), time(hour), tzinfo=UTC)


def space_of(session, person, **kwargs) -> str:
    return "/mon-espace/" + mint_link(session=session, person=person, **kwargs).token


@pytest.fixture
def zoe(session, counsellor):
    return make_beneficiary(session, counsellor, first_name="Zoé", last_name="Vautrin")


def shared_document(session, counsellor, person):
    deliverable = draft(session, counsellor, make_case(session, counsellor, person))
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    message = share_version(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=1
    )
    return deliverable, message.body_text.split("/documents/")[1].split()[0]


def test_the_space_shows_the_persons_appointments_with_their_manage_links(
    client, session, counsellor, zoe
):
    coming = make_appointment(
        session, starts_at=in_days(10), counsellor=counsellor, beneficiary=zoe
    )
    make_appointment(session, starts_at=in_days(-10), counsellor=counsellor, beneficiary=zoe)
    page = client.get(space_of(session, zoe))
    assert page.status_code == 200
    assert page.headers["Referrer-Policy"] == "no-referrer"
    assert page.headers["X-Robots-Tag"] == "noindex"
    text = read(page)
    assert "Bonjour Zoé" in text
    [manage] = re.findall(r'href="[^"]*/rendez-vous/gerer/([^"]+)"', text)
    assert read_link_token(manage, purpose=APPOINTMENT_LINK) == coming.id
    assert "Rendez-vous passés ou annulés (1)" in text


def test_the_space_shows_nothing_of_another_person_with_the_same_email(
    client, session, counsellor, zoe
):
    hugo = make_beneficiary(session, counsellor, first_name="Hugo", last_name="Marchand")
    hugo.email = zoe.email
    session.add(hugo)
    theirs = make_appointment(
        session, starts_at=in_days(9), counsellor=counsellor, beneficiary=hugo
    )
    text = read(client.get(space_of(session, zoe)))
    assert "Hugo" not in text and "Marchand" not in text
    assert theirs.reference not in text and "Aucun rendez-vous à venir" in text


def test_a_link_for_operator_a_shows_nothing_of_operator_b(client, session, counsellor, zoe, bre):
    other = make_staff(session, bre, full_name="Bruno Kerjean")
    at_bre = make_beneficiary(session, other, first_name="Zoé", email=zoe.email)
    theirs = make_appointment(session, starts_at=in_days(8), counsellor=other, beneficiary=at_bre)
    partner = make_partner(session, bre, name="Centre breton")
    propose_referral(
        session=session,
        actor=other,
        case_id=make_case(session, other, at_bre).id,
        data=ReferralCreate(partner_id=partner.id, purpose="Bilan", consent=True),
    )
    text = read(client.get(space_of(session, zoe)))
    assert theirs.reference not in text and "Bruno Kerjean" not in text
    assert "Centre breton" not in text and "Aucune orientation" in text


def test_referrals_show_with_their_status(client, session, counsellor, zoe, ara):
    partner = make_partner(session, ara, name="Centre de bilan du Rhône")
    propose_referral(
        session=session,
        actor=counsellor,
        case_id=make_case(session, counsellor, zoe).id,
        data=ReferralCreate(partner_id=partner.id, purpose="Bilan", consent=True),
    )
    assert "Centre de bilan du Rhône : <strong>Proposée</strong>" in read(
        client.get(space_of(session, zoe))
    )


@pytest.mark.parametrize("how", ["expired", "closed", "tampered", "unknown"])
def test_a_link_that_no_longer_opens_gets_a_kind_page(client, session, zoe, how):
    path = space_of(session, zoe, now=utcnow() - timedelta(days=8) if how == "expired" else None)
    if how == "closed":
        assert post(client, f"{path}/fermer").status_code == 200
    elif how == "tampered":
        path = path[:-1] + ("A" if path[-1] != "A" else "B")
    elif how == "unknown":
        path = "/mon-espace/nimporte-quoi"
    page = client.get(path)
    assert page.status_code == 404
    assert REFUSED in read(page) and "Recevoir un nouveau lien" in read(page)
    assert page.headers["Referrer-Policy"] == "no-referrer"


def test_an_appointment_link_is_no_space_link_and_the_other_way_round(
    client, session, counsellor, zoe
):
    appointment = make_appointment(
        session, starts_at=in_days(10), counsellor=counsellor, beneficiary=zoe
    )
    manage_token = manage_link(appointment).rsplit("/", 1)[1]
    assert client.get(f"/mon-espace/{manage_token}").status_code == 404
    space_token = space_of(session, zoe).rsplit("/", 1)[1]
    assert client.get(f"/rendez-vous/gerer/{space_token}").status_code == 404


def test_a_document_link_is_no_space_link_and_the_other_way_round(client, session, counsellor, zoe):
    _, document_token = shared_document(session, counsellor, zoe)
    assert client.get(f"/mon-espace/{document_token}").status_code == 404
    space_token = space_of(session, zoe).rsplit("/", 1)[1]
    assert client.get(f"/documents/{space_token}").status_code == 404


def _space_links_sent(session, person) -> list[str]:
    mails = session.exec(select(OutboxMessage).where(OutboxMessage.recipient == person.email))
    return [link for m in mails for link in re.findall(r"/mon-espace/[\w-]{43}", m.body_text)]


def test_the_manage_page_sends_the_space_link_to_the_person_never_opens_it(
    client, session, counsellor, zoe
):
    """Who sees an appointment's link (a shared calendar, a forwarded e-mail) does not get
    into the person's space: the link goes to the person's own e-mail."""
    appointment = make_appointment(
        session, starts_at=in_days(10), counsellor=counsellor, beneficiary=zoe
    )
    manage = "/rendez-vous/gerer/" + manage_link(appointment).rsplit("/", 1)[1]
    assert "Accéder à mon espace" in read(client.get(manage))
    answer = post(client, f"{manage}/mon-espace")
    assert answer.status_code == 200 and "/mon-espace/" not in answer.text
    assert "Le lien de votre espace vous a été envoyé" in read(answer)
    [link] = _space_links_sent(session, zoe)
    assert "Bonjour Zoé" in read(client.get(link))


def test_a_person_without_e_mail_or_mobile_is_told_no_link_can_be_sent(client, session, counsellor):
    person = make_beneficiary(session, counsellor, email=None, phone="04 78 00 00 00")
    appointment = make_appointment(
        session, starts_at=in_days(10), counsellor=counsellor, beneficiary=person
    )
    manage = "/rendez-vous/gerer/" + manage_link(appointment).rsplit("/", 1)[1]
    answer = post(client, f"{manage}/mon-espace")
    assert "ni adresse e-mail ni téléphone portable" in read(answer)
    assert session.exec(select(OutboxMessage)).all() == []


def test_a_document_is_read_downloaded_and_acknowledged_from_the_space(
    client, session, counsellor, zoe
):
    deliverable, document_token = shared_document(session, counsellor, zoe)
    assert post(client, f"/documents/{document_token}/mon-espace").status_code == 200
    space = _space_links_sent(session, zoe)[-1]
    listing = read(client.get(space))
    assert deliverable.title in listing and "À lire" in listing
    version_id = _version(session, deliverable).id
    page = client.get(f"{space}/documents/{version_id}")
    assert page.status_code == 200 and "J'ai pris connaissance" in read(page)
    assert client.get(f"{space}/documents/{version_id}/pdf").content.startswith(b"%PDF")
    done = post(client, f"{space}/documents/{version_id}/accuse")
    assert done.status_code == 303
    assert "Vous avez indiqué avoir pris connaissance" in read(client.get(done.headers["location"]))
    version = _version(session, deliverable)
    session.refresh(version)
    assert version.acknowledgement_method == "online"


def _version(session, deliverable) -> DeliverableVersion:
    return session.exec(
        select(DeliverableVersion).where(DeliverableVersion.deliverable_id == deliverable.id)
    ).one()


def test_another_persons_document_is_not_in_the_space(client, session, counsellor, zoe):
    other = make_beneficiary(session, counsellor)
    deliverable, _ = shared_document(session, counsellor, other)
    space = space_of(session, zoe)
    assert "Aucun document ne vous a été transmis" in read(client.get(space))
    theirs = f"{space}/documents/{_version(session, deliverable).id}"
    assert client.get(theirs).status_code == 404
    assert client.get(f"{theirs}/pdf").status_code == 404
    assert post(client, f"{theirs}/accuse").status_code == 404
    assert _version(session, deliverable).acknowledged_at is None


def test_the_person_updates_their_contact_details_and_the_trail_records_it(client, session, zoe):
    space = space_of(session, zoe)
    done = post(
        client, f"{space}/coordonnees", email="Zoe.Nouvelle@exemple.fr", phone="06 11 22 33 44"
    )
    assert done.status_code == 303
    session.refresh(zoe)
    assert (zoe.email, zoe.phone) == ("zoe.nouvelle@exemple.fr", "+33611223344")
    change = session.exec(
        select(AuditEvent)
        .where(AuditEvent.beneficiary_id == zoe.id, AuditEvent.action == AuditAction.CHANGE)
        .order_by(AuditEvent.id.desc())
    ).first()
    assert change is not None and change.actor_id is None
    assert "Vos coordonnées sont enregistrées" in read(client.get(done.headers["location"]))


def test_another_persons_e_mail_or_phone_cannot_be_taken_but_a_shared_one_is_kept(
    client, session, counsellor, zoe
):
    """Bookings find people by e-mail or phone: taking someone's would bring their next
    booking into this space. The family address Zoé shares from the start stays hers."""
    other = make_beneficiary(session, counsellor, email="voisin@exemple.fr", phone="0611223344")
    space = space_of(session, zoe)
    for email, phone in (("voisin@exemple.fr", ""), (zoe.email, "06 11 22 33 44")):
        page = post(client, f"{space}/coordonnees", email=email, phone=phone)
        assert page.status_code == 422 and "donnez-le à votre conseiller" in read(page)
    session.refresh(zoe)
    assert (zoe.email, zoe.phone) != (other.email, other.phone)
    sister = make_beneficiary(session, counsellor, first_name="Léa", email=None)
    sister.email = zoe.email  # one family address for both, as staff may record it
    session.add(sister)
    session.flush()
    done = post(client, f"{space}/coordonnees", email=zoe.email, phone="06 55 44 33 22")
    assert done.status_code == 303


def test_a_wrong_phone_is_refused_and_kept_as_typed(client, session, zoe):
    space = space_of(session, zoe)
    page = post(client, f"{space}/coordonnees", email=zoe.email, phone="12 34")
    assert page.status_code == 422
    assert "Numéro de téléphone français invalide" in read(page) and 'value="12 34"' in page.text
    session.refresh(zoe)
    assert zoe.phone is None


def test_the_person_withdraws_their_consent_to_emails(client, session, zoe):
    space = space_of(session, zoe)
    assert (
        post(client, f"{space}/consentements", purpose="email", decision="withdrawn").status_code
        == 303
    )
    assert not may_contact(session=session, person=zoe, purpose=ConsentPurpose.EMAIL)
    record = session.exec(select(ConsentRecord).where(ConsentRecord.beneficiary_id == zoe.id)).one()
    assert (record.channel, record.recorded_by_id, record.given) == ("personal_space", None, False)


def test_consent_to_processing_is_not_changed_from_the_space(client, session, zoe):
    space = space_of(session, zoe)
    page = post(client, f"{space}/consentements", purpose="processing", decision="withdrawn")
    assert page.status_code == 422
    assert (
        session.exec(select(ConsentRecord).where(ConsentRecord.beneficiary_id == zoe.id)).all()
        == []
    )


@pytest.mark.parametrize(("kind", "label"), [("access", "Accès"), ("erasure", "Effacement")])
def test_a_copy_or_deletion_request_reaches_the_rights_queue(
    client, session, zoe, admin, kind, label
):
    space = space_of(session, zoe)
    assert post(client, f"{space}/droits", kind=kind).status_code == 303
    assert post(client, f"{space}/droits", kind=kind).status_code == 303  # asked twice: one
    [row] = rights_queue(session=session, actor=admin).open
    assert (row.person.id, row.request.kind, row.request.received_via) == (
        zoe.id,
        kind,
        "personal_space",
    )
    log_in(client, session, admin)
    queue = read(client.get("/admin/droits"))
    assert label in queue and "VAUTRIN" in queue


def test_staff_close_every_link_of_the_person(client, session, counsellor, zoe):
    first, second = space_of(session, zoe), space_of(session, zoe)
    csrf = log_in(client, session, counsellor)
    done = client.post(
        f"/beneficiaries/{zoe.id}/espace-personnel/fermer",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert done.status_code == 303
    assert "Les accès à l'espace personnel de cette personne sont fermés" in read(
        client.get(done.headers["location"])
    )
    client.cookies.clear()
    assert client.get(first).status_code == client.get(second).status_code == 404


def test_staff_of_another_operator_cannot_close_the_links(client, session, zoe, bre):
    path = space_of(session, zoe)
    csrf = log_in(client, session, make_staff(session, bre))
    refused = client.post(
        f"/beneficiaries/{zoe.id}/espace-personnel/fermer",
        data={"csrf_token": csrf},
        follow_redirects=False,
    )
    assert refused.status_code == 404
    client.cookies.clear()
    assert client.get(path).status_code == 200


def test_a_survey_to_answer_is_offered_until_answered(client, session, counsellor, zoe):
    invitation = sent_invitation(session, counsellor, make_case(session, counsellor, zoe))
    space = space_of(session, zoe)
    text = read(client.get(space))
    [link] = re.findall(r'href="[^"]*/enquete/([^"]+)"', text)
    assert read_link_claims(link, purpose=SURVEY_LINK) == (invitation.id, invitation.link_nonce)
    invitation.status = SurveyStatus.ANSWERED.value
    session.add(invitation)
    session.flush()
    assert "Répondre au questionnaire" not in read(client.get(space))
