"""case milestones

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 10:00:00.000000

The case plan (一案一策) gets dated milestones. A new table only: ``cases`` is not
altered, so SQLite's text-search triggers of 0004 stay as they are.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a new table and its index; no data to move.
    op.create_table('case_milestones',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('due_on', sa.Date(), nullable=False),
    sa.Column('text', sa.String(length=200), nullable=False),
    sa.Column('done_on', sa.Date(), nullable=True),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_case_milestones_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_case_milestones'))
    )
    with op.batch_alter_table('case_milestones', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_case_milestones_case_id'), ['case_id'], unique=False)


def downgrade():
    # Reviewed: drops the milestones with their table.
    with op.batch_alter_table('case_milestones', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_case_milestones_case_id'))

    op.drop_table('case_milestones')
