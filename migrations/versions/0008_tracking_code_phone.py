"""tracking code phone

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-04 16:10:00.000000

A tracking code remembers the phone it was sent to, so that codes are limited per
phone as well as per case and address, and only the latest code of a case and phone
is accepted. Codes live 10 minutes: the ones already sent get an empty phone and are
simply no longer accepted, which costs a citizen at most one new code.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a NOT NULL column needs a server default for the rows already there;
    # adding a column needs no table copy on SQLite, even in batch mode. The index
    # serves the count of codes sent to a phone within the limit's window.
    with op.batch_alter_table('tracking_codes', schema=None) as batch_op:
        batch_op.add_column(sa.Column('phone', sa.String(length=32), server_default='', nullable=False))
        batch_op.create_index('ix_tracking_codes_phone_created_at', ['phone', 'created_at'], unique=False)


def downgrade():
    # Reviewed: drops the phone and its index; codes then count per case only.
    with op.batch_alter_table('tracking_codes', schema=None) as batch_op:
        batch_op.drop_index('ix_tracking_codes_phone_created_at')
        batch_op.drop_column('phone')
