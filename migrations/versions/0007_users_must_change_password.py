"""users must change password

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04 15:48:59.836007

An account whose password an administrator issued (a new account, a reset) must set
its own at the next sign-in. One boolean column on ``users``; existing accounts are
not asked (false), since nothing tells which of their passwords are still the issued
ones.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a NOT NULL column needs a server default for the rows already there;
    # sa.false() renders as 0 on SQLite and false on PostgreSQL (a bare '0' is refused
    # there). Adding a column needs no table copy on SQLite, even in batch mode.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('must_change_password', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # Reviewed: drops only the flag; passwords and sessions are untouched.
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('must_change_password')
