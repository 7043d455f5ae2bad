"""The reports page's figures for a year of completed audits, beside hand-written SQL for the same aggregates.

For each database: build the schema with the migrations, load BENCH_REPORT_AUDITS completed audits (default
50,000: three in five on the full case file audit, about 60 answers each, the rest dip samples of about 10, so
about 2,000,000 answer rows) on as many cases, over the last twelve months, in the demo's 8 teams, with final
grades, a moderation round on one in five, a recommendation from half the audits graded below Good, one audit in
ten a follow-up of an earlier audit's case, and each audit's compliance code as completion writes it; then time

- the app: `build_report` for the QA lead's default filter (the last 12 months, every area): what the reports
  page computes (grades by area and team, moderation changes, compliance per question and section with the
  frame, the monthly trend, the targets, moderation agreement, recommendations raised, closed, outstanding and
  overdue with the median days to close and top themes, and the impact: each selected audit against its case's
  previous audit), a new session per run;
- the baseline: the same aggregates as plain SQL through the driver, written two ways, each timed:
  * "answers": the grouped counts straight from the answer rows (how one would write it without the codes:
    grades by area, team and grade; moderation moves from each audit's latest accepted round; answers per
    template, question, value and month; the frame; agreement pairs; the recommendation counts and days to
    close; each follow-up against its previous audit), the query a council analyst would write;
  * "codes": the same, but the compliance counts from the audits' compliance codes with one
    SUM(CASE WHEN substr(...)) per question and answer, grouped by month and template version;

each the median of BENCH_REPORT_RUNS runs (default 5) after a warm-up, taken in turns so whatever else the machine
is doing weighs on both alike. The app and both baselines must give the same figures. The ratio is taken
against the faster baseline.

Aim (issue 8): under 500 ms and within 2x of the hand-written SQL, at 50,000 audits and about 2,000,000 answers.
"""

from __future__ import annotations

import random
import statistics
from collections import Counter
from datetime import UTC, date, datetime, timedelta
from typing import Any

from common import (
    Database,
    bench_settings,
    create_demo_teams,
    env_int,
    prepare_schema,
    run_on_each_database,
    say,
    table,
    timed,
)
from sqlalchemy import select
from sqlmodel import Session

from app.accounts.models import User
from app.accounts.roles import Role
from app.accounts.schemas import UserCreate
from app.accounts.service import user_create
from app.audit_templates.conditions import visible_keys
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import Grade, QuestionType, TemplateDefinition
from app.audit_templates.scoring import compliance_code, compliance_questions
from app.audit_templates.service import template_definition, templates_publish
from app.audits.models import Audit, AuditAnswer
from app.cases.models import Case
from app.db import bulk_insert, make_engine
from app.moderation.models import Moderation
from app.recommendations.models import Recommendation
from app.recommendations.rules import local_day_start
from app.reports.figures import months_between
from app.reports.filters import default_period, report_filter_from_query
from app.reports.report import Report, build_report
from app.sampling.models import Cycle

AUDITS = env_int("BENCH_REPORT_AUDITS", 50_000)
RUNS = env_int("BENCH_REPORT_RUNS", 5)
CHUNK = 20_000
AIM_MS, AIM_RATIO = 500.0, 2.0
CFA, DIP = "case_file_audit", "dip_sample"
CASE_TYPES = ("cin", "cp", "cla")
GRADES = [g.value for g in Grade]
NA_SHARE = 0.1
FOLLOW_UP_EVERY, FOLLOW_UP_GAP = 10, 997  # one audit in ten re-audits the case of the audit 997 before it


# --- Loading ---------------------------------------------------------------------------------------


def _answers(rng: random.Random, definition: TemplateDefinition, case_type: str, yes_rate: float) -> dict[str, Any]:
    """Answers to the yes/no/N/A and grade questions the form would show for this case (hidden ones dropped, as
    the form drops them)."""
    answers: dict[str, Any] = {}
    for question in definition.questions:
        if question.key == "case_type":
            answers[question.key] = case_type
        elif question.type == QuestionType.YES_NO_NA:
            if question.safeguarding:
                answers[question.key] = "no"
            else:
                draw = rng.random()
                answers[question.key] = (
                    "na" if draw < NA_SHARE else "yes" if draw < NA_SHARE + (1 - NA_SHARE) * yes_rate else "no"
                )
        elif question.type == QuestionType.GRADE:
            answers[question.key] = rng.choices(GRADES, weights=(1, 5, 3, 1))[0]
    while True:  # a condition may hang on an answer that is itself hidden
        shown = visible_keys(definition, answers)
        kept = {k: v for k, v in answers.items() if k in shown}
        if kept == answers:
            return answers
        answers = kept


def _load(database: Database, today: date, zone: str) -> None:
    engine = make_engine(bench_settings(database.url).database_url)
    try:
        with Session(engine) as session:
            teams = list(create_demo_teams(session).values())
            templates_publish(session)
            now = datetime.now(UTC)
            bulk_insert(
                session.connection(),
                User.__table__,
                [
                    {
                        "username": f"auditor.{n}",
                        "full_name": f"Auditor {n}",
                        "password_hash": "-",
                        "active": True,
                        "version": 1,
                        "created_at": now,
                    }
                    for n in range(20)
                ],
            )
            auditors = list(session.execute(select(User.id).where(User.username.like("auditor.%"))).scalars())
            versions = {v.key: v for v in session.execute(select(TemplateVersion)).scalars()}
            definitions = {k: template_definition(v) for k, v in versions.items()}
            cycles = [
                Cycle(
                    title=f"Cycle {n}",
                    kind="deep_dive" if n % 2 else "dip_sample",
                    template_key=CFA if n % 2 else DIP,
                    template_version=1,
                    due_date=today,
                    moderation_rate=0.2,
                )
                for n in range(4)
            ]
            session.add_all(cycles)
            session.flush()
            session.commit()
            cycle_ids = [c.id for c in cycles]
            rng = random.Random(2026)
            first, last = default_period(today)
            start = local_day_start(first, zone)
            span = (local_day_start(last, zone) - start).total_seconds()
            team_rate = {team: 0.6 + 0.3 * rng.random() for team, _ in teams}

            def load() -> None:
                connection = session.connection()
                cases, audits, answers, moderations, recommendations = [], [], [], [], []
                case_of: dict[int, tuple[int, int, int, str]] = {}  # audit -> its case (id, team, area, type)
                for n in range(1, AUDITS + 1):
                    if n > FOLLOW_UP_GAP and n % FOLLOW_UP_EVERY == 0:  # a follow-up of an earlier audit's case
                        case_id, team_id, area_id, case_type = case_of[n - FOLLOW_UP_GAP]
                    else:
                        team_id, area_id = teams[n % len(teams)]
                        case_id, case_type = n, CASE_TYPES[n % 3]
                        cases.append(
                            {
                                "id": n,
                                "child_id": f"BENCH{n:07d}",
                                "source": "bench",
                                "source_lists": [],
                                "case_type": case_type,
                                "service_area_id": area_id,
                                "team_id": team_id,
                                "status": "open",
                                "involvements": {},
                                "facts_hash": "-",
                                "created_at": now,
                                "updated_at": now,
                                "version": 1,
                            }
                        )
                    case_of[n] = (case_id, team_id, area_id, case_type)
                    key = CFA if rng.random() < 0.6 else DIP
                    definition = definitions[key]
                    given = _answers(rng, definition, case_type, team_rate[team_id])
                    completed = start + timedelta(seconds=rng.random() * span)
                    grade = rng.choices(GRADES, weights=(1, 5, 3, 1))[0] if key == CFA else None
                    audits.append(
                        {
                            "id": n,
                            "case_id": case_id,
                            "cycle_id": cycle_ids[n % 4],
                            "sample_id": None,
                            "template_version_id": versions[key].id,
                            "template_key": key,
                            "template_version": 1,
                            "auditor_id": auditors[n % len(auditors)],
                            "status": "completed",
                            "created_at": completed - timedelta(days=20),
                            "updated_at": completed,
                            "submitted_at": completed - timedelta(days=2),
                            "completed_at": completed,
                            "final_grade": grade,
                            "compliance_answers": compliance_code(definition, given),
                            "version": 5,
                        }
                    )
                    answers += [
                        {"audit_id": n, "question_key": k, "value": v, "updated_at": completed}
                        for k, v in given.items()
                    ]
                    if grade is not None and rng.random() < 0.2:
                        moderations.append(
                            {
                                "audit_id": n,
                                "round": 1,
                                "reason": "random",
                                "status": "decided",
                                "blind": False,
                                "section_grades": {},
                                "auditor_section_grades": {},
                                "agreement": {},
                                "overall_grade": grade,
                                "decision": "accept",
                                "rationale": "",
                                "learning": "",
                                "feedback": "",
                                "auditor_overall_grade": rng.choice(GRADES),
                                "created_at": completed,
                                "decided_at": completed,
                                "version": 2,
                            }
                        )
                    if grade in (GRADES[2], GRADES[3]) and rng.random() < 0.5:
                        raised = completed + timedelta(days=1)
                        took = rng.randint(5, 120)
                        closed = raised + timedelta(days=took) if raised + timedelta(days=took) < now else None
                        recommendations.append(
                            {
                                "text": f"Recommendation from audit {n}",
                                "audit_id": n,
                                "case_id": case_id,
                                "cycle_id": cycle_ids[n % 4],
                                "owner_id": auditors[(n + 1) % len(auditors)],
                                "team_id": team_id,
                                "service_area_id": area_id,
                                "priority": "normal",
                                "due_date": (raised + timedelta(days=56)).date(),
                                "status": "closed" if closed else "open",
                                "raised_by_id": auditors[n % len(auditors)],
                                "raised_at": raised,
                                "evidence": "",
                                "completed_at": closed,
                                "closed_at": closed,
                                "days_to_close": took if closed else None,
                                "version": 1,
                            }
                        )
                    if len(audits) == CHUNK:
                        _write(connection, cases, audits, answers, moderations, recommendations)
                        cases, audits, answers, moderations, recommendations = [], [], [], [], []
                _write(connection, cases, audits, answers, moderations, recommendations)
                session.commit()

            seconds, _ = timed(load)
        with engine.connect() as connection:
            rows = connection.execute(select(AuditAnswer.id).order_by(AuditAnswer.id.desc()).limit(1)).scalar()
        say(f"  loaded {AUDITS:,} completed audits and {rows:,} answers in {seconds:.1f} s")
        if database.name == "postgresql":
            with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
                for name in ("child_case", "audit", "recommendation"):
                    connection.exec_driver_sql(f"SELECT setval('{name}_id_seq', (SELECT max(id) FROM {name}))")
                for name in ("child_case", "audit", "audit_answer", "audit_moderation", "recommendation"):
                    connection.exec_driver_sql(f"VACUUM ANALYZE {name}")
        else:
            with engine.connect() as connection:
                connection.exec_driver_sql("ANALYZE")
    finally:
        engine.dispose()


def _write(
    connection: Any,
    cases: list[dict[str, Any]],
    audits: list[dict[str, Any]],
    answers: list[dict[str, Any]],
    moderations: list[dict[str, Any]],
    recommendations: list[dict[str, Any]],
) -> None:
    bulk_insert(connection, Case.__table__, cases)
    bulk_insert(connection, Audit.__table__, audits)
    bulk_insert(connection, AuditAnswer.__table__, answers)
    bulk_insert(connection, Moderation.__table__, moderations)
    bulk_insert(connection, Recommendation.__table__, recommendations)


# --- The hand-written SQL ----------------------------------------------------------------------------


def _moment(database: Database, dt: datetime) -> str:
    utc = dt.astimezone(UTC)
    return f"'{utc:%Y-%m-%d %H:%M:%S.%f}'" if database.name == "sqlite" else f"'{utc.isoformat()}'"


# The case's previous completed audit (for the follow-ups query).
_PREVIOUS_AUDIT_JOIN = (
    "JOIN audit p ON p.id = (SELECT q.id FROM audit q WHERE q.case_id = a.case_id AND q.status = 'completed'"
    " AND q.completed_at < a.completed_at ORDER BY q.completed_at DESC, q.id DESC LIMIT 1)"
)


def _baseline_sql(
    database: Database, today: date, zone: str, definitions: dict[int, TemplateDefinition]
) -> dict[str, dict[str, str]]:
    first, last = default_period(today)
    starts = [local_day_start(m.first, zone) for m in months_between(first, last)]
    period_start = _moment(database, starts[0])
    period_end = _moment(database, local_day_start(last + timedelta(days=1), zone))
    month = (
        "CASE "
        + " ".join(
            f"WHEN a.completed_at >= {_moment(database, s)} THEN {i}" for i, s in reversed(list(enumerate(starts)))
        )
        + " ELSE -1 END"
    )
    selection = (
        f"FROM audit a JOIN child_case c ON c.id = a.case_id WHERE a.status = 'completed'"
        f" AND a.completed_at IS NOT NULL AND a.completed_at >= {_moment(database, starts[0])}"
        f" AND a.completed_at < {_moment(database, local_day_start(last + timedelta(days=1), zone))}"
    )
    accepted = selection.replace(
        "WHERE",
        "JOIN audit_moderation m ON m.audit_id = a.id AND m.status = 'decided' AND "
        "m.decision = 'accept' AND NOT EXISTS (SELECT 1 FROM audit_moderation l WHERE l.audit_id ="
        " m.audit_id AND l.round > m.round) WHERE",
        1,
    )
    common = {
        "grades": f"SELECT c.service_area_id, c.team_id, a.final_grade, count(*) {selection}"
        " GROUP BY c.service_area_id, c.team_id, a.final_grade",
        "moves": f"SELECT m.auditor_overall_grade, a.final_grade, count(*) {accepted} GROUP BY 1, 2",
        "frame": f"SELECT count(*), count(a.sample_id), min(a.sample_id), max(a.sample_id) {selection}",
        "month grades": f"SELECT {month} AS month, a.final_grade, count(*) {selection} GROUP BY 1, 2",
        "agreement": f"SELECT m.auditor_overall_grade, m.overall_grade, count(*) FROM audit_moderation m"
        f" WHERE m.status IN ('graded', 'decided') AND m.audit_id IN (SELECT a.id {selection})"
        " GROUP BY 1, 2",
        "recommendations": f"SELECT sum(CASE WHEN raised_at >= {period_start} AND raised_at < {period_end} THEN 1"
        f" ELSE 0 END), sum(CASE WHEN status = 'closed' AND closed_at >= {period_start} AND"
        f" closed_at < {period_end} THEN 1 ELSE 0 END), sum(CASE WHEN status <> 'closed' THEN 1"
        f" ELSE 0 END), sum(CASE WHEN status <> 'closed' AND due_date < '{today.isoformat()}'"
        " THEN 1 ELSE 0 END) FROM recommendation",
        "days to close": f"SELECT days_to_close, count(*) FROM recommendation WHERE status = 'closed' AND"
        f" closed_at >= {period_start} AND closed_at < {period_end} GROUP BY 1",
        # Each selected audit against its case's audit completed just before it: grades, and the yes and no
        # answers of both counted from the codes in SQL.
        "follow-ups": f"SELECT p.final_grade, a.final_grade, count(*),"
        f" sum({_count_of('p', 'y')}), sum({_count_of('p', 'n')}),"
        f" sum({_count_of('a', 'y')}), sum({_count_of('a', 'n')})"
        f" {selection.replace('WHERE', _PREVIOUS_AUDIT_JOIN + ' WHERE', 1)}"
        " GROUP BY 1, 2",
    }
    per_template = " OR ".join(
        f"(a.template_key = '{d.key}' AND x.question_key IN ({', '.join(repr(q.key) for q in compliance_questions(d))}))"
        for d in definitions.values()
    )
    answers = {
        "answers by month": f"SELECT {month} AS month, a.template_key, x.question_key, x.value, count(*)"
        f" {selection.replace('WHERE', 'JOIN audit_answer x ON x.audit_id = a.id WHERE')}"
        f" AND ({per_template}) GROUP BY 1, 2, 3, 4"
    }
    sums = []
    width = max(len(compliance_questions(d)) for d in definitions.values())
    for i in range(1, width + 1):
        for code in "yna":
            sums.append(f"SUM(CASE WHEN substr(a.compliance_answers, {i}, 1) = '{code}' THEN 1 ELSE 0 END)")
    codes = {
        "codes by month": f"SELECT {month} AS month, a.template_version_id, {', '.join(sums)} {selection} GROUP BY 1, 2"
    }
    return {"answers": common | answers, "codes": common | codes}


def _count_of(alias: str, code: str) -> str:
    """SQL counting one character in an audit's compliance code."""
    column = f"{alias}.compliance_answers"
    return f"(length({column}) - length(replace({column}, '{code}', '')))"


def _by_question_from_answers(rows: list[tuple[Any, ...]]) -> Counter[tuple[Any, ...]]:
    found: Counter[tuple[Any, ...]] = Counter()
    for _month, template, question, value, n in rows:
        value = str(value).strip('"')  # SQLite gives the JSON text, PostgreSQL the decoded string
        found[(template, question, value)] += n
    return found


def _by_question_from_codes(
    rows: list[tuple[Any, ...]], definitions: dict[int, TemplateDefinition]
) -> Counter[tuple[Any, ...]]:
    found: Counter[tuple[Any, ...]] = Counter()
    names = {"y": "yes", "n": "no", "a": "na"}
    for _month, version_id, *sums in rows:
        definition = definitions[version_id]
        for i, question in enumerate(compliance_questions(definition)):
            for j, code in enumerate("yna"):
                if sums[3 * i + j]:
                    found[(definition.key, question.key, names[code])] += sums[3 * i + j]
    return found


def _check(report: Report, results: dict[str, list[tuple[Any, ...]]], by_question: Counter[tuple[Any, ...]]) -> None:
    """The baseline and the app give the same figures (else the comparison means nothing)."""
    assert report.audits == results["frame"][0][0]
    assert report.grades.overall.total == sum(r[3] for r in results["grades"])
    assert {g: report.grades.overall.counts[g] for g in GRADES} == {
        g: sum(r[3] for r in results["grades"] if r[2] == g) for g in GRADES
    }
    assert report.moderation.moderated == sum(r[2] for r in results["moves"])
    app = {
        (q.template_key, q.question_key): (q.counts.yes, q.counts.no, q.counts.na)
        for q in report.questions
        if q.counts.yes or q.counts.no or q.counts.na
    }
    sql = {
        (t, q): (by_question[(t, q, "yes")], by_question[(t, q, "no")], by_question[(t, q, "na")])
        for t, q, _ in by_question
    }
    assert app == sql, "compliance counts differ"
    assert report.agreement.n == sum(
        n for mine, theirs, n in results["agreement"] if mine in GRADES and theirs in GRADES
    )
    raised, closed, outstanding, overdue = results["recommendations"][0]
    recs = report.recommendations
    assert (recs.raised, recs.closed, recs.outstanding, recs.overdue) == (raised, closed, outstanding, overdue)
    assert report.impact is not None and report.impact.pairs == sum(r[2] for r in results["follow-ups"])
    assert [r.audits for r in report.trend] == [
        sum(n for m, _, n in results["month grades"] if m == i) for i in range(len(report.trend))
    ]


# --- Measuring -----------------------------------------------------------------------------------------


def bench(database: Database) -> list[list[object]]:
    prepare_schema(database)
    settings = bench_settings(database.url)
    today = settings.today()
    _load(database, today, settings.timezone)
    return [_measure(database, today)]


def _measure(database: Database, today: date) -> list[object]:
    settings = bench_settings(database.url)
    engine = make_engine(settings.database_url)
    try:
        with Session(engine) as session:
            definitions = {v.id: template_definition(v) for v in session.execute(select(TemplateVersion)).scalars()}
        sqls = _baseline_sql(database, today, settings.timezone, definitions)

        def figures() -> Report:
            with Session(engine) as session:
                flt = report_filter_from_query({}, user=_qa_lead(session), today=today)
                return build_report(session, flt, settings=settings)

        raw = engine.raw_connection()
        try:
            cursor = raw.driver_connection.cursor()

            def run(kind: str) -> dict[str, list[tuple[Any, ...]]]:
                results = {}
                for name, sql in sqls[kind].items():
                    cursor.execute(sql)
                    results[name] = [tuple(row) for row in cursor.fetchall()]
                raw.driver_connection.commit()
                return results

            report = figures()  # the warm-ups, and the figures all must agree on
            by_answers, by_codes = run("answers"), run("codes")
            from_answers = _by_question_from_answers(by_answers["answers by month"])
            from_codes = _by_question_from_codes(by_codes["codes by month"], definitions)
            if from_answers != from_codes:
                diff = {
                    k: (from_answers.get(k), from_codes.get(k))
                    for k in set(from_answers) | set(from_codes)
                    if from_answers.get(k) != from_codes.get(k)
                }
                raise AssertionError(f"the two baselines disagree: {sorted(diff.items())[:8]}")
            _check(report, by_answers, from_answers)
            app_s, answers_s, codes_s = [], [], []
            for _ in range(RUNS):
                app_s.append(timed(figures)[0])
                answers_s.append(timed(lambda: run("answers"))[0])
                codes_s.append(timed(lambda: run("codes"))[0])
        finally:
            raw.close()
    finally:
        engine.dispose()
    app_ms, answers_ms, codes_ms = (statistics.median(s) * 1000 for s in (app_s, answers_s, codes_s))
    best = min(answers_ms, codes_ms)
    say(
        f"  {report.audits:,} audits in the default period; build_report {app_ms:.1f} ms, SQL from the answers "
        f"{answers_ms:.1f} ms, SQL from the codes {codes_ms:.1f} ms"
    )
    return [
        database.name,
        f"{report.audits:,}",
        f"{app_ms:.1f}",
        f"{answers_ms:.1f}",
        f"{codes_ms:.1f}",
        f"{app_ms / best:.2f}x",
    ]


def _qa_lead(session: Session) -> User:
    lead = session.execute(select(User).where(User.username == "bench.lead")).scalar_one_or_none()
    if lead is None:
        lead = user_create(
            session,
            data=UserCreate(
                username="bench.lead", full_name="Bench Lead", password="bench-password-long", roles=[Role.QA_LEAD]
            ),
            actor=None,
            hashed_password="-",
        )
        session.commit()
    return lead


def main() -> None:
    say(
        f"Reports benchmark: {AUDITS:,} completed audits (BENCH_REPORT_AUDITS) over twelve months, median of "
        f"{RUNS} runs (BENCH_REPORT_RUNS) after a warm-up, the QA lead's default report"
    )
    results = run_on_each_database("reports", bench)
    if not results:
        return
    say(
        "\nThe reports page's figures (app: build_report; SQL: the same aggregates through the driver, from the "
        "answer rows and from the compliance codes; app/SQL against the faster)"
    )
    say(table(["database", "audits", "app ms", "SQL answers ms", "SQL codes ms", "app/SQL"], results))
    worst_ms = max(float(str(r[2])) for r in results)
    worst_ratio = max(float(str(r[5]).rstrip("x")) for r in results)
    met = worst_ms < AIM_MS and worst_ratio <= AIM_RATIO
    say(
        f"Aim: under {AIM_MS:.0f} ms and within {AIM_RATIO:.0f}x of the hand-written SQL: "
        f"{'met' if met else 'NOT met'} (slowest {worst_ms:.1f} ms, worst {worst_ratio:.2f}x)."
    )


if __name__ == "__main__":
    main()
