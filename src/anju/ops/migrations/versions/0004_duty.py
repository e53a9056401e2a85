"""duty operations: briefing adjustments and registry-check outcomes

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-07 14:20:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0004'
down_revision: str | None = '0003'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('duty_adjustment',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('day', sa.Date(), nullable=False),
    sa.Column('station_code', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('target', sa.String(length=128), nullable=False),
    sa.Column('value', sa.JSON(), nullable=False),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('author_id', sa.Integer(), nullable=True),
    sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_duty_adjustment_author_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_duty_adjustment'))
    )
    with op.batch_alter_table('duty_adjustment', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_duty_adjustment_day'), ['day'], unique=False)
        batch_op.create_index(batch_op.f('ix_duty_adjustment_station_code'), ['station_code'], unique=False)
    op.create_table('registry_check',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('household_id', sa.String(length=64), nullable=False),
    sa.Column('community_code', sa.String(length=64), nullable=False),
    sa.Column('flag', sa.String(length=32), nullable=False),
    sa.Column('outcome', sa.String(length=16), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('checked_by_id', sa.Integer(), nullable=True),
    sa.Column('checked_at', sa.DateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['checked_by_id'], ['users.id'], name=op.f('fk_registry_check_checked_by_id_users'),
                            ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_registry_check'))
    )
    with op.batch_alter_table('registry_check', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_registry_check_checked_at'), ['checked_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_check_community_code'), ['community_code'], unique=False)
        batch_op.create_index(batch_op.f('ix_registry_check_household_id'), ['household_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('registry_check', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_registry_check_household_id'))
        batch_op.drop_index(batch_op.f('ix_registry_check_community_code'))
        batch_op.drop_index(batch_op.f('ix_registry_check_checked_at'))
    op.drop_table('registry_check')
    with op.batch_alter_table('duty_adjustment', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_duty_adjustment_station_code'))
        batch_op.drop_index(batch_op.f('ix_duty_adjustment_day'))
    op.drop_table('duty_adjustment')
