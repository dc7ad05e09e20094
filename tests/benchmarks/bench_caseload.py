"""Caseload benchmark: a clinician with 2,000 patients and a clinic admin over 10,000, 365 days of
check-ins and weekly PHQ-9 and GAD-7 each, on PostgreSQL (a throwaway cluster on a free port), read
through a real `tandem serve` as a signed-in browser would. Run on demand; prints figures.

    .venv/bin/python -m tests.benchmarks.bench_caseload                    # 2,000 / 10,000 patients
    .venv/bin/python -m tests.benchmarks.bench_caseload --patients 2000 --clinicians 1 --days 90  # smaller
    .venv/bin/python -m tests.benchmarks.bench_caseload --hold 1800     # then keep the database up, and
    BENCH_CODE_ROOT=/tmp/base .venv/bin/python -m tests.benchmarks.bench_caseload --reuse /tmp/.../held.json
        # measures another checkout (main, say) on that same database: before/after on the same rows

Target (issue 17): caseload page p95 <= 300 ms for both. The rows are generated inside PostgreSQL
(generate_series), names encrypted by the app's own cipher; the load average is printed beside
the figures.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import httpx

from tests.benchmarks import loadkit
from tests.support.server import TANDEM

SORTS = ("name", "last_checkin", "mood", "phq9", "alerts")
FILTERS = ("", "measures=case", "checkins=quiet", "alerts=open", "name=client%2012")

SEED = """
import json, sys
from service.db import session_scope, unit_of_work
from service.models import Patient, PatientStatus
from service.models.base import utcnow
from service.onboarding import staff
from service.kit.context import Actor
from tests.factories import create_clinic
args = json.loads(sys.argv[1])
with session_scope() as s:
    setup = create_clinic(s, name="Big Clinic", slug="big")
    others = [staff.add_staff(s, clinic=setup.clinic, email=f"c{n}@big.example.org", name=f"Clinician {n}",
                              role="clinician", actor=Actor.system("bench")).staff
              for n in range(args["clinicians"] - 1)]
    team = [setup.clinician, *others]
    with unit_of_work(s):
        for n in range(args["patients"] * args["clinicians"]):
            s.add(Patient(clinic_id=setup.clinic.id, clinician_id=team[n % len(team)].id, display_name=f"Client {n}",
                          status=PatientStatus.ACTIVE, activated_at=utcnow(), timezone="Europe/Paris"))
    print(json.dumps({"clinician": [setup.clinician.email, setup.clinician_password],
                      "admin": [setup.admin.email, setup.admin_password]}))
"""

# Bulk history with the row triggers off (session_replication_role), then patient_figures filled the
# way migration 0010 does, by grouped queries: a row trigger per generated row would take an hour.
# Each patient draws their own questionnaire totals: one draw shared by everybody made every patient
# alike, so a filter such as measures=case matched either nobody or everybody.
HISTORY = (
    """
SET session_replication_role = replica;
INSERT INTO checkin (id, patient_id, recorded_at, local_date, mood, anxiety, sleep_hours, energy, note, tags,
                     risk_level, risk_categories, risk_engine_version, created_at)
SELECT gen_random_uuid()::text, p.id, now() - make_interval(days => d) - interval '3 hours',
       (now() - make_interval(days => d))::date, (random() * 10)::int, (random() * 10)::int, 7.5, 5, NULL,
       '[]', 'none', '[]', NULL, now() - make_interval(days => d)
FROM patient p, generate_series(0, :days - 1) AS d;
INSERT INTO measure_response (id, patient_id, instrument, answers, total, severity, completed_at, local_date,
                              risk_level, risk_categories, risk_engine_version, created_at)
SELECT gen_random_uuid()::text, t.patient_id, t.code, '[]', t.total,
       CASE WHEN t.code = 'phq9' THEN (CASE WHEN t.total < 5 THEN 'minimal' WHEN t.total < 10 THEN 'mild'
            WHEN t.total < 15 THEN 'moderate' WHEN t.total < 20 THEN 'moderately_severe' ELSE 'severe' END)
            ELSE (CASE WHEN t.total < 5 THEN 'minimal' WHEN t.total < 10 THEN 'mild'
            WHEN t.total < 15 THEN 'moderate' ELSE 'severe' END) END,
       now() - make_interval(days => t.w * 7), (now() - make_interval(days => t.w * 7))::date,
       'none', '[]', NULL, now() - make_interval(days => t.w * 7)
FROM (SELECT p.id AS patient_id, w, i.code, (random() * i.top)::int AS total  -- a draw per patient and week
      FROM patient p, generate_series(0, :days / 7) AS w,
           (VALUES ('phq9', 27), ('gad7', 21)) AS i(code, top)) AS t;
SET session_replication_role = origin;
DELETE FROM patient_figures;
INSERT INTO patient_figures (patient_id, last_checkin_at)
SELECT p.id, (SELECT max(recorded_at) FROM checkin c WHERE c.patient_id = p.id) FROM patient p;
"""
    + "".join(
        f"""
UPDATE patient_figures f SET {code}_{which} = s.total, {code}_{which}_at = s.completed_at
FROM (SELECT DISTINCT ON (patient_id) patient_id, total, completed_at FROM measure_response
      WHERE instrument = '{code}' AND total IS NOT NULL
      ORDER BY patient_id, completed_at {order}, created_at {order}) s
WHERE f.patient_id = s.patient_id;"""
        for code in ("phq9", "gad7")
        for which, order in (("latest", "DESC"), ("first", "ASC"))
    )
    + """
ANALYZE;
"""
)


def history_statements(days: int) -> list[str]:
    """The statements that write ``days`` days of history for every patient in the database, then
    fill the mood day slots of patient_figures the way migration 0020 does (its last days)."""
    statements = [statement.replace(":days", str(days)) for statement in HISTORY.split(";") if statement.strip()]
    today = datetime.now(UTC).date()
    for back in range(8, -2, -1):  # oldest first: a later day replaces the one a week before in its slot
        day = today - timedelta(days=back)
        k = (day - date(2000, 1, 3)).days % 7
        statements.append(
            f"UPDATE patient_figures f SET mood_day{k} = s.local_date, mood_sum{k} = s.total, mood_n{k} = s.n "
            f"FROM (SELECT patient_id, local_date, sum(mood) AS total, count(*) AS n FROM checkin "
            f"WHERE local_date = '{day.isoformat()}' GROUP BY patient_id, local_date) s "
            "WHERE f.patient_id = s.patient_id"
        )
    return [*statements, "ANALYZE"]


def _seed(url: str, work: Path, patients: int, clinicians: int, days: int) -> dict[str, list[str]]:
    import json

    python = str(Path(TANDEM).with_name("python"))
    done = subprocess.run(
        [python, "-c", SEED, json.dumps({"patients": patients, "clinicians": clinicians})],
        env=loadkit.server_env(url, work),
        capture_output=True,
        text=True,
        timeout=1800,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr[-3000:])
    logins = json.loads(done.stdout.strip().splitlines()[-1])
    started = time.monotonic()
    import psycopg

    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as conn:
        for statement in history_statements(days):
            conn.execute(statement)  # type: ignore[arg-type]
        checkins = conn.execute("SELECT count(*) FROM checkin").fetchone()
        responses = conn.execute("SELECT count(*) FROM measure_response").fetchone()
    print(
        f"history: {checkins[0] if checkins else 0} check-ins, {responses[0] if responses else 0} "
        f"questionnaires, in {time.monotonic() - started:.0f} s"
    )
    return logins


def _browser(base: str, email: str, password: str) -> httpx.Client:
    browser = httpx.Client(base_url=base, timeout=120)
    form = browser.get("/portal/login")
    csrf = form.text.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    answer = browser.post("/portal/login", data={"email": email, "password": password, "csrf_token": csrf})
    if answer.status_code != 303:
        raise RuntimeError(f"sign-in failed: {answer.status_code}")
    return browser


def _measure(
    browser: httpx.Client, who: str, repeats: int, *, server_pid: int, postmaster_pid: int
) -> tuple[list[float], list[float]]:
    """Wall time of each page, and the CPU time it cost the server and PostgreSQL together (the
    work a page takes, which a machine shared with other work stretches in wall time only)."""
    timings: list[float] = []
    work: list[float] = []
    for query in [f"sort={sort}" for sort in SORTS] + [f for f in FILTERS if f]:
        own: list[float] = []
        cpu_before = loadkit.tree_cpu_seconds(server_pid) + loadkit.tree_cpu_seconds(postmaster_pid)
        for _ in range(repeats):
            started = time.monotonic()
            answer = browser.get(f"/portal/?{query}")
            own.append(time.monotonic() - started)
            assert answer.status_code == 200, answer.status_code
        cpu = loadkit.tree_cpu_seconds(server_pid) + loadkit.tree_cpu_seconds(postmaster_pid) - cpu_before
        size = len(answer.content) / 1024
        print(
            f"  {who} /portal/?{query}: p50 {statistics.median(own) * 1000:.0f} ms, "
            f"max {max(own) * 1000:.0f} ms, CPU {cpu / repeats * 1000:.0f} ms a page (app + database), "
            f"{size:.0f} KiB"
        )
        timings.extend(own)
        work.extend([cpu / repeats] * repeats)
    return timings, work


def _measure_both(
    server: loadkit.Server, logins: dict[str, list[str]], repeats: int, postmaster_pid: int
) -> tuple[dict[str, list[float]], dict[str, list[float]]]:
    figures, cpu = {}, {}
    for who, (email, password) in (("clinician", logins["clinician"]), ("admin", logins["admin"])):
        browser = _browser(server.base, email, password)
        browser.get("/portal/")  # warm up
        figures[who], cpu[who] = _measure(
            browser, who, repeats, server_pid=server.process.pid, postmaster_pid=postmaster_pid
        )
    return figures, cpu


def _print_summary(figures: dict[str, list[float]], cpu: dict[str, list[float]], args: argparse.Namespace) -> None:
    total = args.patients * args.clinicians
    for who, timings in figures.items():
        shown = f"{args.patients if who == 'clinician' else total} patients x {args.days} days"
        print(
            f"caseload page, {who} over {shown if args.reuse is None else 'the held database'}: "
            f"{loadkit.summary(timings)} (target p95 <= 300 ms); CPU a page (app + database): "
            f"mean {statistics.mean(cpu[who]) * 1000:.0f} ms, max {max(cpu[who]) * 1000:.0f} ms"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--patients", type=int, default=2000, help="patients per clinician")
    parser.add_argument("--clinicians", type=int, default=5, help="clinicians (the admin sees them all)")
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--hold", type=int, default=0, help="keep the database and server this many seconds after (to profile)"
    )
    parser.add_argument("--reuse", type=Path, default=None, help="the held.json of a run with --hold: measure on it")
    args = parser.parse_args()
    if args.patients * args.clinicians > 20_000 or args.days > 400:
        raise SystemExit("bounded: at most 20,000 patients and 400 days")
    work = loadkit.workdir()
    print(f"load average before: {loadkit.load_average()}; work dir {work}")
    if args.reuse is not None:
        # A database seeded and held by an earlier run: measure this checkout (or BENCH_CODE_ROOT) on it.
        held = json.loads(args.reuse.read_text())
        work = Path(held["workdir"])
        with loadkit.tandem_serve(
            held["url"], work, args=("--no-migrate",), TANDEM_SCHEDULER_ENABLED="false"
        ) as server:
            figures, cpu = _measure_both(server, held["logins"], args.repeats, held["postmaster_pid"])
        _print_summary(figures, cpu, args)
        print(f"load average after: {loadkit.load_average()}")
        return
    with loadkit.throwaway_cluster() as cluster:
        loadkit.migrate(cluster.url, work)
        logins = _seed(cluster.url, work, args.patients, args.clinicians, args.days)
        with loadkit.tandem_serve(cluster.url, work, TANDEM_SCHEDULER_ENABLED="false") as server:
            figures, cpu = _measure_both(server, logins, args.repeats, cluster.postmaster_pid)
            if args.hold:
                held_file = work / "held.json"
                held_file.write_text(
                    json.dumps(
                        {
                            "url": cluster.url,
                            "workdir": str(work),
                            "logins": logins,
                            "postmaster_pid": cluster.postmaster_pid,
                        }
                    )
                )
                print(f"holding {args.hold} s: database {cluster.url}, server {server.base} (pid {server.process.pid})")
                print(f"  measure another checkout on it: --reuse {held_file}", flush=True)
                time.sleep(min(args.hold, 3600))
        _print_summary(figures, cpu, args)
    print(f"load average after: {loadkit.load_average()}")


if __name__ == "__main__":
    main()
