"""clock next escalation

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-08 10:00:00.000000

Each running clock keeps the moment its escalation level next rises
(``case_clocks.next_escalation_at``, DeadlineMath.next_escalation_at), so the sweep
reads only the clocks that are due instead of every running one (issue 19). The column
is filled here for the clocks running now, counted with the calendar as it is (the
package's data, the admin's overrides and imported years, the city's zone); the first
sweep checks the count again against that calendar and corrects what moved.
"""
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from alembic import op
import sqlalchemy as sa
from flask import current_app

from caseapp.models.enums import CalendarDayKind
from caseapp.workflow.calendar import WorkingCalendar
from caseapp.workflow.deadlines import ESCALATING_CLOCKS, LEVEL_SUPERVISED, DeadlineMath


# revision identifiers, used by Alembic.
revision = '0011'
down_revision = '0010'
branch_labels = None
depends_on = None

BATCH = 5000

clocks = sa.table(
    'case_clocks',
    sa.column('id', sa.Integer),
    sa.column('clock', sa.String),
    sa.column('started_at', sa.DateTime),
    sa.column('due_at', sa.DateTime),
    sa.column('paused_at', sa.DateTime),
    sa.column('stopped_at', sa.DateTime),
    sa.column('escalation_level', sa.SmallInteger),
    sa.column('next_escalation_at', sa.DateTime),
)


def upgrade():
    # Reviewed: a plain ADD COLUMN and CREATE INDEX, not batch mode: a batch migration
    # that recreated the table on SQLite is not needed for a nullable column.
    op.add_column('case_clocks', sa.Column('next_escalation_at', sa.DateTime(), nullable=True))
    op.create_index('ix_case_clocks_next_escalation_at', 'case_clocks', ['next_escalation_at'], unique=False)
    _fill(op.get_bind())


def downgrade():
    # Reviewed: drops the schedule; the sweep before 0011 reads every running clock.
    op.drop_index('ix_case_clocks_next_escalation_at', table_name='case_clocks')
    with op.batch_alter_table('case_clocks') as batch_op:
        batch_op.drop_column('next_escalation_at')


def _utc(moment):
    # Stored naive in UTC (caseapp.models.types.UTCDateTime).
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _naive(moment):
    return None if moment is None else moment.astimezone(UTC).replace(tzinfo=None)


def _fill(conn):
    overrides = {
        day if not isinstance(day, str) else datetime.fromisoformat(day).date(): CalendarDayKind(kind)
        for day, kind in conn.execute(sa.text('SELECT day, kind FROM calendar_overrides'))
    }
    imported = frozenset(conn.execute(sa.text('SELECT year FROM calendar_years')).scalars())
    math = DeadlineMath(
        WorkingCalendar(overrides=overrides, imported_years=imported),
        ZoneInfo(current_app.config['CITY_TIMEZONE']),
    )
    after = 0
    while True:
        rows = conn.execute(
            sa.select(clocks.c.id, clocks.c.started_at, clocks.c.due_at, clocks.c.escalation_level)
            .where(
                clocks.c.id > after,
                clocks.c.stopped_at.is_(None),
                clocks.c.paused_at.is_(None),
                clocks.c.escalation_level < LEVEL_SUPERVISED,
                clocks.c.clock.in_(sorted(str(c) for c in ESCALATING_CLOCKS)),
            )
            .order_by(clocks.c.id)
            .limit(BATCH)
        ).all()
        if not rows:
            return
        after = rows[-1].id
        conn.execute(
            clocks.update()
            .where(clocks.c.id == sa.bindparam('b_id'))
            .values(next_escalation_at=sa.bindparam('b_next')),
            [
                {
                    'b_id': row.id,
                    'b_next': _naive(
                        math.next_escalation_at(_utc(row.started_at), _utc(row.due_at), row.escalation_level)
                    ),
                }
                for row in rows
            ],
        )
