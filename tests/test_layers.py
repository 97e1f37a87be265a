"""The package's imports run downward: each module imports only modules of its layer's or a
lower one, so that it reads top to bottom and no change to a lower piece needs a higher one."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "act_connector"
# Lowest first; a module may import from its own layer (in an order without cycles) or below.
LAYERS = [
    ("foundations", {"errors", "timestamps", "allocator", "logs"}),
    ("configuration and catalogue", {"catalog", "config", "flatten"}),
    ("client", {"client", "discovery"}),
    ("paging and pages", {"paging", "pages", "listing", "progress", "metadata"}),
    ("state", {"packing", "known", "state", "plan", "context"}),
    ("emitter and followers", {"emitter", "followers", "links", "per_parent"}),
    ("tables", {"whole", "reconcile"}),
    ("sync", {"sync", "form", "databases"}),
]
LAYER_OF = {module: index for index, (_, modules) in enumerate(LAYERS) for module in modules}


def imports(module: str) -> set[str]:
    """The package's modules this one imports at run time (not under TYPE_CHECKING)."""
    tree = ast.parse((PACKAGE / f"{module}.py").read_text(encoding="utf-8"))
    found = set()
    for node in tree.body:  # top level only: an `if TYPE_CHECKING:` block is no import
        if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("act_connector."):
            found.add(node.module.removeprefix("act_connector."))
    return found


def test_every_module_has_a_layer():
    modules = {path.stem for path in PACKAGE.glob("*.py")} - {"__init__"}
    assert modules == set(LAYER_OF)


def test_imports_run_downward():
    upward = {
        f"{module} ({LAYERS[LAYER_OF[module]][0]}) imports {imported}"
        for module in LAYER_OF
        for imported in imports(module)
        if LAYER_OF[imported] > LAYER_OF[module]
    }
    assert upward == set()


def test_no_import_cycle():
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, " -> ".join((*path, module))
        if module not in done:
            for imported in imports(module):
                visit(imported, (*path, module))
            done.add(module)

    for module in LAYER_OF:
        visit(module, ())
