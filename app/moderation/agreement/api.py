"""JSON API for moderation agreement: auditor against moderator grades, overall, per auditor and section (the QA lead);
a moderator gets only their own figures, as on the page (`app.moderation.agreement.permissions`)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Annotated

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from app.db import MAX_ROW_ID, SessionDep
from app.errors import NotFound, ValidationFailed
from app.moderation.agreement.kappa import ANSWER_METHOD, FLAG_LABELS, METHOD, Agreement
from app.moderation.agreement.lookups import AgreementReader
from app.moderation.agreement.permissions import agreement_moderator
from app.moderation.agreement.service import AgreementReport, SectionAgreement, agreement_report
from app.sampling.models import Cycle

router = APIRouter(tags=["moderation agreement"])

FIRST_YEAR, LAST_YEAR = 1900, 9998  # dates outside cannot be turned into instants in every time zone


class AgreementFigures(BaseModel):
    n: int = Field(description="pairs of grades (auditor's, moderator's)")
    exact_agreement: float | None = Field(description="share of pairs with the same grade, 0 to 1")
    weighted_kappa: float | None = Field(description="Cohen's kappa with quadratic weights; null when undefined")
    kappa_interval: list[float] | None = Field(description="95% interval [low, high] (Fleiss, Cohen and Everitt 1969)")
    note: str | None = Field(default=None, description="why a figure is missing")


class ComplianceFigures(BaseModel):
    """Agreement on the compliance answers of compliance-only templates (dip samples), apart from the grades."""

    title: str = "Compliance answers (dip samples)"
    n: int = Field(description="pairs of answers (auditor's, moderator's), one per compliance question both answered")
    exact_agreement: float | None = Field(description="share of pairs with the same answer, 0 to 1")
    kappa: float | None = Field(description="Cohen's kappa without weights over yes, no and na; null when undefined")
    kappa_interval: list[float] | None = Field(description="95% interval [low, high] (Fleiss, Cohen and Everitt 1969)")
    note: str | None = Field(default=None, description="why a figure is missing")
    method: str


class AuditorFigures(AgreementFigures):
    auditor_id: int
    name: str
    flagged: bool = Field(description="low agreement over enough audits: a prompt for refresher training")
    status: str = Field(
        description="flagged (even the kappa's upper 95% bound is below low_kappa) | ok (its lower bound is at or "
        "above it) | not_enough_to_tell (fewer moderated audits than min_pairs, or an interval either side of "
        "low_kappa)"
    )
    status_label: str = Field(description="the status as the page says it, e.g. 'Not enough moderated audits to tell'")


class SectionFigures(AgreementFigures):
    template_key: str
    section_key: str = Field(description="the section's key, or 'overall' for the overall grade")
    title: str
    grade_question: str
    disagreements: int
    disagreement_rate: float | None
    recorded_disagreements: int = Field(description="times the moderator recorded 'disagree'")


class DisagreementOut(BaseModel):
    audit_id: int
    round: int
    sections: list[str] = Field(description="the grades that differed: 'Overall grade' and section titles")
    answers: int = Field(description="compliance answers that differed (dip samples)")


class AgreementOut(AgreementFigures):
    cycle_id: int | None
    date_from: date | None = Field(alias="from")
    date_to: date | None = Field(alias="to")
    rounds: int = Field(description="moderation rounds graded in the selection")
    method: str
    min_pairs: int
    low_kappa: float
    by_auditor: list[AuditorFigures]
    by_section: list[SectionFigures]
    most_disagreement: list[SectionFigures]
    compliance: ComplianceFigures = Field(description="dip samples: agreement on the compliance answers, not grades")
    moderator_id: int | None = Field(
        default=None, description="a moderator's own figures: their id (every figure is of their rounds only)"
    )
    disagreements: list[DisagreementOut] = Field(
        default_factory=list,
        description="the graded rounds where the moderator's grades or checklist answers differed from the auditor's",
    )

    model_config = {"populate_by_name": True}


def _figures(agreement: Agreement) -> dict[str, object]:
    interval = agreement.interval
    return {
        "n": agreement.n,
        "exact_agreement": agreement.exact_agreement,
        "weighted_kappa": agreement.weighted_kappa,
        "kappa_interval": list(interval) if interval else None,
        "note": agreement.note,
    }


def _section(section: SectionAgreement) -> SectionFigures:
    return SectionFigures(
        template_key=section.template_key,
        section_key=section.section_key,
        title=section.title,
        grade_question=section.grade_question,
        disagreements=section.agreement.disagreed,
        disagreement_rate=section.agreement.disagreement_rate,
        recorded_disagreements=section.recorded_disagreements,
        **_figures(section.agreement),
    )


def agreement_out(
    report: AgreementReport, *, cycle_id: int | None, date_from: date | None, date_to: date | None
) -> AgreementOut:
    return AgreementOut(
        cycle_id=cycle_id,
        date_from=date_from,
        date_to=date_to,
        rounds=report.rounds,
        method=METHOD,
        min_pairs=report.min_pairs,
        low_kappa=report.low_kappa,
        **_figures(report.overall),
        by_auditor=[
            AuditorFigures(
                auditor_id=a.auditor_id,
                name=a.name,
                flagged=a.flagged,
                status=a.status,
                status_label=FLAG_LABELS[a.status],
                **_figures(a.agreement),
            )
            for a in report.by_auditor
        ],
        by_section=[_section(s) for s in report.by_section],
        most_disagreement=[_section(s) for s in report.most_disagreement],
        compliance=ComplianceFigures(
            n=report.compliance.n,
            exact_agreement=report.compliance.exact_agreement,
            kappa=report.compliance.weighted_kappa,  # unweighted: the weights are the identity
            kappa_interval=list(report.compliance.interval) if report.compliance.interval else None,
            note=report.compliance.note,
            method=ANSWER_METHOD,
        ),
        moderator_id=report.moderator_id,
        disagreements=[
            DisagreementOut(audit_id=d.audit_id, round=d.round, sections=list(d.sections), answers=d.answers)
            for d in report.disagreements
        ],
    )


@router.get(
    "/moderation/agreement",
    response_model=AgreementOut,
    response_model_by_alias=True,
    responses={404: {"description": "No cycle with that id"}, 422: {"description": "A bad parameter"}},
)
def moderation_agreement(
    request: Request,
    session: SessionDep,
    user: AgreementReader,
    cycle_id: Annotated[int | None, Query(ge=1, le=MAX_ROW_ID)] = None,
    date_from: Annotated[date | None, Query(alias="from", description="graded on or after (YYYY-MM-DD)")] = None,
    date_to: Annotated[date | None, Query(alias="to", description="graded on or before (YYYY-MM-DD)")] = None,
) -> AgreementOut:
    """Agreement between auditors' and moderators' grades: number of pairs, exact agreement and quadratically
    weighted kappa with a 95% interval, overall, per auditor (flagging low agreement only when the interval says so)
    and per section; and, apart from the grades, agreement on dip samples' compliance answers (unweighted kappa).
    The QA lead sees every moderator's rounds; a moderator only their own (`moderator_id`), without `by_auditor`."""
    if cycle_id is not None and session.get(Cycle, cycle_id) is None:
        raise NotFound(f"Cycle {cycle_id} not found")
    for name, value in (("from", date_from), ("to", date_to)):
        if value is not None and not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise ValidationFailed({name: f"'{name}' must be a date between {FIRST_YEAR} and {LAST_YEAR}"})
    if date_from and date_to and date_from > date_to:
        raise ValidationFailed({"to": "'to' must be the same as or after 'from'"})
    settings = request.app.state.settings
    tz = settings.tz
    report = agreement_report(
        session,
        cycle_id=cycle_id,
        min_pairs=settings.agreement_min_pairs,
        low_kappa=settings.agreement_low_kappa,
        graded_from=datetime.combine(date_from, time.min, tz) if date_from else None,
        graded_before=datetime.combine(date_to + timedelta(days=1), time.min, tz) if date_to else None,
        moderator_id=agreement_moderator(user),
    )
    return agreement_out(report, cycle_id=cycle_id, date_from=date_from, date_to=date_to)
