"""Space links: random, kept as a hash only, expiring, purged once expired."""

from datetime import timedelta

from sqlmodel import select

from app.core.security import token_digest
from app.models.base import utcnow
from app.models.personal_space import PersonalSpaceLink
from app.services.personal_space.links import mint_link, purge_expired_space_links
from tests.factories import make_beneficiary


def test_the_token_is_random_and_only_its_hash_is_kept(session, counsellor):
    person = make_beneficiary(session, counsellor)
    first, second = (mint_link(session=session, person=person) for _ in range(2))
    assert first.token != second.token and len(first.token) == 43  # 256 bits, URL-safe
    rows = session.exec(select(PersonalSpaceLink)).all()
    assert {row.token_hash for row in rows} == {
        token_digest(first.token),
        token_digest(second.token),
    }
    for row in rows:
        assert (
            first.token not in row.model_dump_json() and second.token not in row.model_dump_json()
        )


def test_the_purge_deletes_links_expired_for_a_day_and_keeps_the_others(session, counsellor):
    person = make_beneficiary(session, counsellor)
    mint_link(session=session, person=person, now=utcnow() - timedelta(days=30))
    live = mint_link(session=session, person=person)
    assert purge_expired_space_links(session=session) == 1
    [kept] = session.exec(select(PersonalSpaceLink)).all()
    assert kept.token_hash == token_digest(live.token)
