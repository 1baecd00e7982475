"""Revoking the link a document was shared by, and sharing it again."""

import pytest
from sqlmodel import select

from app.core.errors import Conflict, NotFound
from app.core.security import create_link_token
from app.models.outbox import Channel
from app.models.short_links import ShortLink
from app.services.deliverables.documents import issue_deliverable
from app.services.deliverables.sharing import (
    InvalidLink,
    RevokedLink,
    acknowledge_online,
    link_revokers,
    open_shared_document,
    revoke_link,
    share_version,
)
from app.services.deliverables.sms_texts import write_document_sms
from tests.factories import draft, make_beneficiary, make_case, make_operator, make_staff


@pytest.fixture
def issued(session, counsellor):
    deliverable = draft(session, counsellor, make_case(session, counsellor))
    version = issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    return deliverable, version


def shared_link(session, actor, deliverable) -> str:
    message = share_version(session=session, actor=actor, deliverable_id=deliverable.id, number=1)
    return message.body_text.split("/documents/")[1].split()[0]


def revoke(session, actor, deliverable):
    return revoke_link(session=session, actor=actor, deliverable_id=deliverable.id, number=1)


def test_a_revoked_link_no_longer_opens_the_document_and_says_so(session, counsellor, issued):
    deliverable, version = issued
    token = shared_link(session, counsellor, deliverable)
    revoke(session, counsellor, deliverable)
    with pytest.raises(RevokedLink) as refused:
        open_shared_document(session=session, token=token)
    assert refused.value.status_code == 410
    assert "Contactez votre conseiller·ère" in refused.value.message
    with pytest.raises(RevokedLink):
        acknowledge_online(session=session, token=token)
    assert version.acknowledged_at is None


def test_the_revocation_is_recorded_with_who_and_when(session, counsellor, issued):
    deliverable, version = issued
    shared_link(session, counsellor, deliverable)
    revoke(session, counsellor, deliverable)
    assert version.link_revoked_at is not None and version.link_revoked_by_id == counsellor.id
    assert not version.link_is_live
    assert link_revokers(session, [version]) == {counsellor.id: "Camille Martin"}


def test_sharing_again_after_a_revocation_sends_a_new_link_and_the_old_stays_dead(
    session, counsellor, issued
):
    deliverable, version = issued
    old = shared_link(session, counsellor, deliverable)
    revoke(session, counsellor, deliverable)
    new = shared_link(session, counsellor, deliverable)
    assert new != old and version.link_is_live
    assert open_shared_document(session=session, token=new).version.id == version.id
    with pytest.raises(RevokedLink):
        open_shared_document(session=session, token=old)
    assert version.link_revoked_by_id == counsellor.id  # the last revocation is kept


def test_sending_again_without_revoking_keeps_the_first_link_working(session, counsellor, issued):
    deliverable, _ = issued
    first = shared_link(session, counsellor, deliverable)
    second = shared_link(session, counsellor, deliverable)
    for token in (first, second):
        assert open_shared_document(session=session, token=token)


def test_a_link_emailed_before_links_carried_a_nonce_works_until_revoked(
    session, counsellor, issued
):
    deliverable, version = issued
    shared_link(session, counsellor, deliverable)
    older = create_link_token(purpose="document", subject_id=version.id)  # no nonce
    assert open_shared_document(session=session, token=older)
    revoke(session, counsellor, deliverable)
    shared_link(session, counsellor, deliverable)
    with pytest.raises(RevokedLink):
        open_shared_document(session=session, token=older)


def test_there_is_nothing_to_revoke_before_sharing_or_twice(session, counsellor, issued):
    deliverable, _ = issued
    with pytest.raises(Conflict, match="pas été envoyée"):
        revoke(session, counsellor, deliverable)
    shared_link(session, counsellor, deliverable)
    revoke(session, counsellor, deliverable)
    with pytest.raises(Conflict, match="déjà révoqué"):
        revoke(session, counsellor, deliverable)


def test_another_operator_cannot_revoke_the_link(session, counsellor, issued):
    deliverable, version = issued
    token = shared_link(session, counsellor, deliverable)
    stranger = make_staff(session, make_operator(session, code="BRE", name="Bretagne"))
    with pytest.raises(NotFound):
        revoke(session, stranger, deliverable)
    assert open_shared_document(session=session, token=token).version.id == version.id


def test_a_revoked_link_is_still_told_apart_from_a_forged_one(session, counsellor, issued):
    deliverable, _ = issued
    token = shared_link(session, counsellor, deliverable)
    revoke(session, counsellor, deliverable)
    with pytest.raises(InvalidLink) as forged:
        open_shared_document(session=session, token=token[:-3] + "abc")
    assert forged.value.status_code == 404


def _issued_for(session, counsellor, **person):
    case = make_case(session, counsellor, make_beneficiary(session, counsellor, **person))
    deliverable = draft(session, counsellor, case)
    issue_deliverable(session=session, actor=counsellor, deliverable_id=deliverable.id)
    return deliverable


def test_a_person_with_only_a_mobile_gets_the_link_by_sms_and_it_opens_the_document(
    session, counsellor
):
    deliverable = _issued_for(session, counsellor, email=None, phone="06 12 34 56 78")
    message = share_version(
        session=session, actor=counsellor, deliverable_id=deliverable.id, number=1
    )
    assert (message.channel, message.recipient) == (Channel.SMS, "+33612345678")
    text = write_document_sms(session=session, message=message)
    assert len(text) <= 160 and "/s/" in text
    code = text.rsplit("/s/", 1)[1]
    target = session.exec(select(ShortLink.target).where(ShortLink.code == code)).one()
    shared = open_shared_document(session=session, token=target.split("/documents/")[1])
    assert shared.version.deliverable_id == deliverable.id


@pytest.mark.parametrize("phone", ["04 78 00 00 00", None])
def test_without_e_mail_or_mobile_the_document_is_handed_over_instead(session, counsellor, phone):
    deliverable = _issued_for(session, counsellor, email=None, phone=phone)
    with pytest.raises(Conflict, match="ni adresse e-mail ni mobile"):
        share_version(session=session, actor=counsellor, deliverable_id=deliverable.id, number=1)
