"""Tenant scope: which operator's rows an actor may read."""

from app.core.errors import NotFound
from app.models.bounds import MAX_ROW_ID
from app.models.staff import StaffUser


def operator_of(actor: StaffUser) -> int:
    """The operator whose personal data the actor may see; anyone else gets 404."""
    if not actor.sees_cases:
        raise NotFound()
    assert actor.operator_id is not None
    return actor.operator_id


def load_owned(session, model, row_id: int, actor: StaffUser):
    """Fetch a row of `model` that belongs to the actor's operator, or raise NotFound."""
    row = session.get(model, row_id) if 1 <= row_id <= MAX_ROW_ID else None
    if row is None or row.operator_id != operator_of(actor):
        raise NotFound()
    return row
