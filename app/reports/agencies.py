"""Multi-agency audits by agency: for each agency section, how many audits had it, how many were assigned to a
partner representative, how many have the section answered, and its compliance with the same clustered interval
as every other section's rate (`figures.compliance_rate`).

The audits are those on a multi-agency template started in the report's period (not only completed ones: an agency
section is answered before the audit is), narrowed by the report filter's cycle, template, service area, team and
case type, within the reader's scope (a head of service: their own area). A section's agency is its `agency` in the
template; version 1 of the multi-agency template has none, and there a section whose key is an agency (`police`,
`social_care`) counts as that agency's.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlmodel import Session, col

from app.accounts.roles import AGENCY_LABELS, Agency
from app.audit_templates.conditions import has_answer, visible_keys
from app.audit_templates.models import TemplateVersion
from app.audit_templates.schema import SECTION_AGENCIES, SOCIAL_CARE, Section, TemplateDefinition, TemplateKind
from app.audit_templates.service import template_definition
from app.audits.models import Audit, AuditAnswer
from app.audits.partners.models import SectionPartner
from app.cases.models import Case
from app.reports import charts
from app.reports.figures import Counts, compliance_rate
from app.reports.filters import ReportFilter, report_conditions
from app.reports.report import TOO_FEW, interval_text, percent
from app.reports.stats import Rate

CHUNK = 500  # audit ids per IN (...) query


def section_agency(definition: TemplateDefinition, section: Section) -> str | None:
    """The agency a multi-agency template's section belongs to (see the module docstring)."""
    if section.agency in SECTION_AGENCIES:
        return section.agency
    if definition.kind is TemplateKind.MULTI_AGENCY and section.key in SECTION_AGENCIES:
        return section.key
    return None


def agency_label(agency: str) -> str:
    if agency == SOCIAL_CARE:
        return "Children's social care"
    return AGENCY_LABELS[Agency(agency)] if agency in Agency._value2member_map_ else agency


def section_answered(definition: TemplateDefinition, section: Section, answers: dict[str, Any]) -> bool:
    """Every shown, required question of the section (its judgement fields too) has an answer."""
    shown = visible_keys(definition, answers)
    return all(has_answer(answers.get(q.key)) for q in section.form_questions if q.key in shown and q.required)


def section_counts(definition: TemplateDefinition, section: Section, answers: dict[str, Any]) -> Counts:
    """One audit's yes / no / N/A answers to the section's shown compliance questions."""
    shown = visible_keys(definition, answers)
    values = [answers.get(q.key) for q in section.form_questions if q.counts_for_compliance and q.key in shown]
    return Counts.of_audit(values.count("yes"), values.count("no"), values.count("na"))


@dataclass
class AgencySectionFigures:
    agency: str
    section_key: str
    title: str
    audits: int = 0
    assigned: int = 0
    answered: int = 0
    counts: Counts = field(default_factory=Counts)
    rate: Rate | None = None

    @property
    def agency_label(self) -> str:
        return agency_label(self.agency)

    @property
    def partner_section(self) -> bool:
        return self.agency != SOCIAL_CARE

    @property
    def answered_share(self) -> str:
        return percent(self.answered / self.audits) if self.audits else ""

    @property
    def rate_text(self) -> str:
        if self.rate is None or self.rate.n == 0:
            return "No answers"
        return TOO_FEW if self.rate.too_few else percent(self.rate.value)

    @property
    def interval_text(self) -> str:
        return "" if self.rate is None or self.rate.too_few else interval_text(self.rate)


@dataclass(frozen=True)
class AgencyReport:
    audits: int
    sections: list[AgencySectionFigures]
    min_n: int

    @property
    def empty(self) -> bool:
        return self.audits == 0


def _conditions(flt: ReportFilter, zone: str) -> list[Any]:
    """The report's filter on multi-agency audits started in its dates (in progress ones count)."""
    return [TemplateVersion.kind == TemplateKind.MULTI_AGENCY.value, *report_conditions(flt, zone, started=True)]


def _chunks(ids: list[int]) -> Iterable[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def agency_report(session: Session, flt: ReportFilter, *, zone: str, min_n: int) -> AgencyReport:
    rows = session.execute(
        select(col(Audit.id), col(Audit.template_version_id))
        .join(Case, col(Case.id) == col(Audit.case_id))
        .join(TemplateVersion, col(TemplateVersion.id) == col(Audit.template_version_id))
        .where(*_conditions(flt, zone))
        .order_by(col(Audit.id))
    ).all()
    audit_ids = [audit_id for audit_id, _ in rows]
    versions = {v.id: template_definition(v) for v in session.execute(select(TemplateVersion)).scalars()}
    answers: dict[int, dict[str, Any]] = {audit_id: {} for audit_id in audit_ids}
    assigned: set[tuple[int, str]] = set()
    for chunk in _chunks(audit_ids):
        for audit_id, key, value in session.execute(
            select(col(AuditAnswer.audit_id), col(AuditAnswer.question_key), col(AuditAnswer.value)).where(
                col(AuditAnswer.audit_id).in_(chunk), col(AuditAnswer.value).is_not(None)
            )
        ).all():
            if value is not None:
                answers[audit_id][key] = value
        assigned.update(
            session.execute(
                select(col(SectionPartner.audit_id), col(SectionPartner.section_key)).where(
                    col(SectionPartner.audit_id).in_(chunk)
                )
            ).tuples()
        )
    found: dict[tuple[str, str], AgencySectionFigures] = {}
    for audit_id, version_id in rows:
        definition = versions[version_id]
        for section in definition.sections:
            agency = section_agency(definition, section)
            if agency is None:
                continue
            figures = found.setdefault(
                (agency, section.key), AgencySectionFigures(agency=agency, section_key=section.key, title=section.title)
            )
            figures.audits += 1
            figures.assigned += (audit_id, section.key) in assigned
            figures.answered += section_answered(definition, section, answers[audit_id])
            figures.counts = figures.counts + section_counts(definition, section, answers[audit_id])
    order = {agency: i for i, agency in enumerate(SECTION_AGENCIES)}
    sections = sorted(found.values(), key=lambda f: (order.get(f.agency, len(order)), f.section_key))
    for figures in sections:
        figures.rate = compliance_rate(figures.counts, frame=None, sampled=None, min_n=min_n)
    return AgencyReport(audits=len(audit_ids), sections=sections, min_n=min_n)


def agency_chart(report: AgencyReport) -> charts.Chart:
    """Compliance per agency section, with its interval (a section with too few answers shows none)."""
    bars = [
        charts.Bar(
            label=f"{s.agency_label}: {s.title}" if s.title != s.agency_label else s.title,
            value=None if s.rate is None or s.rate.too_few else s.rate.value,
            low=None if s.rate is None or s.rate.too_few or not s.rate.interval else s.rate.interval.low,
            high=None if s.rate is None or s.rate.too_few or not s.rate.interval else s.rate.interval.high,
            note=TOO_FEW if s.rate is not None and s.rate.too_few else None,
        )
        for s in report.sections
    ]
    return charts.bar_chart(
        "Compliance by agency section",
        "The share of yes answers among yes and no answers in each agency's section, with its 95% interval; "
        "sections with too few answers are not drawn.",
        bars,
        percent=True,
        label_heading="Agency section",
        value_heading="Compliance",
        id="agency-compliance",
    )
