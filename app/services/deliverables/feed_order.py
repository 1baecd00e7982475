"""The issue order of an operator's versions, as the document systems' feed reads it.

Ids and issue times do not give it: two issuing transactions may commit in the other order
than they took their ids, and a client reading in between would skip the later one for good.
So each version takes the next number of its operator (`feed_seq`) under a lock on the
operator's row held until its transaction ends: the next issuer waits for that commit (or
rollback) before it reads the last number. Numbers thus become visible in order, with no
gap, and « everything after N » never misses a version committed later.

PostgreSQL: FOR NO KEY UPDATE, which serialises issuers as FOR UPDATE does, but leaves alone
the key-share locks that every insert of a row pointing at the operator takes. SQLite: every
writing transaction begins with BEGIN IMMEDIATE, so issuers are serialised already."""

from sqlalchemy import func, text
from sqlalchemy.engine import Connection
from sqlmodel import Session, select

from app.models.deliverables import DeliverableVersion
from app.models.operators import Operator
from app.services.access.scope import owned_by


def next_feed_seq(session: Session, operator_id: int) -> int:
    """The number the operator's next issued version takes; call it last in the transaction
    (the lock is held until the commit)."""
    lock = select(Operator.id).where(owned_by(Operator, operator_id))
    session.exec(lock.with_for_update(key_share=True)).one()
    last = select(func.max(DeliverableVersion.feed_seq)).where(
        owned_by(DeliverableVersion, operator_id)
    )
    return (session.exec(last).one() or 0) + 1


# Every operator's versions numbered 1, 2, 3… in (issued_at, id) order, in one statement:
# for the migration that introduced the numbers and for the generator's bulk load. The old
# numbers must all differ from the new ones (NULL, or negative placeholders), since the
# unique constraint is checked row by row.
_RENUMBER = """
UPDATE deliverable_versions SET feed_seq = numbered.n
FROM (
    SELECT id, ROW_NUMBER() OVER (PARTITION BY operator_id ORDER BY issued_at, id) AS n
    FROM deliverable_versions
) AS numbered
WHERE deliverable_versions.id = numbered.id
"""


def number_all_versions(connection: Connection) -> None:
    connection.execute(text(_RENUMBER))
