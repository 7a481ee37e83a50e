"""The code's shape: no module imports another in a circle, counting imports inside functions; the
domains' rooms are where ARCHITECTURE.md says; no module grows past about 600 lines.

The layers themselves are import-linter's contracts in pyproject.toml, run by ``make test``
(``lint-imports``); this file checks what the contracts cannot: circles within a layer.
"""

from pathlib import Path

import grimp

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("config", "workflow", "cases", "notifications")
MAX_LINES = 600


def circles(edges):
    """The strongly connected components of more than one module (or a module importing itself),
    each sorted; ``edges`` maps a module to the modules it imports. Tarjan's algorithm, iterative."""
    index, low, on_stack, stack, found = {}, {}, set(), [], []
    counter = 0
    for start in sorted(edges):
        if start in index:
            continue
        work = [(start, iter(sorted(edges.get(start, ()))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            for child in children:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges.get(child, ())))))
                    break
                if child in on_stack:
                    low[node] = min(low[node], index[child])
            else:
                work.pop()
                if work:
                    low[work[-1][0]] = min(low[work[-1][0]], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    if len(component) > 1 or node in edges.get(node, ()):
                        found.append(sorted(component))
    return sorted(found)


def project_imports():
    graph = grimp.build_graph(*PACKAGES, include_external_packages=False)
    return {module: set(graph.find_modules_directly_imported_by(module)) for module in graph.modules}


def test_the_circle_finder_finds_circles_long_and_short_and_nothing_else():
    edges = {
        "a": {"b"},
        "b": {"c"},
        "c": {"a", "d"},  # a -> b -> c -> a
        "d": {"e"},
        "e": set(),
        "f": {"f"},  # a module importing itself
        "g": {"h"},
        "h": {"g"},  # g <-> h
    }
    assert circles(edges) == [["a", "b", "c"], ["f"], ["g", "h"]]
    assert circles({"a": {"b"}, "b": {"c"}, "c": set()}) == []


def test_the_graph_counts_an_import_inside_a_function():
    graph = grimp.build_graph("tests", include_external_packages=False)
    assert "tests.architecture_sample.late" in graph.find_modules_directly_imported_by("tests.architecture_sample.early")


def test_no_module_of_the_project_imports_another_in_a_circle():
    edges = project_imports()
    assert len(edges) > 200  # the graph is the project's, not an empty one
    assert circles(edges) == [], "import circles (a module of each is imported by another of it)"


def test_the_domains_have_their_rooms():
    for package in (
        "cases",
        "cases/financing",
        "cases/factors",
        "workflow/engine",
        "workflow/coordination",
        "workflow/monthly",
        "workflow/planning",
        "notifications",
    ):
        assert (ROOT / package / "__init__.py").is_file(), package
        for module in ("models", "services", "selectors", "apps"):
            assert (ROOT / package / f"{module}.py").is_file() or (ROOT / package / module).is_dir(), f"{package}/{module}"


def test_no_module_is_over_about_six_hundred_lines_and_no_views_module_beside_a_package():
    too_long, beside = [], []
    for package in PACKAGES:
        for path in (ROOT / package).rglob("*.py"):
            if "migrations" in path.parts:
                continue
            lines = path.read_text().count("\n")
            if lines > MAX_LINES:
                too_long.append((str(path.relative_to(ROOT)), lines))
            if path.stem.endswith(("_views", "_pages")):
                beside.append(str(path.relative_to(ROOT)))
    assert too_long == [] and beside == []
