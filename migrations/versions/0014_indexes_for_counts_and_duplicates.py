"""indexes for the escalation counts and the duplicate check

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-05 16:40:00

Issue 19, measured at a million cases on PostgreSQL: the escalation board's counts per
department read every open case from the table (467 ms); with (status, lead department,
next deadline, escalation level) they are read from the index alone. The duplicate
check scored the newest open cases of a category after sorting all of the category's
open cases; (category, received, id) gives the newest first.
"""
from alembic import op


revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: new indexes only (plain CREATE INDEX; no batch mode on SQLite).
    op.create_index(
        'ix_cases_status_department_deadline_level',
        'cases',
        ['status', 'lead_department_id', 'next_deadline_at', 'escalation_level'],
    )
    op.create_index(
        'ix_cases_category_received_id', 'cases', ['category_id', 'received_at', 'id']
    )


def downgrade():
    op.drop_index('ix_cases_category_received_id', table_name='cases')
    op.drop_index('ix_cases_status_department_deadline_level', table_name='cases')
