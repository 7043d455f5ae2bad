"""Template rules in words, as the QA lead's preview shows them (pure)."""

from __future__ import annotations

from app.audit_templates.describe import answer_text, describe_prefill, describe_show_if
from app.audit_templates.prefill import Prefill
from app.audit_templates.schema import Question, TemplateDefinition

DEFINITION = TemplateDefinition.model_validate(
    {
        "key": "t",
        "version": 1,
        "title": "T",
        "kind": "thematic",
        "description": "d",
        "sections": [
            {
                "key": "s",
                "title": "S",
                "questions": [
                    {"key": "missing", "type": "yes_no_na", "label": "Has the child gone missing?", "scored": False},
                    {
                        "key": "plan",
                        "type": "single_choice",
                        "label": "Which plan?",
                        "options": [
                            {"value": "cp", "label": "Child protection"},
                            {"value": "none", "label": "No plan"},
                            {"value": "cin", "label": "Child in need"},
                        ],
                    },
                    {
                        "key": "agencies",
                        "type": "multi_choice",
                        "label": "Agencies?",
                        "options": [{"value": "police", "label": "Police"}],
                    },
                    {"key": "a", "type": "text", "label": "A", "show_if": {"question": "missing", "equals": "yes"}},
                    {"key": "b", "type": "text", "label": "B", "show_if": {"question": "plan", "not_equals": "none"}},
                    {"key": "c", "type": "text", "label": "C", "show_if": {"question": "plan", "in": ["cp", "cin"]}},
                    {
                        "key": "d",
                        "type": "text",
                        "label": "D",
                        "show_if": {
                            "all": [
                                {"question": "agencies", "equals": "police"},
                                {
                                    "any": [
                                        {"question": "missing", "equals": "yes"},
                                        {"question": "plan", "equals": "cp"},
                                    ]
                                },
                            ]
                        },
                    },
                ],
            }
        ],
    }
)


def _shown(key: str) -> str | None:
    question = DEFINITION.question(key)
    assert question is not None
    return describe_show_if(question, DEFINITION)


def test_show_if_in_words():
    assert _shown("missing") is None
    assert _shown("a") == "Shown when 'Has the child gone missing?' is Yes"
    assert _shown("b") == "Shown when 'Which plan?' is answered and is not No plan"
    assert _shown("c") == "Shown when 'Which plan?' is Child protection or Child in need"
    assert _shown("d") == (
        "Shown when 'Agencies?' includes Police and "
        "('Has the child gone missing?' is Yes or 'Which plan?' is Child protection)"
    )


def test_prefill_rules_in_words():
    within = Prefill.model_validate(
        {"fact": "assessment_authorised", "check": "within_working_days", "from": "referral_date", "days": 45}
    )
    assert describe_prefill(within) == (
        "Suggested from the register: Yes when Assessment authorised was within "
        "45 working days of referral, otherwise No"
    )
    recent = Prefill.model_validate(
        {"fact": "last_statutory_visit", "check": "within_days", "from": "today", "days": 42}
    )
    assert "Last statutory visit was no more than 42 days before the audit" in describe_prefill(recent)
    assert "at most 2" in describe_prefill(Prefill(fact="placements_12m", check="at_most", value=2))
    assert "Child seen alone is Yes in the register" in describe_prefill(Prefill(fact="seen_alone", check="true"))
    assert "is recorded in the register" in describe_prefill(Prefill(fact="permanence_plan", check="recorded"))


def test_answers_as_text():
    plan = DEFINITION.question("plan")
    assert plan is not None and answer_text(plan, "cp") == "Child protection"
    assert answer_text(plan, None) == ""
    missing = DEFINITION.question("missing")
    assert missing is not None and answer_text(missing, "na") == "Not applicable"
    assert answer_text(Question(key="n", type="number", label="N"), 2.5) == "2.5"
    assert answer_text(Question(key="d", type="date", label="D"), "2026-03-01") == "1 March 2026"
