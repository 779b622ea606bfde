"""case citizen phone index

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 10:00:00.000000

A mobile number typed in the staff queue's search finds the cases filed from it, in
every status, newest first (caseapp.services.pages.queue.cases_of_phone). Cases keep
the phone in plain national digits (filing normalises it), so an index on it with the
received time serves the lookup and its order without reading other cases.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a plain CREATE INDEX, not batch mode: a batch migration that recreated
    # ``cases`` on SQLite would drop the text search triggers of 0004.
    op.create_index('ix_cases_citizen_phone_received_at', 'cases', ['citizen_phone', 'received_at'], unique=False)


def downgrade():
    # Reviewed: drops the index; a phone search then reads every case.
    op.drop_index('ix_cases_citizen_phone_received_at', table_name='cases')
