"""patient figures: last check-in and first and latest PHQ-9 and GAD-7 per patient, kept by triggers

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-30 18:10:00

The caseload sorts and filters a clinic's patients on these figures; triggers keep them current in
the same statement as the write (no extra round trip on the crisis path), on PostgreSQL and SQLite.
(Chained after 0008 on branch `scale`, which carries the audit migration; main's head was 0007.)
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0010'
down_revision: str | None = '0009'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INSTRUMENTS = ('phq9', 'gad7')


def _checkin_upsert(new: str) -> str:
    return f"""
INSERT INTO patient_figures (patient_id, last_checkin_at) VALUES ({new}.patient_id, {new}.recorded_at)
ON CONFLICT (patient_id) DO UPDATE SET last_checkin_at = CASE
    WHEN patient_figures.last_checkin_at IS NULL OR excluded.last_checkin_at > patient_figures.last_checkin_at
    THEN excluded.last_checkin_at ELSE patient_figures.last_checkin_at END"""


def _checkin_recount(old: str) -> str:
    return f"""
UPDATE patient_figures SET last_checkin_at =
    (SELECT max(recorded_at) FROM checkin WHERE checkin.patient_id = {old}.patient_id)
WHERE patient_id = {old}.patient_id"""


def _score_upsert(code: str, new: str) -> str:
    # Latest: a later (or equally timed, later written) answer wins; first: only an earlier one.
    return f"""
INSERT INTO patient_figures (patient_id, {code}_latest, {code}_latest_at, {code}_first, {code}_first_at)
VALUES ({new}.patient_id, {new}.total, {new}.completed_at, {new}.total, {new}.completed_at)
ON CONFLICT (patient_id) DO UPDATE SET
    {code}_latest = CASE WHEN patient_figures.{code}_latest_at IS NULL
        OR excluded.{code}_latest_at >= patient_figures.{code}_latest_at
        THEN excluded.{code}_latest ELSE patient_figures.{code}_latest END,
    {code}_latest_at = CASE WHEN patient_figures.{code}_latest_at IS NULL
        OR excluded.{code}_latest_at >= patient_figures.{code}_latest_at
        THEN excluded.{code}_latest_at ELSE patient_figures.{code}_latest_at END,
    {code}_first = CASE WHEN patient_figures.{code}_first_at IS NULL
        OR excluded.{code}_first_at < patient_figures.{code}_first_at
        THEN excluded.{code}_first ELSE patient_figures.{code}_first END,
    {code}_first_at = CASE WHEN patient_figures.{code}_first_at IS NULL
        OR excluded.{code}_first_at < patient_figures.{code}_first_at
        THEN excluded.{code}_first_at ELSE patient_figures.{code}_first_at END"""


def _score(code: str, patient: str, column: str, latest: bool) -> str:
    order = 'DESC' if latest else 'ASC'
    return (
        f"(SELECT {column} FROM measure_response m WHERE m.patient_id = {patient} AND m.instrument = '{code}' "
        f"AND m.total IS NOT NULL ORDER BY m.completed_at {order}, m.created_at {order} LIMIT 1)"
    )


def _score_recount(code: str, old: str) -> str:
    return f"""
UPDATE patient_figures SET
    {code}_latest = {_score(code, f'{old}.patient_id', 'total', True)},
    {code}_latest_at = {_score(code, f'{old}.patient_id', 'completed_at', True)},
    {code}_first = {_score(code, f'{old}.patient_id', 'total', False)},
    {code}_first_at = {_score(code, f'{old}.patient_id', 'completed_at', False)}
WHERE patient_id = {old}.patient_id"""


def _backfill() -> str:
    scores = ', '.join(
        f"{_score(code, 'p.id', column, latest)}"
        for code in INSTRUMENTS
        for column, latest in (('total', True), ('completed_at', True), ('total', False), ('completed_at', False))
    )
    columns = ', '.join(f'{code}_{kind}' for code in INSTRUMENTS for kind in ('latest', 'latest_at', 'first', 'first_at'))
    return (
        f"INSERT INTO patient_figures (patient_id, last_checkin_at, {columns}) "
        f"SELECT p.id, (SELECT max(recorded_at) FROM checkin c WHERE c.patient_id = p.id), {scores} FROM patient p"
    )


def upgrade() -> None:
    timestamp = sa.DateTime(timezone=True)
    op.create_table(
        'patient_figures',
        sa.Column('patient_id', sa.String(36), sa.ForeignKey('patient.id', ondelete='CASCADE'), primary_key=True),
        sa.Column('last_checkin_at', timestamp, nullable=True),
        *(
            column
            for code in INSTRUMENTS
            for column in (
                sa.Column(f'{code}_latest', sa.Integer(), nullable=True),
                sa.Column(f'{code}_latest_at', timestamp, nullable=True),
                sa.Column(f'{code}_first', sa.Integer(), nullable=True),
                sa.Column(f'{code}_first_at', timestamp, nullable=True),
            )
        ),
    )
    op.execute(_backfill())
    if op.get_bind().dialect.name == 'postgresql':
        branches = '\n'.join(
            f"    IF NEW.instrument = '{code}' THEN {_score_upsert(code, 'NEW')}; END IF;" for code in INSTRUMENTS
        )
        recounts = '\n'.join(
            f"    IF OLD.instrument = '{code}' THEN {_score_recount(code, 'OLD')}; END IF;" for code in INSTRUMENTS
        )
        op.execute(f"""
CREATE FUNCTION patient_figures_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_checkin_upsert('NEW')}; ELSE {_checkin_recount('OLD')}; END IF;
    RETURN NULL;
END $$""")
        op.execute(f"""
CREATE FUNCTION patient_figures_measure() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN
        IF NEW.total IS NOT NULL THEN
{branches}
        END IF;
    ELSE
{recounts}
    END IF;
    RETURN NULL;
END $$""")
        op.execute('CREATE TRIGGER patient_figures_checkin AFTER INSERT OR DELETE ON checkin '
                   'FOR EACH ROW EXECUTE FUNCTION patient_figures_checkin()')
        op.execute('CREATE TRIGGER patient_figures_measure AFTER INSERT OR DELETE ON measure_response '
                   'FOR EACH ROW EXECUTE FUNCTION patient_figures_measure()')
        return
    op.execute(f"CREATE TRIGGER patient_figures_checkin AFTER INSERT ON checkin BEGIN {_checkin_upsert('NEW')}; END")
    op.execute(f"CREATE TRIGGER patient_figures_checkin_gone AFTER DELETE ON checkin "
               f"BEGIN {_checkin_recount('OLD')}; END")
    for code in INSTRUMENTS:
        op.execute(f"CREATE TRIGGER patient_figures_{code} AFTER INSERT ON measure_response "
                   f"WHEN NEW.total IS NOT NULL AND NEW.instrument = '{code}' "
                   f"BEGIN {_score_upsert(code, 'NEW')}; END")
        op.execute(f"CREATE TRIGGER patient_figures_{code}_gone AFTER DELETE ON measure_response "
                   f"WHEN OLD.instrument = '{code}' BEGIN {_score_recount(code, 'OLD')}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS patient_figures_checkin ON checkin')
        op.execute('DROP TRIGGER IF EXISTS patient_figures_measure ON measure_response')
        op.execute('DROP FUNCTION IF EXISTS patient_figures_checkin()')
        op.execute('DROP FUNCTION IF EXISTS patient_figures_measure()')
    else:
        for name in ('checkin', 'checkin_gone', *INSTRUMENTS, *(f'{code}_gone' for code in INSTRUMENTS)):
            op.execute(f'DROP TRIGGER IF EXISTS patient_figures_{name}')
    op.drop_table('patient_figures')
