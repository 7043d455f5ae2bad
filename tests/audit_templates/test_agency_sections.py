"""Multi-agency templates: each section names its agency, and the template lists the case facts partners may see."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.audit_templates.loader import check_file, content_hash, load_template
from app.audit_templates.schema import SECTION_AGENCIES, SHAREABLE_FACTS, TemplateDefinition

HERE = Path(__file__).parent
SHIPPED = HERE.parents[1] / "audit_templates"


@pytest.fixture
def in_tests_dir(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(HERE)


def problems(name: str) -> list[str]:
    return [str(m) for m in check_file(Path("broken") / name) if "file name" not in m.message]


@pytest.mark.usefixtures("in_tests_dir")
def test_an_unknown_agency_and_unshareable_or_repeated_facts_are_named_on_their_lines():
    assert problems("agency.yaml") == [
        (
            "broken/agency.yaml:6: shareable fact 'case_notes' is not a fact that can be shared "
            f"({', '.join(SHAREABLE_FACTS)})"
        ),
        "broken/agency.yaml:6: shareable fact 'child_id' is listed twice",
        (
            "broken/agency.yaml:16: section 'fire': agency 'fire_service' is not an agency "
            f"(one of {', '.join(SECTION_AGENCIES)})"
        ),
    ]


@pytest.mark.usefixtures("in_tests_dir")
def test_an_agency_belongs_to_a_multi_agency_template_only():
    assert problems("agency_kind.yaml") == [
        "broken/agency_kind.yaml:8: section 'police': agency is only for multi_agency templates"
    ]


def test_version_2_adds_only_agencies_and_shareable_facts_to_version_1():
    first, second = (load_template(SHIPPED / f"multi_agency.v{v}.yaml") for v in (1, 2))
    assert second.replaces is None  # no question was renamed
    assert [q for q in second.questions] == list(first.questions)
    assert {s.key: s.agency for s in second.sections} == {
        "social_care": "social_care",
        "police": "police",
        "health": "health",
        "education": "education",
        "panel_conclusion": None,
    }
    assert [s.key for s in second.agency_sections] == ["police", "health", "education"]
    assert second.section("social_care") is not None and second.section("social_care").partner_agency is None
    assert second.shareable_facts == ("child_id", "case_type", "age", "referral_date", "latest_review", "missing_12m")
    assert first.shareable_facts == () and first.agency_sections == ()
    unchanged = second.model_copy(
        update={
            "version": 1,
            "shareable_facts": (),
            "sections": tuple(s.model_copy(update={"agency": None}) for s in second.sections),
        }
    )
    assert unchanged == first


def test_templates_without_agencies_dump_and_hash_as_before():
    """Published versions keep their content hash: an empty agency or list of shareable facts is not dumped."""
    first = load_template(SHIPPED / "multi_agency.v1.yaml")
    dumped = first.model_dump(mode="json", by_alias=True)
    assert "shareable_facts" not in dumped
    assert all("agency" not in section for section in dumped["sections"])
    second = load_template(SHIPPED / "multi_agency.v2.yaml")
    again = TemplateDefinition.model_validate(second.model_dump(mode="json", by_alias=True))
    assert again == second and content_hash(again) == content_hash(second)


def test_a_definition_with_a_bad_agency_is_refused_when_validated_directly():
    data = load_template(SHIPPED / "multi_agency.v2.yaml").model_dump(mode="json", by_alias=True)
    data["sections"][1]["agency"] = "army"
    with pytest.raises(ValueError, match="agency 'army' is not an agency"):
        TemplateDefinition.model_validate(data)
