"""partial indexes of the links most cases do not have

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-05 16:35:00

Issue 19, measured at a million cases on SQLite: the staff case page took 1.5 s. It
looks up the cases merged into this one and the reviews of it (``duplicate_of_id``,
``review_of_id``); nearly every case has neither, and SQLite's statistics (ANALYZE)
then say an equality on those columns matches a million rows, so it scanned the table
twice. Indexed only where the link is set, the indexes hold a handful of rows and both
databases use them for ``column = ?``. The first and the responsible leader's columns,
empty on most cases too, are indexed the same way.
"""
from alembic import op
import sqlalchemy as sa


revision = '0015'
down_revision = '0014'
branch_labels = None
depends_on = None

COLUMNS = ('duplicate_of_id', 'review_of_id', 'first_responsible_id', 'responsible_leader_id')


def upgrade():
    # Reviewed: indexes only, each dropped and made again with a WHERE (no batch mode).
    for column in COLUMNS:
        name = f'ix_cases_{column}'
        where = sa.text(f'{column} IS NOT NULL')
        op.drop_index(name, table_name='cases')
        op.create_index(name, 'cases', [column], sqlite_where=where, postgresql_where=where)


def downgrade():
    for column in COLUMNS:
        name = f'ix_cases_{column}'
        op.drop_index(name, table_name='cases')
        op.create_index(name, 'cases', [column])
