"""caseload mood week: each patient's mood of their last days kept in patient_figures, by triggers

Revision ID: 0020
Revises: 0019
Create Date: 2026-11-30 23:40:00

The caseload's "mood" order needs the mean mood of the last 7 days of every patient in a clinic.
Computed from the check-ins, that is a week of rows for every patient grouped on each page (10,000
patients: 70,000 rows). Instead patient_figures keeps seven day slots, one per weekday: slot k holds
the latest day whose number of days since 2000-01-03 is k modulo 7, with the sum and count of that
day's moods. The week ending today is the slots whose day is within it, whatever day it is: a
check-in of an older day than its slot's is more than a week older than a day already seen, so
never within a week that includes that day. The check-in triggers of 0010 keep the slots current
in the same statement as the write; deleting a check-in recomputes its slot.
"""

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = '0020'
down_revision: str | None = '0019'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SLOTS = range(7)
EPOCH = date(2000, 1, 3)


def _slot(day: str, dialect: str) -> str:
    if dialect == 'postgresql':
        return f"(({day} - DATE '2000-01-03') % 7)"
    return f"(CAST(julianday({day}) - julianday('2000-01-03') AS INTEGER) % 7)"


def _checkin_upsert(new: str, dialect: str) -> str:
    slot = _slot(f'{new}.local_date', dialect)
    columns = ', '.join(f'mood_day{k}, mood_sum{k}, mood_n{k}' for k in SLOTS)
    values = ', '.join(
        f'CASE WHEN {slot} = {k} THEN {new}.local_date END, CASE WHEN {slot} = {k} THEN {new}.mood END, '
        f'CASE WHEN {slot} = {k} THEN 1 END'
        for k in SLOTS
    )
    updates = []
    for k in SLOTS:
        new_day, day = f'excluded.mood_day{k}', f'patient_figures.mood_day{k}'
        later = f'{day} IS NULL OR {new_day} > {day}'
        updates.append(
            f'mood_day{k} = CASE WHEN {new_day} IS NULL THEN {day} WHEN {later} THEN {new_day} ELSE {day} END'
        )
        for part in ('sum', 'n'):
            old, new_value = f'patient_figures.mood_{part}{k}', f'excluded.mood_{part}{k}'
            updates.append(
                f'mood_{part}{k} = CASE WHEN {new_day} IS NULL THEN {old} WHEN {new_day} = {day} THEN {old} + {new_value} '
                f'WHEN {later} THEN {new_value} ELSE {old} END'
            )
    return f"""
INSERT INTO patient_figures (patient_id, last_checkin_at, {columns})
VALUES ({new}.patient_id, {new}.recorded_at, {values})
ON CONFLICT (patient_id) DO UPDATE SET last_checkin_at = CASE
    WHEN patient_figures.last_checkin_at IS NULL OR excluded.last_checkin_at > patient_figures.last_checkin_at
    THEN excluded.last_checkin_at ELSE patient_figures.last_checkin_at END,
    {', '.join(updates)}"""


def _old_checkin_upsert(new: str) -> str:
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


def _slot_recounts(old: str, dialect: str) -> list[str]:
    """The slot of a deleted check-in, computed again from the check-ins left (one of the seven
    statements matches)."""
    statements = []
    for k in SLOTS:
        latest = (
            f"(SELECT max(c2.local_date) FROM checkin c2 WHERE c2.patient_id = {old}.patient_id "
            f"AND {_slot('c2.local_date', dialect)} = {k})"
        )
        that_day = f"FROM checkin c WHERE c.patient_id = {old}.patient_id AND c.local_date = {latest}"
        statements.append(
            f"UPDATE patient_figures SET mood_day{k} = {latest}, mood_sum{k} = (SELECT sum(c.mood) {that_day}), "
            f"mood_n{k} = (SELECT count(*) {that_day}) "
            f"WHERE patient_id = {old}.patient_id AND {_slot(f'{old}.local_date', dialect)} = {k}"
        )
    return statements


def _backfill(today: date) -> list[str]:
    """The slots of the last eight days (older days are never within a week read from now on)."""
    statements = []
    for back in range(8, -2, -1):  # oldest first (to tomorrow, for zones ahead): a later day replaces its slot
        day = today - timedelta(days=back)
        k = (day - EPOCH).days % 7
        on_day = f"FROM checkin c WHERE c.patient_id = patient_figures.patient_id AND c.local_date = '{day.isoformat()}'"
        statements.append(
            f"UPDATE patient_figures SET mood_day{k} = '{day.isoformat()}', "
            f"mood_sum{k} = (SELECT sum(c.mood) {on_day}), mood_n{k} = (SELECT count(*) {on_day}) "
            f"WHERE EXISTS (SELECT 1 {on_day})"
        )
    return statements


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    for k in SLOTS:
        op.add_column('patient_figures', sa.Column(f'mood_day{k}', sa.Date(), nullable=True))
        op.add_column('patient_figures', sa.Column(f'mood_sum{k}', sa.Integer(), nullable=True))
        op.add_column('patient_figures', sa.Column(f'mood_n{k}', sa.Integer(), nullable=True))
    for statement in _backfill(date.today()):
        op.execute(statement)
    if dialect == 'postgresql':
        recounts = ';\n    '.join(_slot_recounts('OLD', dialect))
        op.execute(f"""
CREATE OR REPLACE FUNCTION patient_figures_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_checkin_upsert('NEW', dialect)};
    ELSE {_checkin_recount('OLD')};
    {recounts};
    END IF;
    RETURN NULL;
END $$""")
        return
    op.execute('DROP TRIGGER IF EXISTS patient_figures_checkin')
    op.execute('DROP TRIGGER IF EXISTS patient_figures_checkin_gone')
    op.execute(f"CREATE TRIGGER patient_figures_checkin AFTER INSERT ON checkin BEGIN {_checkin_upsert('NEW', dialect)}; END")
    recounts = '; '.join([_checkin_recount('OLD'), *_slot_recounts('OLD', dialect)])
    op.execute(f"CREATE TRIGGER patient_figures_checkin_gone AFTER DELETE ON checkin BEGIN {recounts}; END")


def downgrade() -> None:
    if op.get_bind().dialect.name == 'postgresql':
        op.execute(f"""
CREATE OR REPLACE FUNCTION patient_figures_checkin() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' THEN {_old_checkin_upsert('NEW')}; ELSE {_checkin_recount('OLD')}; END IF;
    RETURN NULL;
END $$""")
    else:
        op.execute('DROP TRIGGER IF EXISTS patient_figures_checkin')
        op.execute('DROP TRIGGER IF EXISTS patient_figures_checkin_gone')
        op.execute(f"CREATE TRIGGER patient_figures_checkin AFTER INSERT ON checkin BEGIN {_old_checkin_upsert('NEW')}; END")
        op.execute(f"CREATE TRIGGER patient_figures_checkin_gone AFTER DELETE ON checkin BEGIN {_checkin_recount('OLD')}; END")
    # In place (SQLite 3.35+ drops columns itself): a copied table would break the triggers naming it.
    with op.batch_alter_table('patient_figures', recreate='never') as batch:
        for k in SLOTS:
            for name in (f'mood_day{k}', f'mood_sum{k}', f'mood_n{k}'):
                batch.drop_column(name)
