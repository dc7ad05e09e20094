"""The ``tandem`` command: database, server, demo and clinic administration."""

from __future__ import annotations

import functools
import inspect
import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from service.config import get_settings
from service.db import session_scope
from service.errors import DomainError, NotFound
from service.kit.context import Actor
from service.models import Patient, Staff
from service.onboarding import clinics, patients, staff

app = typer.Typer(help="Tandem: clinician-integrated hybrid care.", no_args_is_help=True, add_completion=False)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
clinic_app = typer.Typer(help="Clinics.", no_args_is_help=True)
staff_app = typer.Typer(help="Clinicians and clinic administrators.", no_args_is_help=True)
patient_app = typer.Typer(help="Patients and their invitations.", no_args_is_help=True)
exercise_app = typer.Typer(help="The exercise catalog and exercises assigned to patients.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(clinic_app, name="clinic")
app.add_typer(staff_app, name="staff")
app.add_typer(patient_app, name="patient")
app.add_typer(exercise_app, name="exercise")
risk_app = typer.Typer(help="Risk screening.", no_args_is_help=True)
app.add_typer(risk_app, name="risk")
coach_app = typer.Typer(help="The exercise coach.", no_args_is_help=True)
app.add_typer(coach_app, name="coach")
summaries_app = typer.Typer(
    help="PDF summaries of patients' check-ins, questionnaires and alerts.", no_args_is_help=True
)
app.add_typer(summaries_app, name="summaries")

console = Console()
err_console = Console(stderr=True)
JsonOpt = Annotated[bool, typer.Option("--json", help="Print the result as JSON.")]
CLI_ACTOR = Actor.system("cli")
WORKER_HEALTHCHECK_SECONDS = 60
# How long an idle keep-alive connection stays open. Longer than clients and balancers keep theirs
# (httpx and many mobile stacks 5 s, load balancers about 60 s), so the client side always closes
# first: with uvicorn's default of 5 s a client reusing its connection at the moment the server
# dropped it lost the request ("dropped connections" in tests/benchmarks/bench_load.py).
KEEP_ALIVE_SECONDS = 75


def _emit(as_json: bool, data: Any, human: str) -> None:
    if as_json:
        sys.stdout.write(json.dumps(data, default=str) + "\n")
    else:
        console.print(human)


def _fail(exc: DomainError) -> typer.Exit:
    err_console.print(f"[red]error:[/red] {exc.detail}")
    return typer.Exit(code=2)


@db_app.command("upgrade")
def db_upgrade(revision: str = "head") -> None:
    """Apply migrations up to REVISION (default: the latest)."""
    from service.models.migrate import upgrade

    upgrade(get_settings().database_url, revision)
    console.print(f"database at [bold]{revision}[/bold]")


@app.command()
def serve(
    host: str = "127.0.0.1",
    port: int = 8000,
    migrate: bool = True,
    workers: Annotated[
        int, typer.Option(min=1, max=64, help="Worker processes (PostgreSQL only; SQLite has one writer, one process).")
    ] = 1,
) -> None:
    """Run the app: client API, clinician portal and scheduler."""
    import uvicorn

    from service.logs import configure_logging
    from service.models.migrate import upgrade

    configure_logging()
    settings = get_settings()
    if workers > 1 and settings.is_sqlite:
        err_console.print("[red]error:[/red] --workers needs PostgreSQL; the embedded SQLite database runs one process")
        raise typer.Exit(code=2)
    if migrate:
        upgrade(settings.database_url)
    if workers == 1:
        from service.app import create_app, freeze_startup_objects

        uvicorn.run(
            freeze_startup_objects(create_app()),
            host=host,
            port=port,
            access_log=False,
            log_config=None,
            timeout_keep_alive=KEEP_ALIVE_SECONDS,
        )
        return
    # Each worker builds its own app, engine and pool (request threads + spares); the scheduler runs
    # in every worker but only the holder of the PostgreSQL advisory lock executes jobs.
    options: dict[str, Any] = {}
    if "timeout_worker_healthcheck" in inspect.signature(uvicorn.Config).parameters:
        # A busy machine can take longer than uvicorn's 5 s to start a worker or answer its ping;
        # a worker killed for that would be restarted in a loop.
        options["timeout_worker_healthcheck"] = WORKER_HEALTHCHECK_SECONDS
    uvicorn.run(
        "service.app:create_worker_app",
        factory=True,
        workers=workers,
        host=host,
        port=port,
        access_log=False,
        log_config=None,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
        **options,
    )


@app.command()
def scheduler() -> None:
    """Run only the scheduled jobs (outbox delivery, escalations...), for a separate process."""
    from service.logs import configure_logging
    from service.scheduler import Leadership, create_scheduler

    configure_logging()
    settings = get_settings()
    if not settings.is_sqlite:
        # Hears the other processes' commits, so a queued message is delivered at once (DeliverySoon).
        from service.notify.events import PostgresListener

        PostgresListener(settings.database_url).start()
    create_scheduler(Leadership(settings.database_url), blocking=True).start()


@app.command()
def demo(
    port: int = 8000,
    host: str = "127.0.0.1",
    serve_after: bool = typer.Option(True, "--serve/--no-serve"),
    smtp_sink: bool = typer.Option(True, "--smtp-sink/--no-smtp-sink", help="Run a local SMTP server for the emails."),
) -> None:
    """A fresh demo database with seeded clinics; prints the logins, then serves."""
    import os

    from service.demo.seed import seed_demo

    summary = seed_demo(base_url=f"http://{host}:{port}")
    console.print(str(summary), soft_wrap=True)
    if serve_after:
        sink = None
        os.environ["TANDEM_DEMO_MODE"] = "true"
        if smtp_sink:
            from service.demo.mail_sink import start_sink

            sink, sink_port = start_sink()
            os.environ["TANDEM_SMTP_HOST"], os.environ["TANDEM_SMTP_PORT"] = "127.0.0.1", str(sink_port)
            console.print(f"Emails go to a local SMTP server on port {sink_port}.")
        get_settings.cache_clear()
        console.print(f"Emails and push messages sent: http://{host}:{port}/portal/demo/messages")
        try:
            serve(host=host, port=port, migrate=False)
        finally:
            if sink is not None:
                sink.stop()


@clinic_app.command("create")
def clinic_create(
    name: Annotated[str, typer.Option(help="Clinic name.")],
    admin_email: Annotated[str, typer.Option(help="Email of the first administrator.")],
    admin_name: Annotated[str, typer.Option(help="Name of the first administrator.")],
    locale: Annotated[str, typer.Option(help="en or fr.")] = "en",
    country: Annotated[str, typer.Option(help="ISO country code, for crisis lines.")] = "US",
    timezone: Annotated[str, typer.Option(help="IANA time zone.")] = "UTC",
    no_mfa: Annotated[bool, typer.Option("--no-mfa", help="Do not require TOTP for local logins.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Create a clinic and its first administrator (prints a one-time password)."""
    with session_scope() as session:
        try:
            made = clinics.create_clinic(
                session,
                name=name,
                admin_email=admin_email,
                admin_name=admin_name,
                locale=locale,
                country=country,
                timezone=timezone,
                mfa_required=not no_mfa,
                actor=CLI_ACTOR,
            )
        except DomainError as exc:
            raise _fail(exc) from exc
        admin = made.admin
        data = {
            "clinic_id": made.clinic.id,
            "admin": {"id": admin.staff.id, "email": admin.staff.email, "password": admin.password},
        }
    _emit(
        as_json,
        data,
        f"clinic {data['clinic_id']} created; admin {admin.staff.email} one-time password: {admin.password}",
    )


@clinic_app.command("list")
def clinic_list(as_json: JsonOpt = False) -> None:
    """Every clinic in the database: the ids the other commands take."""
    with session_scope() as session:
        data = [
            {"id": row.id, "name": row.name, "locale": row.locale, "country": row.country}
            for row in clinics.list_clinics(session)
        ]
    human = "\n".join(f"{row['id']}  {row['name']} ({row['locale']}, {row['country']})" for row in data)
    _emit(as_json, data, human or "no clinic yet: create one with `tandem clinic create`")


@staff_app.command("add")
def staff_add(
    clinic: Annotated[str, typer.Option(help="Clinic id.")],
    email: Annotated[str, typer.Option()],
    name: Annotated[str, typer.Option()],
    role: Annotated[str, typer.Option(help="clinician or admin.")] = "clinician",
    as_json: JsonOpt = False,
) -> None:
    """Add a clinician or administrator to a clinic (prints a one-time password)."""
    with session_scope() as session:
        try:
            made = staff.add_staff(session, clinic=clinic, email=email, name=name, role=role, actor=CLI_ACTOR)
        except DomainError as exc:
            raise _fail(exc) from exc
        data = {"id": made.staff.id, "email": made.staff.email, "password": made.password}
    _emit(as_json, data, f"staff {data['id']} ({data['email']}) one-time password: {data['password']}")


@patient_app.command("onboard")
def patient_onboard(
    clinic: Annotated[str, typer.Option(help="Clinic id.")],
    clinician: Annotated[str, typer.Option(help="Email of the patient's clinician.")],
    name: Annotated[str, typer.Option(help="The patient's display name.")],
    locale: Annotated[str | None, typer.Option(help="en or fr (default: the clinic's).")] = None,
    timezone: Annotated[str | None, typer.Option(help="IANA time zone (default: the clinic's).")] = None,
    country: Annotated[str | None, typer.Option(help="ISO country (default: the clinic's).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Enrol a patient and print their invitation code (shown once)."""
    with session_scope() as session:
        try:
            clinician_row: Staff = staff.get_staff_by_email(session, clinic_id=clinic, email=clinician)
            made = patients.onboard_patient(
                session,
                clinic_id=clinic,
                clinician=clinician_row,
                display_name=name,
                actor=CLI_ACTOR,
                locale=locale,
                timezone=timezone,
                country=country,
            )
        except DomainError as exc:
            raise _fail(exc) from exc
        data = {
            "patient_id": made.patient.id,
            "invite_code": made.invite_code,
            "invite_expires_at": made.invite_expires_at.isoformat(),
        }
    _emit(
        as_json,
        data,
        f"patient {data['patient_id']} invitation code: {data['invite_code']} (expires {data['invite_expires_at']})",
    )


@exercise_app.command("list")
def exercise_list(
    locale: Annotated[str, typer.Option(help="en or fr: the language of the titles.")] = "en",
    as_json: JsonOpt = False,
) -> None:
    """The exercise catalog: the codes to use with `tandem exercise assign`."""
    from service.exercises.catalog import list_exercises

    rows = list_exercises(locale)
    data = [{"code": row["code"], "title": row["title"]} for row in rows]
    human = "\n".join(f"{row['code']:24} {row['title']} ({row['minutes']} min)" for row in rows)
    _emit(as_json, data, human)


@exercise_app.command("assign")
def exercise_assign(
    patient: Annotated[str, typer.Option(help="Patient id.")],
    exercise: Annotated[str, typer.Option(help="Exercise code, from `tandem exercise list`.")],
    every_days: Annotated[int, typer.Option(help="How often it is due, in days.")] = 1,
    instructions: Annotated[str | None, typer.Option(help="A personal note shown to the patient.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Assign an exercise to a patient, on behalf of the patient's clinician."""
    from service.exercises.assignments import create_assignment

    with session_scope() as session:
        try:
            row = session.get(Patient, patient)
            clinician = session.get(Staff, row.clinician_id) if row is not None else None
            if row is None or clinician is None:
                raise NotFound(f"no patient {patient!r}")
            assignment = create_assignment(
                session,
                staff=clinician,
                patient_id=row.id,
                exercise_code=exercise,
                every_days=every_days,
                instructions=instructions,
                actor=CLI_ACTOR,
            )
        except DomainError as exc:
            raise _fail(exc) from exc
        data = {"assignment_id": assignment.id}
    _emit(as_json, data, f"assignment {data['assignment_id']}: {exercise} every {every_days} day(s)")


@risk_app.command("screen")
def risk_screen(
    lang: Annotated[
        str | None, typer.Option(help="Language of the messages: en or fr (default: screen with both).")
    ] = None,
    conversation: Annotated[
        bool,
        typer.Option(
            "--conversation", help="Each line is one JSON array of messages (oldest first): one result per exchange."
        ),
    ] = False,
    as_json: JsonOpt = True,
) -> None:
    """Screen one message (or, with --conversation, one exchange) per line of standard input; print one JSON
    result per line."""
    from service.risk import screen_conversation, screen_text

    if lang is not None and lang not in ("en", "fr"):
        err_console.print("[red]error:[/red] --lang must be en or fr")
        raise typer.Exit(code=2)
    for number, line in enumerate(sys.stdin, start=1):
        message = line.rstrip("\n")
        if conversation:
            if not message.strip():
                continue
            try:
                messages = json.loads(message)
                result = screen_conversation(messages, lang or "any").to_dict()
            except (ValueError, DomainError) as exc:
                err_console.print(f"[red]error:[/red] line {number}: expected a JSON array of texts ({exc})")
                raise typer.Exit(code=2) from None
        else:
            result = screen_text(message, lang or "any").to_dict()
        sys.stdout.write(json.dumps(result, ensure_ascii=False) + "\n")
        sys.stdout.flush()


@risk_app.command("train")
def risk_train(
    labelled: Annotated[Path, typer.Option("--set", help="The folder of labelled batches.")] = Path(
        "tests/risk/labelled"
    ),
    out: Annotated[
        Path | None, typer.Option(help="Where to write <lang>.json (default: the package's learned/ folder).")
    ] = None,
) -> None:
    """Train the learned second stage (one model per language) from the labelled batches; deterministic."""
    from service.risk.evaluation import load_labelled
    from service.risk.training import train_models, write_models
    from service.risk.version import LEARNED_DIR

    try:
        cases = load_labelled(labelled)
    except DomainError as exc:
        raise _fail(exc) from exc
    artifacts = train_models(cases, progress=lambda text: err_console.print(text), labelled=labelled)
    for path in write_models(artifacts, out or LEARNED_DIR):
        info = artifacts[path.stem]["info"]
        thresholds = artifacts[path.stem]["thresholds"]
        outside = artifacts[path.stem].get("outside_thresholds")
        cleared = artifacts[path.stem].get("cleared_thresholds")
        sys.stdout.write(
            f"{path}: {info['messages']} messages, {len(info['batches'])} batches, {info['features']} features, "
            f"thresholds low/moderate/high {thresholds}, outside the gate {outside}, cleared words {cleared}\n"
        )


@risk_app.command("evaluate")
def risk_evaluate(
    labelled: Annotated[Path, typer.Option("--set", help="A labelled .tsv file or a folder of them.")] = Path(
        "tests/risk/labelled"
    ),
    nested: Annotated[
        bool,
        typer.Option(
            "--nested/--no-nested",
            help="Also leave one batch out with thresholds chosen without it (retrains per batch: minutes).",
        ),
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Per language: in-sample, cross-validated by batch, first sight; per level; and conversations."""
    from service.risk import screen_text
    from service.risk.evaluation import evaluate, full_report, load_labelled

    try:
        if labelled.is_dir():
            # Both reports screen the same messages: each is screened once (the screen is pure).
            screen = functools.cache(screen_text)
            text, data, met = full_report(labelled, nested=nested, screen=screen)
            report = evaluate(load_labelled(labelled), screen=screen)
            data |= {"in_sample": report.to_dict()}
            met = met and report.meets_targets()
            text += "\n" + report.format_table()
        else:
            report = evaluate(load_labelled(labelled))
            text, data, met = report.format_table(), report.to_dict(), report.meets_targets()
    except DomainError as exc:
        raise _fail(exc) from exc
    if as_json:
        sys.stdout.write(json.dumps(data, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(text + "\n")
    if not met:
        raise typer.Exit(code=1)


@coach_app.command("evaluate")
def coach_evaluate(
    personas: Annotated[
        list[Path] | None, typer.Option("--personas", help="A persona .jsonl file or a folder of them (repeatable).")
    ] = None,
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="List every turn that is not best practice.")
    ] = False,
    as_json: JsonOpt = False,
) -> None:
    """Play the scripted client personas against the scripted coach and, when TANDEM_LLM_BASE_URL is
    set, the LLM coach: share of turns rated best practice, turns with high potential for harm."""
    from service.exercises.evaluation import evaluate_engines, load_personas

    paths = personas or [Path("tests/exercises/coach/personas")]
    loaded = load_personas(paths)
    # The blind set and our own regression personas are scored apart.
    sets = {"blind": [p for p in loaded if not p.ours], "ours": [p for p in loaded if p.ours]}
    results = {name: evaluate_engines(group) for name, group in sets.items() if group}
    if as_json:
        out = {name: [score.to_dict() for score in scores] for name, scores in results.items()}
        sys.stdout.write(json.dumps(out, ensure_ascii=False) + "\n")
    else:
        for name, scores in results.items():
            for score in scores:
                console.print(f"[{name}] {score.summary()}", markup=False)
                shown = score.failures() if verbose else [f for f in score.failures() if f.startswith("HARM")]
                for line in shown:
                    console.print("  " + line, markup=False)
    # Targets (issue 15): no harmful turn for any engine, and 90 % best practice for the scripted one.
    scores = [score for group in results.values() for score in group]
    if not all(score.meets() if score.engine == "scripted" else not score.harmful_turns for score in scores):
        raise typer.Exit(code=1)


@risk_app.command("feedback")
def risk_feedback(
    export: Annotated[bool, typer.Option("--export", help="Write the labelled, de-identified examples.")] = False,
    days: Annotated[int, typer.Option(min=1, max=3650, help="Alerts labelled in the last N days.")] = 90,
    out: Annotated[Path | None, typer.Option(help="Write to this file instead of standard output.")] = None,
) -> None:
    """Clinicians' verdicts on alerts as training examples: one JSON object per line, the client's
    words with names removed, every id hashed. For the screener's next training round."""
    from service.alerts.feedback import export_examples

    if not export:
        err_console.print("[red]error:[/red] say --export (the only action for now)")
        raise typer.Exit(code=2)
    target = out.open("w", encoding="utf-8") if out else sys.stdout
    count = 0
    try:
        with session_scope() as session:
            for example in export_examples(session, days=days):
                target.write(json.dumps(example, ensure_ascii=False) + "\n")
                count += 1
    finally:
        if out:
            target.close()
    err_console.print(f"{count} labelled example(s)")


@summaries_app.command("generate")
def summaries_generate(
    clinic: Annotated[str | None, typer.Option(help="Clinic id (default: every clinic).")] = None,
    since: Annotated[
        str | None, typer.Option(help="Start of the period, YYYY-MM-DD (default: each patient's last session).")
    ] = None,
    out: Annotated[Path | None, typer.Option(help="Also write each PDF into this folder.")] = None,
    workers: Annotated[int | None, typer.Option(help="Processes to use (default: every core).")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Summarise every active patient of a clinic on all cores; each summary is stored encrypted and audited."""
    from datetime import date

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from service.summaries.batch import generate_batch

    try:
        start = date.fromisoformat(since) if since else None
    except ValueError:
        err_console.print("[red]error:[/red] --since must be a date such as 2026-03-01")
        raise typer.Exit(code=2) from None
    columns = (TextColumn("summaries"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err_console, disable=as_json) as progress:
        task = progress.add_task("summaries", total=None)
        try:
            report = generate_batch(
                clinic_id=clinic,
                actor=CLI_ACTOR,
                since=start,
                out=out,
                workers=workers,
                on_start=lambda total: progress.update(task, total=total),
                on_progress=lambda done: progress.advance(task, done),
            )
        except DomainError as exc:
            raise _fail(exc) from exc
    data = {
        "made": report.made,
        "failed": report.failed,
        "summaries": [
            {"patient_id": item.patient_id, "summary_id": item.summary_id, "path": item.path}
            for item in report.items
            if item.error is None
        ],
    }
    _emit(as_json, data, f"{report.made} summaries made" + (f", {len(report.failed)} failed" if report.failed else ""))
    if report.failed:
        raise typer.Exit(code=1)


# --- tandem audit -------------------------------------------------------------------------------

audit_app = typer.Typer(help="The audit log: seal its chain, verify it and its checkpoints.", no_args_is_help=True)
app.add_typer(audit_app, name="audit")


def _audit_since(since: str | None) -> Any:
    from datetime import UTC, datetime

    if since is None:
        return None
    try:
        moment = datetime.fromisoformat(since)
    except ValueError:
        err_console.print("[red]error:[/red] --since must be a date or time such as 2026-03-01 or 2026-03-01T08:00")
        raise typer.Exit(code=2) from None
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


@audit_app.command("verify")
def audit_verify(
    since: Annotated[
        str | None, typer.Option(help="Check the rows sealed from this UTC date or time on (default: the whole chain).")
    ] = None,
    checkpoints: Annotated[
        Path | None,
        typer.Option(
            help="A checkpoint file, or a log file with the log sink's lines (default: TANDEM_AUDIT_CHECKPOINT_PATH)."
        ),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Recompute the HMAC chain and compare it with the signed checkpoints: exit 0 when intact, 1 otherwise."""
    from service import audit

    start = _audit_since(since)
    with session_scope() as session:
        check = audit.verify_chain(session, since=start, checkpoints=checkpoints)
    unsealed = check.unsealed
    data = {
        "ok": check.ok,
        "rows": check.rows,
        "head": check.head_seq,
        "checkpoints": check.checkpoints,
        "first_broken_id": check.first_broken_id,
        "missing": list(check.missing) if check.missing else None,
        "problems": check.problems,
        "unsealed": {"count": unsealed.count, "first_id": unsealed.first_id, "last_id": unsealed.last_id},
        "rows_by_key": check.rows_by_key,
    }
    if as_json:
        _emit(True, data, "")
    else:
        if check.ok:
            console.print(
                f"audit log intact: {check.rows} rows checked, chain at place {check.head_seq}, "
                f"{check.checkpoints} checkpoint(s) match",
                markup=False,
                soft_wrap=True,
            )
            for key_id, count in check.rows_by_key.items():
                console.print(f"  {count} row(s) sealed with audit key {key_id}", markup=False, soft_wrap=True)
        else:
            console.print("audit log BROKEN:", markup=False, soft_wrap=True)
            for problem in check.problems:
                console.print(f"  {problem}", markup=False, soft_wrap=True)
        if unsealed.count:
            console.print(
                f"{unsealed.count} row(s) not sealed yet (ids {unsealed.first_id} to {unsealed.last_id})",
                markup=False,
                soft_wrap=True,
            )
    if not check.ok:
        raise typer.Exit(code=1)


@audit_app.command("seal")
def audit_seal(as_json: JsonOpt = False) -> None:
    """Seal the rows written since the last run and publish a signed checkpoint (the scheduler does it every 5 s)."""
    from service import audit

    logging.getLogger("tandem.audit.checkpoint").setLevel(logging.INFO)  # the log sink, if configured
    with session_scope() as session:
        report = audit.seal(session)
        checkpoint = None if report.busy else audit.write_checkpoint(session)
    data = {
        "sealed": report.sealed,
        "head": report.head.seq,
        "busy": report.busy,
        "stale_key": report.stale_key,
        "checkpoint": checkpoint is not None,
    }
    if report.busy:
        human = "another sealer is running; nothing done"
    elif report.stale_key:
        human = (
            f"the chain's head was sealed with audit key {report.head.key_id}, which this configuration does not "
            "hold: set TANDEM_AUDIT_KEY to the newest key (older ones in TANDEM_AUDIT_RETIRED_KEYS); nothing sealed"
        )
    else:
        human = f"{report.sealed} row(s) sealed, chain at place {report.head.seq}"
    _emit(as_json, data, human)
    if report.stale_key:
        raise typer.Exit(code=1)


@audit_app.command("keys")
def audit_keys_command(as_json: JsonOpt = False) -> None:
    """The audit key ring by id (never the keys): the current key, which seals and signs, and the retired ones."""
    from service.audit.keys import audit_key_ring

    ring = audit_key_ring()
    data = {"current": ring.current.key_id, "retired": [k.key_id for k in ring.retired]}
    human = "\n".join(
        [f"current: {ring.current.key_id} (seals new rows, signs checkpoints)"]
        + [f"retired: {k.key_id} (verifies only)" for k in ring.retired]
    )
    _emit(as_json, data, human)


keys_app = typer.Typer(help="The encryption key ring (TANDEM_ENCRYPTION_KEYS).", no_args_is_help=True)
app.add_typer(keys_app, name="keys")


@keys_app.command("rewrap")
def keys_rewrap(
    as_json: JsonOpt = False,
    batch_size: Annotated[int, typer.Option(min=1, max=10_000, help="Rows per transaction.")] = 500,
) -> None:
    """After a key rotation: seal again under the ring's first key every value an older key sealed
    (patients' data keys, names, secrets). Run again, it changes nothing; exit 1 if values remain
    under a key the ring no longer holds."""
    from service.crypto import get_cipher
    from service.onboarding import key_rotation

    try:
        get_cipher()
    except ValueError as exc:  # a typo while editing the ring: say which entry, never a key
        err_console.print(f"[red]error:[/red] {exc}; nothing was changed")
        raise typer.Exit(code=2) from None
    with session_scope() as session:
        report = key_rotation.rewrap(session, actor=CLI_ACTOR, batch_size=batch_size)
    data = report.as_dict()
    lines = [
        f"{report.patient_keys} patient data key(s) re-wrapped under {report.key}",
        f"{report.total - report.patient_keys} other value(s) sealed again under {report.key}"
        + "".join(f"\n  {where}: {count}" for where, count in sorted(report.values.items())),
    ]
    if report.clinic_secrets:
        lines.append(f"  clinic.settings (sign-on secrets): {report.clinic_secrets}")
    if report.unreadable:
        lines.append(
            "values under a key the ring no longer holds (put that key back in TANDEM_ENCRYPTION_KEYS and run again): "
            + ", ".join(f"{where}: {count}" for where, count in sorted(report.unreadable.items()))
        )
    if report.remaining:
        lines.append(
            f"values still under a key other than {report.key} (written while this ran: check that "
            f"every server uses the new ring, then run again; no key may leave the ring yet): "
            + ", ".join(f"{where}: {count}" for where, count in sorted(report.remaining.items()))
        )
    else:
        lines.append(f"nothing is left under another key: keys other than {report.key} can leave the ring")
    _emit(as_json, data, "\n".join(lines))
    if report.unreadable or report.remaining:
        raise typer.Exit(code=1)


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    app()


if __name__ == "__main__":
    main()
