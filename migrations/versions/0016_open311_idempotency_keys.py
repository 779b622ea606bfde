"""open311 idempotency keys

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05 21:11:57.023830

Issue 20: an Open311 client may send an ``Idempotency-Key`` with a filing, and a retry
under the same key answers the first filing instead of filing again. The key is unique
per API key (NULLs, the filings sent without one, never collide on either database),
so that two retries arriving at once cannot both file: the second one's insert fails
and it answers the first. Beside the key, the digest of the filing's parameters (a
retry must send the same ones) and the first answer's notice.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0016'
down_revision = '0015'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: three nullable columns (no data to move: earlier filings had no key)
    # and the unique constraint, in batch mode for SQLite.
    with op.batch_alter_table('api_filings', schema=None) as batch_op:
        batch_op.add_column(sa.Column('idempotency_key', sa.String(length=100), nullable=True))
        batch_op.add_column(sa.Column('request_digest', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('notice_params', sa.JSON(), nullable=True))
        batch_op.create_unique_constraint(
            batch_op.f('uq_api_filings_api_key_id_idempotency_key'),
            ['api_key_id', 'idempotency_key'],
        )


def downgrade():
    # Reviewed: the keys go with their columns; the filings stay.
    with op.batch_alter_table('api_filings', schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f('uq_api_filings_api_key_id_idempotency_key'), type_='unique'
        )
        batch_op.drop_column('notice_params')
        batch_op.drop_column('request_digest')
        batch_op.drop_column('idempotency_key')
