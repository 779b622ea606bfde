"""api filings

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 05:04:45.885778

Cases filed through the Open311 API remember the key that filed them, their token
(``tokens/{token}``) and the media link the client sent. A new table only.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a new table with its unique token and case, and the key's index.
    op.create_table('api_filings',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('case_id', sa.Integer(), nullable=False),
    sa.Column('api_key_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.String(length=40), nullable=False),
    sa.Column('media_url', sa.String(length=500), nullable=False),
    sa.Column('created_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['api_key_id'], ['api_keys.id'], name=op.f('fk_api_filings_api_key_id_api_keys')),
    sa.ForeignKeyConstraint(['case_id'], ['cases.id'], name=op.f('fk_api_filings_case_id_cases'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_api_filings')),
    sa.UniqueConstraint('case_id', name=op.f('uq_api_filings_case_id')),
    sa.UniqueConstraint('token', name=op.f('uq_api_filings_token'))
    )
    with op.batch_alter_table('api_filings', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_api_filings_api_key_id'), ['api_key_id'], unique=False)



def downgrade():
    # Reviewed: drops the filings' provenance with their table (the cases stay).
    with op.batch_alter_table('api_filings', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_api_filings_api_key_id'))

    op.drop_table('api_filings')
