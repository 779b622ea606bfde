"""calendar years

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06 10:00:00.000000

A year counts as covered by the working-day calendar only when all of it is known: the
package's data, or a complete official schedule the admin imported (one row here per
imported year). The days of an imported schedule are calendar overrides that name
their year, so a corrected import replaces them. A clock whose deadline was counted
over days of an uncovered year (Monday–Friday fallback) is marked, for admins to see.
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    # Reviewed: a new table; the overrides get a nullable column (no table copy needed
    # on SQLite except for the foreign key, which batch mode handles); the clocks get a
    # NOT NULL flag with a server default for the rows already there (all false: the
    # deadlines counted on the fallback before this change are found by a recompute).
    op.create_table('calendar_years',
    sa.Column('year', sa.Integer(), autoincrement=False, nullable=False),
    sa.Column('source', sa.String(length=300), nullable=False),
    sa.Column('status', sa.String(length=20), nullable=False),
    sa.Column('digest', sa.String(length=64), nullable=False),
    sa.Column('holidays', sa.Integer(), nullable=False),
    sa.Column('workdays', sa.Integer(), nullable=False),
    sa.Column('imported_by_id', sa.Integer(), nullable=True),
    sa.Column('imported_at', sa.DateTime(), nullable=False),
    sa.ForeignKeyConstraint(['imported_by_id'], ['users.id'], name=op.f('fk_calendar_years_imported_by_id_users')),
    sa.PrimaryKeyConstraint('year', name=op.f('pk_calendar_years'))
    )
    with op.batch_alter_table('calendar_overrides', schema=None) as batch_op:
        batch_op.add_column(sa.Column('calendar_year', sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f('ix_calendar_overrides_calendar_year'), ['calendar_year'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_calendar_overrides_calendar_year_calendar_years'), 'calendar_years', ['calendar_year'], ['year'], ondelete='CASCADE')

    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('on_fallback', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    # Reviewed: drops the flag, the overrides' link to their schedule (the days stay as
    # plain overrides) and the imported years (those years are uncovered again).
    with op.batch_alter_table('case_clocks', schema=None) as batch_op:
        batch_op.drop_column('on_fallback')

    with op.batch_alter_table('calendar_overrides', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_calendar_overrides_calendar_year_calendar_years'), type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_calendar_overrides_calendar_year'))
        batch_op.drop_column('calendar_year')

    op.drop_table('calendar_years')
