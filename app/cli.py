"""`caseaudit`: the command line for operators and scripts. Reads the same settings as the app."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from sqlmodel import Session

from app.audit_templates.service import TEMPLATES_DIR
from app.config import PROJECT_DIR, get_settings
from app.db import make_engine
from app.errors import DomainError, ValidationFailed

cli = typer.Typer(
    no_args_is_help=True, pretty_exceptions_enable=False, help="Case file audit: administration commands."
)
db_cli = typer.Typer(no_args_is_help=True, help="The database schema.")
teams_cli = typer.Typer(no_args_is_help=True, help="Teams and service areas.")
users_cli = typer.Typer(no_args_is_help=True, help="Users, roles and training records.")
trail_cli = typer.Typer(no_args_is_help=True, help="The audit trail.")
cases_cli = typer.Typer(no_args_is_help=True, help="The case register.")
cli.add_typer(db_cli, name="db")
cli.add_typer(teams_cli, name="teams")
cli.add_typer(users_cli, name="users")
cli.add_typer(trail_cli, name="audit-trail")
templates_cli = typer.Typer(no_args_is_help=True, help="Audit templates (YAML files in audit_templates/).")
cli.add_typer(cases_cli, name="cases")
cli.add_typer(templates_cli, name="templates")


def _fail(message: str) -> None:
    typer.secho(message, fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1)


@contextmanager
def _session() -> Iterator[Session]:
    """A session that commits on success; errors are printed as messages, not tracebacks."""
    import app.models  # noqa: F401  (every table: foreign keys between areas resolve, as in the web app)
    from app.accounts.passwords import passwords_configure
    from app.audit_trail.service import audit_trail_configure, commit_and_link

    settings = get_settings()
    passwords_configure(settings)
    audit_trail_configure(settings)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            try:
                yield session
                commit_and_link(session)
            except DomainError as exc:
                session.rollback()
                _fail(f"Error: {exc.message}")
            except ValidationError as exc:
                session.rollback()
                problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'value'}: {e['msg']}" for e in exc.errors())
                _fail(f"Error: {problems}")
    finally:
        engine.dispose()


def _today() -> date:
    return get_settings().today()


def alembic_upgrade(database_url: str | None = None) -> None:
    """Bring the schema to the newest migration."""
    from alembic import command
    from alembic.config import Config

    config = Config(str(PROJECT_DIR / "alembic.ini"))
    if database_url:
        config.attributes["database_url"] = database_url
    config.attributes["configure_logging"] = False
    command.upgrade(config, "head")


@db_cli.command("upgrade")
def db_upgrade() -> None:
    """Apply every migration not yet applied."""
    alembic_upgrade()
    typer.echo("Database is up to date.")


@templates_cli.command("check")
def templates_check(
    directory: Annotated[Path, typer.Argument(help="The template directory")] = TEMPLATES_DIR,
    targets: Annotated[
        Path | None,
        typer.Option("--targets", help="The report targets file (default: REPORT_TARGETS_FILE, or the shipped one)"),
    ] = None,
) -> None:
    """Check every template file (each problem is printed with its file and line), then the report targets: each
    must be measured from a question that counts for compliance in the newest version of its template."""
    from app.audit_templates.loader import readable_templates, run_check
    from app.reports.targets import check_targets

    checks = [run_check(directory)]
    definitions = readable_templates(directory)
    if definitions:  # with no template to measure from, the targets' check would only repeat that
        checks.append(check_targets(targets or get_settings().report_targets_file, definitions))
    status = 0
    for checked, lines in checks:
        status = max(status, checked)
        for line in lines:
            typer.echo(line, err=bool(checked))
    raise typer.Exit(code=status)


@templates_cli.command("publish")
def templates_publish_command(
    directory: Annotated[Path, typer.Argument(help="The template directory")] = TEMPLATES_DIR,
) -> None:
    """Load new template versions into the database. A published version whose file changed is refused."""
    from app.audit_templates.service import PublishedTemplateChanged, templates_publish

    with _session() as session:
        try:
            report = templates_publish(session, directory=directory)
        except (PublishedTemplateChanged, ValidationFailed) as exc:
            session.rollback()
            lines = exc.messages if isinstance(exc, PublishedTemplateChanged) else exc.errors["templates"].splitlines()
            _fail("\n".join(["Nothing was published:", *lines]))
    added = ", ".join(report.added) or "none"
    typer.echo(f"Templates published: {added} new; {len(report.unchanged)} already published and unchanged.")


@teams_cli.command("create")
def teams_create(
    name: Annotated[str, typer.Option("--name", help="Team name")],
    service_area: Annotated[str, typer.Option("--service-area", help="Service area (created if new)")],
) -> None:
    """Create a team in a service area."""
    from app.accounts import service
    from app.accounts.schemas import TeamCreate

    with _session() as session:
        team = service.team_create(session, data=TeamCreate(name=name, service_area=service_area), actor=None)
        typer.echo(f"Created team {team.name} (id {team.id}) in {team.service_area.name}.")


@users_cli.command("create")
def users_create(
    username: Annotated[str, typer.Option("--username")],
    password: Annotated[str, typer.Option("--password")],
    role: Annotated[
        list[str],
        typer.Option(
            "--role", help="qa_lead, auditor, moderator, head_of_service, practitioner or viewer; repeat for several"
        ),
    ],
    team: Annotated[str | None, typer.Option("--team", help="Team name")] = None,
    full_name: Annotated[str | None, typer.Option("--full-name")] = None,
    email: Annotated[str | None, typer.Option("--email")] = None,
    service_area: Annotated[str | None, typer.Option("--service-area", help="Area a head of service heads")] = None,
) -> None:
    """Create a user non-interactively (for scripts)."""
    from app.accounts import selectors, service
    from app.accounts.schemas import UserCreate

    with _session() as session:
        team_id = None
        if team:
            found = selectors.team_by_name(session, name=team)
            if found is None:
                _fail(f"Error: there is no team called {team}")
            team_id = found.id
        data = UserCreate(
            username=username,
            password=password,
            roles=role,
            team_id=team_id,
            full_name=full_name or username,
            email=email,
            service_area=service_area,
        )
        user = service.user_create(session, data=data, actor=None)
        typer.echo(f"Created user {user.username} (id {user.id}) with roles {', '.join(sorted(user.roles))}.")


@users_cli.command("train")
def users_train(
    username: Annotated[str, typer.Option("--username")],
    kind: Annotated[str, typer.Option("--kind", help="auditor or moderator")],
    completed_on: Annotated[str, typer.Option("--completed-on", help="YYYY-MM-DD")],
    expires_on: Annotated[str | None, typer.Option("--expires-on", help="YYYY-MM-DD")] = None,
) -> None:
    """Record that a user completed auditor or moderator training."""
    from app.accounts import selectors, service
    from app.accounts.schemas import TrainingCreate, normalise_username

    with _session() as session:
        user = selectors.user_by_username(session, username=normalise_username(username))
        if user is None:
            _fail(f"Error: there is no user called {username}")
        data = TrainingCreate(kind=kind, completed_on=completed_on, expires_on=expires_on)
        service.training_record_add(session, user=user, data=data, actor=None)
        typer.echo(f"Recorded {kind} training for {user.username}.")


MAX_PRINTED_PROBLEMS = 50


def _problem_line(problem: dict) -> str:
    """One problem as "sheet row column value: message", leaving out the parts it has not got."""
    where = [str(problem[key]) for key in ("sheet", "row", "column") if problem.get(key) not in (None, "")]
    if problem.get("value") not in (None, ""):
        where.append(repr(str(problem["value"])))
    return f"{' '.join(where)}: {problem['message']}" if where else problem["message"]


def _print_problems(title: str, problems: list[dict], *, err: bool) -> None:
    if not problems:
        return
    typer.echo(f"{title}:", err=err)
    for problem in problems[:MAX_PRINTED_PROBLEMS]:
        typer.echo(f"  {_problem_line(problem)}", err=err)
    if len(problems) > MAX_PRINTED_PROBLEMS:
        typer.echo(f"  ... and {len(problems) - MAX_PRINTED_PROBLEMS} more", err=err)


def _closing_line(case_import) -> str:
    """What --close-absent did: which kinds the extract covers, and which cases of them it closed (or why none)."""
    from app.cases.imports.rules import covers_text

    if case_import.rejected:
        return f"No case closed: {case_import.rejected} row(s) were rejected, and their children are in the extract."
    kinds = covers_text(case_import.covers)
    line = f"Closed {case_import.closed} open case(s) of the kinds this extract covers ({kinds}) missing from it"
    if not case_import.closed:
        return f"{line}."
    listed = [case["child_id"] for case in case_import.closing]
    more = case_import.closed - len(listed)
    return f"{line}: {', '.join(listed)}" + (f" ... and {more} more." if more else ".")


@cases_cli.command("import")
def cases_import(
    files: Annotated[
        list[Path],
        typer.Argument(
            exists=True, dir_okay=False, readable=True, help="The extract file(s); for SSDA903 give every CSV"
        ),
    ],
    format: Annotated[str, typer.Option("--format", help="annex_a, ssda903 or csv")],
    mode: Annotated[
        str, typer.Option("--mode", help="all_or_nothing (any error: nothing imported) or skip_invalid")
    ] = "all_or_nothing",
    close_absent: Annotated[
        bool,
        typer.Option(
            "--close-absent/--no-close-absent",
            help="Close open cases of the kinds this extract covers that are missing from it (off unless given)",
        ),
    ] = False,
) -> None:
    """Import an extract into the case register (as the web upload does, without the preview)."""
    from app.cases import service
    from app.cases.readers import UploadedFile

    uploads = [UploadedFile(name=path.name, content=path.read_bytes()) for path in files]
    with _session() as session:
        case_import = service.import_run(
            session, files=uploads, format=format, mode=mode, full=close_absent, actor=None, today=_today()
        )
        errors = list(case_import.errors or [])
        if case_import.status == "rejected":
            session.rollback()  # nothing written, not even the import record
            _print_problems("Errors", errors, err=True)
            _fail(
                f"Error: this extract has {case_import.rejected or len(errors)} problem(s), so nothing was imported. "
                "Correct the file, or use --mode skip_invalid to import the valid rows."
            )
        typer.echo(
            f"Import {case_import.id}: {case_import.rows_read} rows read, {case_import.created} created, "
            f"{case_import.updated} updated, {case_import.unchanged} unchanged, {case_import.closed} closed, "
            f"{case_import.rejected} rejected."
        )
        if close_absent:
            typer.echo(_closing_line(case_import))
        if case_import.new_teams:
            typer.echo(f"New teams (in the {service.UNASSIGNED_AREA} service area): {', '.join(case_import.new_teams)}")
        _print_problems("Rows left out", errors, err=False)
        _print_problems("Warnings", list(case_import.warnings or []), err=False)


@cli.command("demo-data")
def demo_data(
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Only load into a database with no users")] = False,
    cases: Annotated[
        int, typer.Option("--cases", min=0, max=10_000_000, help="How many synthetic cases to put in the case register")
    ] = 300,
) -> None:
    """Load the synthetic demo department and case register, then print the demo logins."""
    from app.accounts import selectors
    from app.demo.audits import demo_audits_load
    from app.demo.cases import demo_cases_load
    from app.demo.completed import demo_completed_audits
    from app.demo.generator import DEMO_PASSWORD, demo_data_load, demo_logins
    from app.demo.recommendations import demo_recommendations_load
    from app.working_days import calendar_for

    with _session() as session:
        has_users = selectors.users_count(session) > 0
        if has_users and if_empty:
            typer.echo("The database already has data; demo data not loaded.")
        elif has_users:
            _fail("Error: the database already has users; demo data is only loaded into an empty database.")
        else:
            demo_data_load(session, today=_today())
            loaded = demo_cases_load(session, n=cases, today=_today())
            audits = demo_audits_load(
                session, today=_today(), calendar=calendar_for(get_settings().working_days_jurisdiction)
            )
            recommendations = demo_recommendations_load(session, today=_today())
            history = demo_completed_audits(session, today=_today())  # last: the loaders above skip non-empty tables
            typer.echo("Loaded demo data (synthetic: no real people or children).")
            typer.echo(
                f"Loaded {loaded:,} demo cases and {audits} audits for the demo auditor"
                + ("." if audits else " (publish the templates first to have audits).")
                + f" Loaded {recommendations} recommendations."
            )
            if history.audits:
                typer.echo(
                    f"Loaded a year of {history.audits} completed audits in {history.cycles} cycles for the "
                    f"reports ({history.moderated} moderated, {history.recommendations} recommendations, "
                    f"{history.closed_cases} closed cases they audited)."
                )
        demo_present = selectors.user_by_username(session, username="qa.lead") is not None
    if demo_present:
        typer.echo(f"\nDemo logins (password for all: {DEMO_PASSWORD}):")
        for demo in demo_logins():
            roles = ", ".join(role.label for role in demo.roles)
            typer.echo(f"  {demo.username:<14} {roles}")
        typer.echo("")


@cli.command("serve")
def serve(
    host: Annotated[str, typer.Option("--host")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port")] = 8000,
    workers: Annotated[int, typer.Option("--workers")] = 1,
    proxy_headers: Annotated[
        bool, typer.Option("--proxy-headers/--no-proxy-headers", help="Trust X-Forwarded-* from FORWARDED_ALLOW_IPS")
    ] = False,
) -> None:
    """Serve the web app and API."""
    import uvicorn

    from app.log_config import configure_logging

    configure_logging()
    typer.echo(f"Serving on http://{host}:{port}  (Ctrl+C to stop)")
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        proxy_headers=proxy_headers,
        access_log=False,
        log_config=None,
    )


@trail_cli.command("verify")
def audit_trail_verify() -> None:
    """Check the audit trail's hash chain, its seals and the signed checkpoints, and list the redactions of events'
    details under retention rules; exits 1 if anything was altered, removed or re-sealed."""
    from app.audit_trail.service import audit_chain_link, audit_chain_verify, redactions_by_day

    settings = get_settings()
    with _session() as session:
        audit_chain_link(session)  # events committed but not linked yet (a process stopped before linking), first
        check = audit_chain_verify(session, checkpoint_dir=settings.audit_trail_checkpoint_dir)
    if check.ok:
        extra = (
            f", {check.checkpoints:,} checkpoint{'s' if check.checkpoints != 1 else ''} matched"
            if check.checkpoints
            else "; no signed checkpoints yet (run `caseaudit audit-trail checkpoint` daily)"
        )
        if check.unsealed:
            extra += f", {check.unsealed:,} from before seals"
        if check.legacy:
            extra += f", {check.legacy:,} from before redaction (their details cannot be removed)"
        if check.redacted or check.redactions:
            days = ", ".join(
                f"{day.isoformat()} under rule {rule} ({count:,})"
                for day, rule, count in redactions_by_day(check.redactions, settings.tz)
            )
            extra += f"; {check.redacted:,} events' details redacted: {days}"
        typer.echo(f"Audit trail intact: {check.checked:,} events checked{extra}.")
    else:
        _fail(
            f"Audit trail BROKEN at event {check.first_bad_seq}: {check.problem}. {check.checked:,} events before it are intact."
        )


@trail_cli.command("checkpoint")
def audit_trail_checkpoint() -> None:
    """Append a signed checkpoint of the chain (its newest event) to AUDIT_TRAIL_CHECKPOINT_DIR; run it daily."""
    from app.audit_trail.service import audit_checkpoint_write

    directory = get_settings().audit_trail_checkpoint_dir
    with _session() as session:
        point = audit_checkpoint_write(session, directory=directory)
    typer.echo(f"Checkpoint at event {point.seq} written to {directory}.")


@cli.command("reminders")
def reminders_command(
    day: Annotated[
        str | None, typer.Option("--date", help="The local day to remind for, YYYY-MM-DD (default: today in TIMEZONE)")
    ] = None,
) -> None:
    """Send the day's recommendation reminders and add the in-app notifications; safe to run again the same day."""
    from app.log_config import configure_logging
    from app.recommendations.reminders import reminders_run

    try:
        today = date.fromisoformat(day) if day else None
    except ValueError:
        _fail(f"Error: --date must be a date as YYYY-MM-DD, not {day!r}")
    configure_logging()  # without SMTP_HOST the digests go to the log
    with _session() as session:
        report = reminders_run(session, settings=get_settings(), today=today)
    typer.echo(report.summary())
    if report.failed:
        _fail("\n".join(["Some reminders were not sent; run the command again today to retry them:", *report.failures]))


@cli.command("worker")
def worker_command(
    concurrency: Annotated[int, typer.Option(min=1, max=32, help="Jobs this worker runs at once")] = 1,
    name: Annotated[str | None, typer.Option(help="A name for this worker in the logs and the queue")] = None,
) -> None:
    """Run background jobs (imports, emails, reminders, board packs, periodic work) from the PostgreSQL queue until
    stopped; run one or more, on any machines. With SQLite the app process runs its jobs itself."""
    from app.jobs.worker import worker_run
    from app.log_config import configure_logging

    settings = get_settings()
    if make_engine(settings.database_url).dialect.name != "postgresql":
        _fail(
            "caseaudit worker runs the PostgreSQL job queue. With SQLite (DATABASE_URL is SQLite now), the app "
            "process runs its jobs itself: start the app with `caseaudit serve`."
        )
    import app.models  # noqa: F401  (every table, as in the web app)
    from app.accounts.passwords import passwords_configure
    from app.audit_trail.service import audit_trail_configure

    configure_logging()
    passwords_configure(settings)
    audit_trail_configure(settings)
    worker_run(settings, concurrency=concurrency, name=name)


escalations_cli = typer.Typer(no_args_is_help=True, help="Safeguarding escalations.")
outbox_cli = typer.Typer(no_args_is_help=True, help="The email outbox.")
cli.add_typer(escalations_cli, name="escalations")
cli.add_typer(outbox_cli, name="outbox")


def _run_now(name: str) -> Any:
    """Run job `name` of the job queue's registry here and now, as a worker would; returns its report."""
    import app.models  # noqa: F401  (every table, as in the web app)
    from app.audit_trail.service import audit_chain_link, audit_trail_configure
    from app.jobs.registry import JOBS
    from app.log_config import configure_logging

    settings = get_settings()
    configure_logging()
    audit_trail_configure(settings)
    engine = make_engine(settings.database_url)
    try:
        report = JOBS[name].function()(lambda: Session(engine, expire_on_commit=False), settings)
        with Session(engine) as session:  # the job's audit-trail events, into the chain
            audit_chain_link(session)
            session.commit()
        return report
    finally:
        engine.dispose()


@escalations_cli.command("chase")
def escalations_chase_command() -> None:
    """Chase the safeguarding escalations nobody has acknowledged, one step of the ladder each time one falls due
    (the recipient, the head of service, the QA leads); safe to run again: each step is sent once."""
    typer.echo(_run_now("escalations_chase").summary())


@outbox_cli.command("deliver")
def outbox_deliver_command() -> None:
    """Send the emails in the outbox that are due; safe to run again: none is sent twice. Fails (exit 1) when a
    send failed; the outbox tries it again later by itself."""
    report = _run_now("outbox_deliver")
    typer.echo(report.summary())
    if report.failed or report.gave_up:
        _fail("\n".join(["Some emails were not sent:", *report.failures]))


retention_cli = typer.Typer(no_args_is_help=True, help="The retention schedule and legal holds.")
cli.add_typer(retention_cli, name="retention")


def _schedule() -> Any:
    from app.retention.schedule import ScheduleError, schedule_load

    try:
        return schedule_load(get_settings().retention_schedule)
    except ScheduleError as exc:
        _fail("The retention schedule cannot be used:\n" + "\n".join(f"  {p}" for p in [exc.source, *exc.problems]))


@retention_cli.command("check")
def retention_check() -> None:
    """Validate the retention schedule (RETENTION_SCHEDULE, or the shipped default) and print it."""
    schedule = _schedule()
    typer.echo(f"Retention schedule {schedule.source}: valid")
    for rule in schedule.rules.values():
        typer.echo(f"  {rule.kind}: keep {rule.keep} after {rule.after}, then {rule.then}")


@retention_cli.command("run")
def retention_run_command(
    dry_run: bool = typer.Option(False, "--dry-run", help="List what is due and change nothing."),
) -> None:
    """Apply the retention schedule now: list what each rule finds due, then delete, anonymise or redact it in
    batches (each all-or-nothing), keeping whatever a legal hold covers. With --dry-run, nothing changes."""
    from app.retention.run import DONE_WORDS, RuleOutcome, retention_run

    settings = get_settings()
    schedule = _schedule()
    verb = "would be" if dry_run else "were"

    def show(outcome: RuleOutcome) -> None:
        examples = (
            f" (ids {', '.join(map(str, outcome.examples))}{', ...' if outcome.due > len(outcome.examples) else ''})"
        )
        typer.echo(
            f"  {outcome.kind}: {outcome.due} due (on or before {outcome.cutoff.isoformat()}), {outcome.held} kept by a legal"
            f" hold; {outcome.due if dry_run else outcome.done} {verb} {DONE_WORDS[outcome.action]}"
            + (examples if outcome.due else "")
        )

    typer.echo(("Dry run: nothing will change. " if dry_run else "") + f"Retention schedule {schedule.source}")
    with _session() as session:
        outcome = retention_run(
            session,
            schedule,
            today=settings.today(),
            tz=settings.tz,
            dry_run=dry_run,
            actor_label="caseaudit retention run",
            progress=show,
        )
    total = sum(o.due if dry_run else o.done for o in outcome.rules)
    held = sum(o.held for o in outcome.rules)
    done = "Would be removed, anonymised or redacted" if dry_run else "Removed, anonymised or redacted"
    typer.echo(f"{done}: {total}; kept by legal holds: {held}.")
    if outcome.problem:
        _fail(f"The run stopped: {outcome.problem}")


def main() -> None:
    cli()
