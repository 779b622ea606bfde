"""indexes for public statistics

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-26 23:15:45.767118

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0002'
down_revision = '0001'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: the public statistics filter on kind too (never petitions or reports).
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_cases_category_status'))
        batch_op.drop_index(batch_op.f('ix_cases_received_at'))
        batch_op.create_index('ix_cases_category_status_kind', ['category_id', 'status', 'kind'], unique=False)
        batch_op.create_index('ix_cases_received_at_kind', ['received_at', 'kind'], unique=False)



def downgrade():
    # Reviewed: the public statistics filter on kind too (never petitions or reports).
    with op.batch_alter_table('cases', schema=None) as batch_op:
        batch_op.drop_index('ix_cases_received_at_kind')
        batch_op.drop_index('ix_cases_category_status_kind')
        batch_op.create_index(batch_op.f('ix_cases_received_at'), ['received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_cases_category_status'), ['category_id', 'status'], unique=False)

