"""An appointment names the door it was booked through: `appointments.booked_via` gets a check
constraint keeping it among the values of BookingChannel (app/models/appointments.py), as
`appointments.status` already is among AppointmentStatus. Until now any string up to ten
characters was accepted; every row ever written came from the booking pages ('online'), staff
('staff') or the public API ('api'), so existing rows pass.

On SQLite, adding a check constraint rebuilds the table, which drops its triggers, among them
the no-overlap guard (see 20261129_1806_appointments.py): they are read before and written
back after, as they were.

Revision ID: 93b07cfb449c
Revises: 5399e3984628
Create Date: 2026-12-06 11:16:05.341099+00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "93b07cfb449c"
down_revision: str | None = "5399e3984628"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The channels as they are at this revision (a later channel comes with its own migration).
CHANNELS = "'online', 'staff', 'api'"
VIA_KNOWN = "ck_appointments_appointment_booked_via_known"


def _sqlite_triggers() -> list[str]:
    """The statements creating the appointments table's triggers (none off SQLite, where
    nothing is rebuilt)."""
    bind = op.get_bind()
    if bind.dialect.name != "sqlite":
        return []
    found = bind.execute(
        sa.text(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'appointments'"
            " ORDER BY name"
        )
    )
    return list(found.scalars())


def upgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.create_check_constraint(batch_op.f(VIA_KNOWN), f"booked_via IN ({CHANNELS})")
    for trigger in triggers:
        op.execute(trigger)


def downgrade() -> None:
    triggers = _sqlite_triggers()
    with op.batch_alter_table("appointments", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f(VIA_KNOWN), type_="check")
    for trigger in triggers:
        op.execute(trigger)
