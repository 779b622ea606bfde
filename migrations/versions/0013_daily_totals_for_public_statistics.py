"""daily totals for public statistics

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-05 12:31:21.018805

Issue 19: the public statistics page read a year of cases and events on each visit (16 s
at a million cases). These tables hold what it shows, per department and local day,
per day received, and by category and status now; the worker keeps them up to date
(caseapp.reports.daily_totals) and ``flask stats rebuild`` fills them.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: new tables only; nothing existing is touched (plain CREATE, no batch
    # mode: a batch migration of an existing table would drop 0004's triggers on SQLite).
    op.create_table('daily_totals_state',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('computed_at', sa.DateTime(), nullable=False),
    sa.Column('recent_at', sa.DateTime(), nullable=False),
    sa.Column('events_seen', sa.BigInteger(), nullable=False),
    sa.Column('cases_seen', sa.BigInteger(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_totals_state'))
    )
    op.create_table('public_daily_filings',
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('received', sa.Integer(), nullable=False),
    sa.PrimaryKeyConstraint('day', name=op.f('pk_public_daily_filings'))
    )
    op.create_table('scorecard_daily',
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('responses', sa.Integer(), nullable=False),
    sa.Column('responses_on_time', sa.Integer(), nullable=False),
    sa.Column('rated', sa.Integer(), nullable=False),
    sa.Column('solved', sa.Integer(), nullable=False),
    sa.Column('satisfied', sa.Integer(), nullable=False),
    sa.Column('basically_satisfied', sa.Integer(), nullable=False),
    sa.Column('excluded', sa.Integer(), nullable=False),
    sa.Column('answered', sa.Integer(), nullable=False),
    sa.Column('answered_on_time', sa.Integer(), nullable=False),
    sa.Column('answer_working_days', sa.Integer(), nullable=False),
    sa.Column('redos', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_scorecard_daily_department_id_departments'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('department_id', 'day', name=op.f('pk_scorecard_daily'))
    )
    op.create_index('ix_scorecard_daily_day', 'scorecard_daily', ['day'], unique=False)
    op.create_table('public_status_counts',
    sa.Column('category_id', sa.Integer(), nullable=False),
    sa.Column('status', sa.String(length=32), nullable=False),
    sa.Column('cases', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['category_id'], ['categories.id'], name=op.f('fk_public_status_counts_category_id_categories'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('category_id', 'status', name=op.f('pk_public_status_counts'))
    )


def downgrade():
    # Reviewed: drops the kept figures; /stats then says they are not yet computed.
    op.drop_table('public_status_counts')
    op.drop_index('ix_scorecard_daily_day', table_name='scorecard_daily')
    op.drop_table('scorecard_daily')
    op.drop_table('public_daily_filings')
    op.drop_table('daily_totals_state')
