"""outbox leases

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26 23:35:09.336424

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: two nullable columns; no data to move.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.add_column(sa.Column('claimed_by', sa.String(length=80), nullable=True))
        batch_op.add_column(sa.Column('claimed_until', sa.DateTime(), nullable=True))



def downgrade():
    # Reviewed: two nullable columns; no data to move.
    with op.batch_alter_table('outbox', schema=None) as batch_op:
        batch_op.drop_column('claimed_until')
        batch_op.drop_column('claimed_by')

