"""duty: a unique key for scheduled jobs; registered persons of households (masked forms kept beside)

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-07 16:50:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unique_key', sa.String(length=100), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_job_unique_key'), ['unique_key'])
    op.create_table('resident_person',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=64), nullable=False),
    sa.Column('community_code', sa.String(length=64), nullable=False),
    sa.Column('name', sa.String(length=64), nullable=False),
    sa.Column('id_number', sa.String(length=32), nullable=False),
    sa.Column('name_masked', sa.String(length=64), nullable=False),
    sa.Column('id_masked', sa.String(length=32), nullable=False),
    sa.Column('imported_at', sa.DateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_resident_person'))
    )
    with op.batch_alter_table('resident_person', schema=None) as batch_op:
        batch_op.create_index('ix_resident_person_household', ['household_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_resident_person_community_code'), ['community_code'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('resident_person', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_resident_person_community_code'))
        batch_op.drop_index('ix_resident_person_household')
    op.drop_table('resident_person')
    with op.batch_alter_table('job', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_job_unique_key'), type_='unique')
        batch_op.drop_column('unique_key')
