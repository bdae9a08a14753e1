"""Apps depend one way, from the bottom up (docs/architecture.md, "Layers"): no product module imports
a module of a layer above its own, at module level or inside a function. Read from the source with
``ast``, so an import hidden in a function body counts as much as one at the top of the file."""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Bottom to top. The longest matching prefix names a module's layer.
LAYERS: dict[str, int] = {
    "config": 0,  # settings, clock, env, storage, the Celery app
    "audit": 0,  # the audit trail: AuditLog, append/do_log, verify, checkpoints
    "accounts": 1,
    "cameras": 2,
    "recognition": 3,
    "hotlist": 4,
    "alerts": 5,  # also the processed frame's orchestration step (alerts/receivers.py)
    "deliveries": 6,
    "oversight": 7,  # the auditor's read search and exports, the audit log view, retention
    "frontend": 8,
    "config.urls": 9,  # the composition root: wires every app's URLs and websockets
    "config.asgi": 9,
}

# Plain-Python cores (no Django, no app): any layer may use them, and they use nothing but each other.
LIBRARIES = ("recognition.vision", "hotlist.matching", "hotlist.importing", "hotlist.formats")

# Never imported by the product (they import it).
OUTSIDE = ("training", "benchmarks", "tests")

APPS = sorted({name.split(".")[0] for name in LAYERS})


def _prefix(module: str, names) -> str | None:
    best = None
    for name in names:
        if (module == name or module.startswith(name + ".")) and (best is None or len(name) > len(best)):
            best = name
    return best


def layer_of(module: str) -> int | None:
    name = _prefix(module, LAYERS)
    return None if name is None else LAYERS[name]


def is_library(module: str) -> bool:
    return _prefix(module, LIBRARIES) is not None


def module_name(path: Path, root: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imports_of(path: Path, root: Path) -> list[tuple[int, str]]:
    """(line, absolute module) for every import in the file, wherever it stands."""
    module = module_name(path, root)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            # "from package import module" imports the module: judge the most precise name.
            found += [(node.lineno, f"{target}.{alias.name}") for alias in node.names]
    return found


def product_files(root: Path):
    for app in APPS:
        for path in sorted((root / app).rglob("*.py")):
            rel = path.relative_to(root).parts
            if "tests" in rel or "migrations" in rel or rel[-1].startswith("test_") or rel[-1] == "conftest.py":
                continue
            yield path


def violations(root: Path = ROOT) -> list[str]:
    found = []
    for path in product_files(root):
        here = module_name(path, root)
        mine = layer_of(here)
        for line, target in imports_of(path, root):
            top = target.split(".")[0]
            where = f"{path.relative_to(root)}:{line} imports {target}"
            if top in OUTSIDE:
                found.append(f"{where}: the product never imports {top}/")
                continue
            if is_library(here):
                if top == "django" or (top in APPS and not is_library(target)):
                    found.append(f"{where}: {here} is a plain-Python core (no Django, no app)")
                continue
            theirs = layer_of(target)
            if theirs is None or is_library(target) or (top == here.split(".")[0] and top != "config"):
                continue
            if theirs > mine:
                found.append(f"{where}: layer {theirs} is above {here}'s layer {mine}")
    return found


def test_no_app_imports_one_above_it():
    assert violations() == []


def test_every_app_has_a_layer():
    apps = {p.parent.name for p in ROOT.glob("*/apps.py")}
    assert apps <= set(APPS), f"add {sorted(apps - set(APPS))} to LAYERS (and docs/architecture.md)"


def _tree(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return tmp_path


def test_an_upward_import_inside_a_function_is_found(tmp_path):
    root = _tree(
        tmp_path,
        {
            "cameras/health.py": "def check():\n    from alerts.services import notify_admins\n",
            "alerts/services.py": "from cameras.models import Camera\n",
        },
    )
    assert violations(root) == [
        "cameras/health.py:2 imports alerts.services.notify_admins: layer 5 is above cameras.health's layer 2"
    ]


def test_relative_and_package_imports_are_resolved(tmp_path):
    root = _tree(
        tmp_path,
        {
            "audit/services.py": "from . import models\nfrom oversight import search\n",
            "oversight/search.py": "from .forms import SearchForm\nfrom recognition.vision import plates\n",
        },
    )
    assert violations(root) == [
        "audit/services.py:2 imports oversight.search: layer 7 is above audit.services's layer 0"
    ]


def test_cores_stay_plain_python(tmp_path):
    root = _tree(
        tmp_path,
        {
            "hotlist/matching/index.py": "from django.db import models\nfrom hotlist.importing import normalize_plate\n",
            "recognition/vision/ocr.py": "import cameras.models\nfrom benchmarks import vision\n",
        },
    )
    assert violations(root) == [
        "hotlist/matching/index.py:1 imports django.db.models: hotlist.matching.index is a plain-Python core "
        "(no Django, no app)",
        "recognition/vision/ocr.py:1 imports cameras.models: recognition.vision.ocr is a plain-Python core "
        "(no Django, no app)",
        "recognition/vision/ocr.py:2 imports benchmarks.vision: the product never imports benchmarks/",
    ]
