"""The areas of `app/` import each other in one direction only: a layer may import the layers below it, never one
above it, never a sibling in its own layer, so the import graph between areas has no cycle.

Every module in `app/` is read with `ast`; every import counts, at the top of the module, inside a function or
under `TYPE_CHECKING` alike, because a function-level import is as much a dependency as any other. The layers
(lowest first) are in `LAYERS`, and the README's Development section draws them. Two kinds of module sit outside
their area's layer:

- the lookup dependencies of every area (`<area>/lookups.py`: the object a route names, loaded and checked by the
  area's pure `permissions` rules, or 404) form one layer just below the routes: any route may use any of them, and
  they may use every area and `app.web`;
- an area's routes (`views.py`, `api.py`, `*_views.py`, and `home`/`health`) are the top of the area: they may
  read any area's services and selectors, `app.web` and `app.flows`;
- `app.web` holds plain tools (`WEB_TOOLS`: forms, query strings, PDFs, exports, CSRF, error pages) that any module
  may use, and request helpers that know about users and cases (`auth`, `csrf`, `nav`, `templating`, `errors`, `jobs`, ...), which
  only routes may use.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

APP = Path(__file__).resolve().parent.parent / "app"

FOUNDATION = "foundation"
ROUTES = "routes"
LOOKUPS = "lookups"
# Lowest first. Areas in one layer are independent of each other: neither imports the other.
LAYERS: list[tuple[str, ...]] = [
    (FOUNDATION,),
    ("audit_trail",),
    ("jobs",),
    ("accounts",),
    ("notifications",),
    ("cases",),
    ("audit_templates",),
    ("audits",),
    ("sampling",),
    ("escalations",),
    ("moderation",),
    ("recommendations",),
    ("records",),
    ("reports",),
    ("retention",),
    ("flows",),
    ("web",),
    (LOOKUPS,),
    (ROUTES,),
    ("demo", "models"),
    ("cli", "main"),
]
# Modules of their own at the top of app/ that anything may import (they import only each other).
FOUNDATION_MODULES = {
    "app",
    "app.clock",
    "app.config",
    "app.date_rules",
    "app.dates",
    "app.db",
    "app.errors",
    "app.input_types",
    "app.log_config",
    "app.mail",
    "app.numbers",
    "app.pagination",
    "app.working_days",
}
WEB_TOOLS = {
    "app.web",
    "app.web.body_limit",
    "app.web.documents",
    "app.web.exports",
    "app.web.forms",
    "app.web.input_guard",
    "app.web.pdf",
    "app.web.query",
    "app.web.routes",
}
ROUTE_AREAS = {"home", "health"}  # areas that are nothing but routes


@dataclass(frozen=True)
class Import:
    module: str
    line: int
    target: str

    def __str__(self) -> str:
        return f"{self.module} (line {self.line}) imports {self.target}"


def module_name(path: Path) -> str:
    parts = list(path.relative_to(APP.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def all_modules() -> dict[str, Path]:
    return {module_name(path): path for path in sorted(APP.rglob("*.py"))}


def imports_of(name: str, path: Path, known: set[str]) -> Iterator[Import]:
    """Every `app.*` module this one imports, wherever in the module the import is."""
    package = name.split(".") if path.name == "__init__.py" else name.split(".")[:-1]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                source = ".".join([*base, *([node.module] if node.module else [])])
            else:
                source = node.module or ""
            # `from app.audits import service`: the module app.audits.service, not only the package.
            targets = [
                f"{source}.{alias.name}" if f"{source}.{alias.name}" in known else source for alias in node.names
            ]
        else:
            continue
        for target in dict.fromkeys(targets):
            if target == "app" or target.startswith("app."):
                yield Import(name, node.lineno, target)


def is_route_module(name: str) -> bool:
    last = name.rsplit(".", 1)[-1]
    return last in ("views", "api") or last.endswith("_views")


def is_lookup_module(name: str) -> bool:
    return name.rsplit(".", 1)[-1] == "lookups"


def group_of(name: str) -> str:
    """The area a module counts for: its package under app/, `foundation`, or `<area> routes`."""
    if name in FOUNDATION_MODULES or name in WEB_TOOLS:
        return FOUNDATION
    area = name.split(".")[1]
    if is_lookup_module(name):
        return LOOKUPS
    if area in ROUTE_AREAS or (is_route_module(name) and area != "web"):
        return f"{area} {ROUTES}"
    return area


def layer_of(group: str) -> int | None:
    key = ROUTES if group.endswith(f" {ROUTES}") else group
    for index, layer in enumerate(LAYERS):
        if key in layer:
            return index
    return None


def upward(imp: Import) -> bool:
    """An import of a higher layer, or of another area in the same layer."""
    source, target = group_of(imp.module), group_of(imp.target)
    if source == target:
        return False
    low, high = layer_of(target), layer_of(source)
    assert low is not None and high is not None
    return low >= high


def app_imports() -> list[Import]:
    modules = all_modules()
    known = set(modules)
    return [imp for name, path in modules.items() for imp in imports_of(name, path, known)]


def cycles(imports: list[Import]) -> list[list[str]]:
    """The strongly connected components (more than one area) of the graph between areas (Tarjan)."""
    graph: dict[str, set[str]] = defaultdict(set)
    for imp in imports:
        source, target = group_of(imp.module), group_of(imp.target)
        if source != target:
            graph[source].add(target)
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in sorted(graph[node]):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                other = stack.pop()
                component.append(other)
                if other == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_every_module_has_a_layer():
    unplaced = sorted(name for name in all_modules() if layer_of(group_of(name)) is None)
    assert not unplaced, "Add these modules' areas to LAYERS in tests/test_layering.py: " + ", ".join(unplaced)


def test_no_area_imports_a_higher_one():
    wrong = [imp for imp in app_imports() if upward(imp)]
    report = "\n".join(f"  {imp}: {group_of(imp.module)} may not import {group_of(imp.target)}" for imp in wrong)
    assert not wrong, f"{len(wrong)} imports against the layers (lowest first: {LAYERS}):\n{report}"


def test_no_cycle_between_areas():
    imports = app_imports()
    found = cycles(imports)
    lines = []
    for component in found:
        members = set(component)
        inside = [
            imp
            for imp in imports
            if group_of(imp.module) in members
            and group_of(imp.target) in members
            and group_of(imp.module) != group_of(imp.target)
        ]
        closing = [imp for imp in inside if upward(imp)]  # the imports that close the cycle: move these
        lines.append(f"  {' <-> '.join(component)} ({len(inside) - len(closing)} imports down the layers, and):")
        lines += [f"    {imp}" for imp in closing]
    assert not found, "Areas that import each other:\n" + "\n".join(lines)


def test_the_walk_sees_function_level_imports():
    # app.db imports nothing above it, but the walk must see imports inside functions, or it would pass vacuously.
    inside = [imp for imp in app_imports() if imp.module == "app.cli" and imp.target == "app.models"]
    assert inside, "the import of app.models inside app.cli's function was not seen"
    assert len({imp.module for imp in app_imports()}) > 100
