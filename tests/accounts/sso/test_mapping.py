"""The single sign-on group mapping: every problem named with its line, and what a person's groups give."""

from __future__ import annotations

import re
from pathlib import Path
from textwrap import dedent

import pytest

from app.accounts.roles import Agency, Role
from app.accounts.sso.mapping import Grant, GroupMapping, MappingError, check_mapping, load_mapping, parse_mapping
from app.config import PROJECT_DIR


def _problems(text: str) -> list[str]:
    with pytest.raises(MappingError) as caught:
        parse_mapping(dedent(text).lstrip("\n"), source="sso.yaml")
    assert str(caught.value) == "\n".join(caught.value.problems)
    return caught.value.problems


GOOD = """
groups:
  - group: qa-leads
    roles: [qa_lead, auditor]
  - group: team-hillside
    roles: [practitioner]
    team: Hillside
  - group: hos-safeguarding
    roles: [head_of_service]
    service_area: Safeguarding
  - group: police-partners
    roles: [partner]
    agency: police
"""


def test_a_good_file_gives_its_rules_in_file_order_with_their_lines():
    mapping = parse_mapping(dedent(GOOD), source="sso.yaml")
    assert [group for group, _ in mapping.rules] == ["qa-leads", "team-hillside", "hos-safeguarding", "police-partners"]
    assert mapping.rules[0][1] == Grant(roles=frozenset({Role.QA_LEAD, Role.AUDITOR}))
    assert mapping.rules[1][1] == Grant(roles=frozenset({Role.PRACTITIONER}), team="Hillside")
    assert mapping.rules[2][1] == Grant(roles=frozenset({Role.HEAD_OF_SERVICE}), service_area="Safeguarding")
    assert mapping.rules[3][1] == Grant(roles=frozenset({Role.PARTNER}), agency=Agency.POLICE)
    assert mapping.lines == (3, 5, 8, 11)
    assert mapping.source == "sso.yaml"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param("groups: [\n  - group: a\n", ["sso.yaml:2: YAML syntax error: "], id="bad-yaml"),
        pytest.param("", ["sso.yaml:1: the file is empty: it needs a 'groups' list"], id="empty-file"),
        pytest.param(
            "- group: a\n", ["sso.yaml:1: the mapping file is a mapping with one key, 'groups'"], id="top-list"
        ),
        pytest.param(
            "rules: []\n", ["sso.yaml:1: unknown key 'rules'", "sso.yaml:1: missing key 'groups'"], id="no-groups"
        ),
        pytest.param(
            """
            grups:
              - group: a
                roles: [viewer]
            """,
            ["sso.yaml:1: unknown key 'grups' (did you mean 'groups'?)", "sso.yaml:1: missing key 'groups'"],
            id="unknown-top-key",
        ),
        pytest.param(
            """
            groups:
              group: a
              roles: [viewer]
            """,
            ["sso.yaml:2: 'groups' must be a list: start each entry on its own line with '- group:'"],
            id="groups-not-a-list",
        ),
        pytest.param(
            "groups: []\n",
            ["sso.yaml:1: 'groups' is empty: with no group mapped, nobody could sign in"],
            id="groups-empty",
        ),
        pytest.param(
            """
            groups:
              - qa-leads
            """,
            ["sso.yaml:2: entry 1 of 'groups' must be a mapping: group, roles"],
            id="entry-not-a-mapping",
        ),
        pytest.param(
            """
            groups:
              - group: qa-leads
                roles: [qa_lead]
                role: auditor
            """,
            ["sso.yaml:4: group 'qa-leads': unknown key 'role' (did you mean 'roles'?); an entry has group, roles"],
            id="unknown-entry-key",
        ),
        pytest.param(
            """
            groups:
              - roles: [viewer]
            """,
            ["sso.yaml:2: entry 1: missing key 'group'"],
            id="missing-group",
        ),
        pytest.param(
            """
            groups:
              - group: "  "
                roles: [viewer]
            """,
            ["sso.yaml:2: entry 1: 'group' is empty"],
            id="empty-group",
        ),
        pytest.param(
            """
            groups:
              - group:
                roles: [viewer]
            """,
            ["sso.yaml:2: entry 1: 'group' is empty"],
            id="null-group",
        ),
        pytest.param(
            """
            groups:
              - group: 4021
                roles: [viewer]
            """,
            ["sso.yaml:2: entry 1: 'group' must be text: YAML reads 4021 as a number, so write it in quotes ('4021')"],
            id="numeric-group",
        ),
        pytest.param(
            """
            groups:
              - group: [a, b]
                roles: [viewer]
            """,
            ["sso.yaml:2: entry 1: 'group' must be a single value, not a list or a mapping"],
            id="group-list",
        ),
        pytest.param(
            """
            groups:
              - group: viewers
                roles: [viewer]
              - group: auditors
                roles: [auditor]
              - group: viewers
                roles: [auditor]
            """,
            ["sso.yaml:6: group 'viewers' is already mapped on line 2: give each group once, with all the roles"],
            id="duplicate-group",
        ),
        pytest.param(
            """
            groups:
              - group: viewers
            """,
            ["sso.yaml:2: group 'viewers': missing key 'roles' (a list: qa_lead, auditor, "],
            id="missing-roles",
        ),
        pytest.param(
            """
            groups:
              - group: viewers
                roles: viewer
            """,
            ["sso.yaml:3: group 'viewers': 'roles' must be a list, for example roles: [auditor]"],
            id="roles-not-a-list",
        ),
        pytest.param(
            """
            groups:
              - group: viewers
                roles: []
            """,
            ["sso.yaml:3: group 'viewers': 'roles' is empty: give at least one role"],
            id="roles-empty",
        ),
        pytest.param(
            """
            groups:
              - group: leads
                roles:
                  - auditor
                  - qa-lead
            """,
            ["sso.yaml:5: group 'leads': unknown role 'qa-lead' (did you mean 'qa_lead'?); the roles are qa_lead, "],
            id="unknown-role",
        ),
        pytest.param(
            """
            groups:
              - group: partners
                roles: [partner]
                agency: polise
            """,
            ["sso.yaml:4: group 'partners': unknown agency 'polise' (did you mean 'police'?); the agencies are police"],
            id="unknown-agency",
        ),
        pytest.param(
            """
            groups:
              - group: partners
                roles: [partner]
            """,
            ["sso.yaml:3: group 'partners': the partner role needs an agency: add 'agency:' (police, health, "],
            id="partner-without-agency",
        ),
        pytest.param(
            """
            groups:
              - group: auditors
                roles: [auditor]
                agency: police
            """,
            ["sso.yaml:4: group 'auditors': only a partner has an agency: add partner to its roles, or remove"],
            id="agency-without-partner",
        ),
        pytest.param(
            """
            groups:
              - group: hillside
                roles: [practitioner]
                team:
            """,
            ["sso.yaml:4: group 'hillside': 'team' is empty"],
            id="empty-team",
        ),
        pytest.param(
            """
            groups:
              - group: hos
                roles: [head_of_service]
                service_area: {name: Safeguarding}
            """,
            ["sso.yaml:4: group 'hos': 'service_area' must be a single value, not a list or a mapping"],
            id="area-not-text",
        ),
        pytest.param(
            """
            groups:
              - group: viewers
                roles: [viewer]
                roles: [auditor]
            """,
            ["sso.yaml:4: 'roles' is given twice"],
            id="key-twice",
        ),
    ],
)
def test_each_problem_is_named_with_its_line(text: str, expected: list[str]):
    problems = _problems(text)
    assert len(problems) == len(expected), problems
    for problem, start in zip(problems, expected, strict=True):
        assert problem.startswith(start), problems


def test_every_problem_in_a_file_is_reported_at_once_in_line_order():
    problems = _problems(
        """
        groups:
          - group: leads
            roles: [qa_leed]
          - group: partners
            roles: [partner]
          - group: leads
            roles: [viewer]
            colour: blue
        """
    )
    assert [int(re.match(r"sso\.yaml:(\d+):", p).group(1)) for p in problems] == [3, 5, 6, 8]


def test_yaml_1_2_booleans_a_group_called_no_stays_text():
    mapping = parse_mapping("groups:\n  - group: no\n    roles: [viewer]\n")
    assert mapping.rules[0][0] == "no"
    assert _problems("groups:\n  - group: true\n    roles: [viewer]\n") == [
        "sso.yaml:2: entry 1: 'group' must be text: YAML reads true as a true/false value, so write it in quotes "
        "('true')"
    ]


def test_names_are_tidied_and_a_role_given_twice_counts_once():
    mapping = parse_mapping("groups:\n  - group: ' hillside '\n    roles: [viewer, viewer]\n    team: ' Hill   side'\n")
    assert mapping.rules == (("hillside", Grant(roles=frozenset({Role.VIEWER}), team="Hill side")),)


def test_the_partner_agencies_providers_file_may_give_the_partner_role_only(tmp_path: Path):
    partners = "groups:\n  - group: police\n    roles: [partner]\n    agency: police\n"
    staff = "  - group: leads\n    roles: [qa_lead, partner, auditor]\n    agency: health\n  - group: v\n    roles: [viewer]\n"
    assert parse_mapping(partners, partner_provider=True).grant_for(["police"]) == Grant(
        roles=frozenset({Role.PARTNER}), agency=Agency.POLICE
    )
    assert parse_mapping(partners + staff).grant_for(["leads"]) is not None  # the council's provider: any role
    with pytest.raises(MappingError) as caught:
        parse_mapping(partners + staff, source="partners.yaml", partner_provider=True)
    assert caught.value.problems == [
        "partners.yaml:6: group 'leads': the partner agencies' provider may only give the partner role, not qa_lead, "
        "auditor",
        "partners.yaml:9: group 'v': the partner agencies' provider may only give the partner role, not viewer",
    ]
    path = tmp_path / "partners.yaml"
    path.write_text(partners + staff, encoding="utf-8")
    assert check_mapping(path) == []
    assert len(check_mapping(path, partner_provider=True)) == 2


def test_load_mapping_names_the_file(tmp_path: Path):
    path = tmp_path / "sso.yaml"
    path.write_text("groups:\n  - group: a\n    roles: [nobody]\n", encoding="utf-8")
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.problems[0].startswith(f"{path}:3: group 'a': unknown role 'nobody'")
    assert check_mapping(path) == caught.value.problems


def test_an_unreadable_file_is_one_problem_at_line_one(tmp_path: Path):
    path = tmp_path / "missing.yaml"
    with pytest.raises(MappingError) as caught:
        load_mapping(path)
    assert caught.value.problems[0].startswith(f"{path}:1: cannot read the file")


def test_the_example_file_and_the_readme_example_load():
    example = load_mapping(PROJECT_DIR / "sso_mapping.example.yaml")
    assert example.grant_for(["police-partners"]) == Grant(roles=frozenset({Role.PARTNER}), agency=Agency.POLICE)
    readme = (PROJECT_DIR / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Single sign-on: who gets in", 1)[1]
    block = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    assert parse_mapping(block, source="README.md").rules


# --- grant_for --------------------------------------------------------------------------------------------------

MAPPING = GroupMapping(
    rules=(
        ("leads", Grant(roles=frozenset({Role.QA_LEAD, Role.AUDITOR}))),
        ("hillside", Grant(roles=frozenset({Role.PRACTITIONER}), team="Hillside")),
        ("riverside", Grant(roles=frozenset({Role.TEAM_MANAGER}), team="Riverside", service_area="North")),
        ("hos", Grant(roles=frozenset({Role.HEAD_OF_SERVICE}), service_area="Safeguarding")),
        ("police", Grant(roles=frozenset({Role.PARTNER}), agency=Agency.POLICE)),
        ("health", Grant(roles=frozenset({Role.PARTNER}), agency=Agency.HEALTH)),
    )
)


def test_no_matching_group_is_no_grant():
    assert MAPPING.grant_for([]) is None
    assert MAPPING.grant_for(["Leads", "other"]) is None  # matched exactly as the provider sends them
    assert GroupMapping(rules=()).grant_for(["leads"]) is None


def test_the_roles_of_every_matching_rule_are_joined():
    grant = MAPPING.grant_for(["hillside", "leads", "unknown"])
    assert grant == Grant(roles=frozenset({Role.QA_LEAD, Role.AUDITOR, Role.PRACTITIONER}), team="Hillside")


def test_team_area_and_agency_come_from_the_first_rule_in_file_order_that_sets_one():
    # file order, not the order the provider lists the groups in
    grant = MAPPING.grant_for(["health", "hos", "riverside", "hillside", "police"])
    assert grant is not None
    assert grant.team == "Hillside"
    assert grant.service_area == "North"
    assert grant.agency == Agency.POLICE
    assert grant.roles == {Role.PRACTITIONER, Role.TEAM_MANAGER, Role.HEAD_OF_SERVICE, Role.PARTNER}
