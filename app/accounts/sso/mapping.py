"""The single sign-on group mapping: which provider groups (or app role values) give which roles, team, service
area and agency in Case File Audit.

A YAML file, checked the way the audit templates are (app.audit_templates.loader): every problem is reported at
once, each as "path:line: message". YAML 1.2 booleans (only true/false), so a group called `yes` or `no` stays
that string. Pure: no database. Team and service area names are checked against the database at sign-in
(app.accounts.sso.provisioning), or ahead of it with `mapping_unknown_names` there.

    groups:
      - group: qa-leads
        roles: [qa_lead, auditor]
      - group: team-hillside
        roles: [practitioner]
        team: Hillside

The partner agencies' provider (PARTNER_OIDC_MAPPING_FILE) is read with `partner_provider=True`: its file may give
the partner role only (with an agency), so a partner agency's identity provider can never make anyone staff.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from app.accounts.roles import Agency, Role

TOP_KEYS = ("groups",)
ENTRY_KEYS = ("group", "roles", "team", "service_area", "agency")
_ROLE_LIST = ", ".join(role.value for role in Role)
_AGENCY_LIST = ", ".join(agency.value for agency in Agency)

_STR_TAG = "tag:yaml.org,2002:str"
_NULL_TAG = "tag:yaml.org,2002:null"
_BOOL_TAG = "tag:yaml.org,2002:bool"
_KINDS = {"int": "number", "float": "number", "bool": "true/false value", "timestamp": "date"}


@dataclass(frozen=True)
class Grant:
    """What a person's groups give them: their roles, and the team, service area (a head of service's) and agency
    (a partner's) when a rule names one (names, checked against the database at sign-in)."""

    roles: frozenset[Role]
    team: str | None = None
    service_area: str | None = None
    agency: Agency | None = None


@dataclass(frozen=True)
class GroupMapping:
    """The rules of a mapping file, in file order: (provider group or role value, what it gives)."""

    rules: tuple[tuple[str, Grant], ...]
    # Where each rule came from (its "- group:" line), for messages about names checked later.
    source: str = field(default="<mapping>", compare=False)
    lines: tuple[int, ...] = field(default=(), compare=False)

    def grant_for(self, groups: Iterable[str]) -> Grant | None:
        """The union of the roles of every rule whose group the person is in; the team, service area and agency
        each from the first matching rule that sets one. None when no rule matches (or the union has no role)."""
        held = set(groups)
        matching = [grant for group, grant in self.rules if group in held]
        roles = frozenset(role for grant in matching for role in grant.roles)
        if not roles:
            return None
        return Grant(
            roles=roles,
            team=next((g.team for g in matching if g.team is not None), None),
            service_area=next((g.service_area for g in matching if g.service_area is not None), None),
            agency=next((g.agency for g in matching if g.agency is not None), None),
        )

    def line_of(self, index: int) -> int:
        return self.lines[index] if index < len(self.lines) else 1


class MappingError(Exception):
    """A mapping file that does not pass the check; `problems` lists every problem as "path:line: message"."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("\n".join(problems))


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2 booleans: `yes`, `no`, `on` and `off` are strings."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != _BOOL_TAG]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(_BOOL_TAG, re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF"))


def load_mapping(path: Path, *, partner_provider: bool = False) -> GroupMapping:
    """The mapping in a file (the partner agencies' provider's, which gives partners only, with `partner_provider`);
    MappingError listing every problem otherwise."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise MappingError([f"{path}:1: cannot read the file: {exc}"]) from exc
    return parse_mapping(text, source=str(path), partner_provider=partner_provider)


def parse_mapping(text: str, *, source: str = "<mapping>", partner_provider: bool = False) -> GroupMapping:
    """The mapping in `text`; MappingError listing every problem (each naming `source` and a line) otherwise."""
    mapping, problems = _Reader(source, partner_provider=partner_provider).read(text)
    if problems or mapping is None:
        raise MappingError(problems or [f"{source}:1: no mapping"])
    return mapping


def check_mapping(path: Path, *, partner_provider: bool = False) -> list[str]:
    """Every problem in a mapping file ("path:line: message"); empty when it loads."""
    try:
        load_mapping(path, partner_provider=partner_provider)
    except MappingError as exc:
        return exc.problems
    return []


def _line(node: yaml.Node) -> int:
    return node.start_mark.line + 1


def _did_you_mean(word: str, choices: Iterable[str]) -> str:
    guess = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f" (did you mean '{guess[0]}'?)" if guess else ""


class _Reader:
    def __init__(self, source: str, *, partner_provider: bool = False):
        self.source = source
        self.partner_provider = partner_provider
        self.problems: list[tuple[int, str]] = []

    def problem(self, line: int, message: str) -> None:
        self.problems.append((line, message))

    def read(self, text: str) -> tuple[GroupMapping | None, list[str]]:
        mapping = self._read(text)
        self.problems.sort(key=lambda p: p[0])
        return mapping, [f"{self.source}:{line}: {message}" for line, message in self.problems]

    def _read(self, text: str) -> GroupMapping | None:
        try:
            loader = _Loader(text)
            try:
                node = loader.get_single_node()
            finally:
                loader.dispose()
        except yaml.MarkedYAMLError as exc:
            mark = exc.problem_mark or exc.context_mark
            context = ""
            if exc.context and exc.context_mark:
                context = f" ({exc.context} that starts on line {exc.context_mark.line + 1})"
            self.problem(mark.line + 1 if mark else 1, f"YAML syntax error: {exc.problem or exc}{context}")
            return None
        except yaml.YAMLError as exc:
            self.problem(1, f"cannot read the file: {exc}")
            return None
        if node is None:
            self.problem(1, "the file is empty: it needs a 'groups' list (see sso_mapping.example.yaml)")
            return None
        if not isinstance(node, yaml.MappingNode):
            self.problem(_line(node), "the mapping file is a mapping with one key, 'groups', a list of entries")
            return None
        groups_node: yaml.Node | None = None
        for key_node, value_node, key in self._keys(node):
            if key == "groups":
                groups_node = value_node
            else:
                self.problem(
                    _line(key_node), f"unknown key '{key}'{_did_you_mean(key, TOP_KEYS)}: the only key is 'groups'"
                )
        if groups_node is None:
            self.problem(_line(node), "missing key 'groups': the list of provider groups and what each gives")
            return None
        return self._groups(groups_node)

    def _keys(self, node: yaml.MappingNode) -> Iterable[tuple[yaml.Node, yaml.Node, str]]:
        """The (key node, value node, key) of a mapping, saying so for a key given twice or one that is not text."""
        seen: set[str] = set()
        for key_node, value_node in node.value:
            key = key_node.value if isinstance(key_node, yaml.ScalarNode) else None
            if not isinstance(key, str):
                self.problem(_line(key_node), "a key must be a plain word")
                continue
            if key in seen:
                self.problem(_line(key_node), f"'{key}' is given twice")
                continue
            seen.add(key)
            yield key_node, value_node, key

    def _groups(self, node: yaml.Node) -> GroupMapping | None:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(_line(node), "'groups' must be a list: start each entry on its own line with '- group:'")
            return None
        if not node.value:
            self.problem(_line(node), "'groups' is empty: with no group mapped, nobody could sign in")
            return None
        rules: list[tuple[str, Grant]] = []
        lines: list[int] = []
        first_line: dict[str, int] = {}
        for number, entry in enumerate(node.value, start=1):
            group, grant = self._entry(number, entry)
            if group is None:
                continue
            if group in first_line:
                self.problem(
                    _line(entry),
                    f"group '{group}' is already mapped on line {first_line[group]}: "
                    "give each group once, with all the roles it gives",
                )
                continue
            first_line[group] = _line(entry)
            if grant is not None:
                rules.append((group, grant))
                lines.append(_line(entry))
        if self.problems:
            return None
        return GroupMapping(rules=tuple(rules), source=self.source, lines=tuple(lines))

    def _entry(self, number: int, node: yaml.Node) -> tuple[str | None, Grant | None]:
        """The entry's group (None if it has none) and grant (None if it has a problem)."""
        if not isinstance(node, yaml.MappingNode):
            self.problem(
                _line(node),
                f"entry {number} of 'groups' must be a mapping: group, roles, and optionally team, service_area, "
                "agency",
            )
            return None, None
        values = {key: (key_node, value_node) for key_node, value_node, key in self._keys(node)}
        group = self._text(f"entry {number}", "group", values.get("group"), node)
        where = f"group '{group}'" if group else f"entry {number}"
        for key, (key_node, _) in values.items():
            if key not in ENTRY_KEYS:
                self.problem(
                    _line(key_node),
                    f"{where}: unknown key '{key}'{_did_you_mean(key, ENTRY_KEYS)}; "
                    f"an entry has {', '.join(ENTRY_KEYS)}",
                )
        roles = self._roles(where, values.get("roles"), node)
        team = self._text(where, "team", values.get("team"), node, required=False)
        area = self._text(where, "service_area", values.get("service_area"), node, required=False)
        agency = self._agency(where, values.get("agency"))
        if roles is not None and Role.PARTNER in roles and agency is None and "agency" not in values:
            self.problem(
                _line(values["roles"][1]),
                f"{where}: the partner role needs an agency: add 'agency:' ({_AGENCY_LIST})",
            )
        staff = [role.value for role in roles or () if role is not Role.PARTNER]
        if self.partner_provider and staff:
            self.problem(
                _line(values["roles"][1]),
                f"{where}: the partner agencies' provider may only give the partner role, not {', '.join(staff)}",
            )
        if roles is not None and Role.PARTNER not in roles and agency is not None:
            self.problem(
                _line(values["agency"][1]),
                f"{where}: only a partner has an agency: add partner to its roles, or remove the agency",
            )
        if group is None or roles is None:
            return group, None
        return group, Grant(roles=frozenset(roles), team=team, service_area=area, agency=agency)

    def _text(
        self,
        where: str,
        key: str,
        found: tuple[yaml.Node, yaml.Node] | None,
        parent: yaml.Node,
        *,
        required: bool = True,
    ) -> str | None:
        """A text value, tidied (runs of spaces made one); a problem if it is missing, empty or not text."""
        if found is None:
            if required:
                self.problem(_line(parent), f"{where}: missing key '{key}'")
            return None
        value_node = found[1]
        if not isinstance(value_node, yaml.ScalarNode):
            self.problem(_line(value_node), f"{where}: '{key}' must be a single value, not a list or a mapping")
            return None
        if value_node.tag == _NULL_TAG or not str(value_node.value).strip():
            self.problem(_line(value_node), f"{where}: '{key}' is empty")
            return None
        if value_node.tag != _STR_TAG:
            self.problem(
                _line(value_node),
                f"{where}: '{key}' must be text: YAML reads {value_node.value} as a "
                f"{_KINDS.get(value_node.tag.rsplit(':', 1)[-1], 'value of another kind')}, "
                f"so write it in quotes ('{value_node.value}')",
            )
            return None
        return " ".join(str(value_node.value).split())

    def _roles(self, where: str, found: tuple[yaml.Node, yaml.Node] | None, parent: yaml.Node) -> list[Role] | None:
        if found is None:
            self.problem(_line(parent), f"{where}: missing key 'roles' (a list: {_ROLE_LIST})")
            return None
        node = found[1]
        if not isinstance(node, yaml.SequenceNode):
            self.problem(_line(node), f"{where}: 'roles' must be a list, for example roles: [auditor]")
            return None
        if not node.value:
            self.problem(_line(node), f"{where}: 'roles' is empty: give at least one role ({_ROLE_LIST})")
            return None
        roles: list[Role] = []
        ok = True
        for item in node.value:
            value = item.value if isinstance(item, yaml.ScalarNode) else None
            if not isinstance(value, str) or value not in {role.value for role in Role}:
                shown = value if isinstance(value, str) else "a list or mapping"
                hint = _did_you_mean(value, (role.value for role in Role)) if isinstance(value, str) else ""
                self.problem(_line(item), f"{where}: unknown role '{shown}'{hint}; the roles are {_ROLE_LIST}")
                ok = False
                continue
            if Role(value) not in roles:
                roles.append(Role(value))
        return roles if ok else None

    def _agency(self, where: str, found: tuple[yaml.Node, yaml.Node] | None) -> Agency | None:
        if found is None:
            return None
        node = found[1]
        value = node.value if isinstance(node, yaml.ScalarNode) and node.tag != _NULL_TAG else None
        if not isinstance(value, str) or value not in {agency.value for agency in Agency}:
            shown = value if isinstance(value, str) else ""
            hint = _did_you_mean(shown, (a.value for a in Agency)) if shown else ""
            self.problem(_line(node), f"{where}: unknown agency '{shown}'{hint}; the agencies are {_AGENCY_LIST}")
            return None
        return Agency(value)
