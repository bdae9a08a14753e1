"""Every environment variable the product reads is in the README's configuration
table, and `.env.example` and docker-compose.yml name only variables the
product reads: adding a setting without documenting it fails here."""

from __future__ import annotations

import re
from pathlib import Path

from config.storage import S3_VARIABLES
from recognition.vision.settings import ENVIRONMENT, RETIRED

ROOT = Path(__file__).resolve().parents[1]
# Research tooling and tests are not the product; they read their own variables.
NOT_PRODUCT = {"tests", "training", "benchmarks", "docs", "node_modules"}
NAME = r"([A-Z][A-Z0-9_]+)"
READS = [
    re.compile(rf"\benv_(?:str|int|bool|list|time_zone)\(\s*\"{NAME}\""),
    re.compile(rf"\bos\.environ\.get\(\s*\"{NAME}\""),
    re.compile(rf"\bos\.environ\[\s*\"{NAME}\"\s*\]"),
    re.compile(rf"\bos\.getenv\(\s*\"{NAME}\""),
]
# Set for the process by its own entry point, not by an operator.
SET_BY_ENTRY_POINTS = {"DJANGO_SETTINGS_MODULE"}


def product_files() -> list[Path]:
    files = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).parts
        if parts[0].startswith(".") or parts[0] in NOT_PRODUCT or "tests" in parts or "migrations" in parts:
            continue
        if path.name in ("conftest.py", "settings_test.py") or path.name.startswith("test_"):
            continue
        files.append(path)
    return files


def variables_read() -> set[str]:
    names: set[str] = set(S3_VARIABLES) | set(ENVIRONMENT)
    for path in product_files():
        text = path.read_text()
        for pattern in READS:
            names.update(pattern.findall(text))
        assert "os.environ.get(name" not in text or path.name == "env.py", f"{path}: a variable read by a computed name"
    return names - SET_BY_ENTRY_POINTS


def readme_table() -> set[str]:
    text = (ROOT / "README.md").read_text()
    section = text.split("\n## Configuration\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    return {name for row in rows for name in re.findall(rf"`{NAME}`", row.split(" | ")[0])}


def env_example() -> set[str]:
    return set(re.findall(rf"^#?\s*{NAME}=", (ROOT / ".env.example").read_text(), re.MULTILINE))


def test_the_scan_finds_the_settings_it_should():
    read = variables_read()
    # one of each way of reading: config/env.py helpers, os.environ, storage, vision settings
    assert {"SECRET_KEY", "DB_POOL_MAX_SIZE", "PORT", "S3_BUCKET", "ALPR_PRECISION"} <= read


def test_every_variable_the_product_reads_is_in_the_readme_table():
    missing = sorted(variables_read() - readme_table())
    assert not missing, f"read by the product but not in README.md's configuration table: {missing}"


def test_the_readme_table_documents_only_variables_the_product_reads():
    stale = sorted(readme_table() - variables_read())
    assert not stale, f"in README.md's configuration table but read by nothing: {stale}"


def test_env_example_names_the_operator_settings_and_nothing_stale():
    named = env_example()
    assert set(ENVIRONMENT) <= named, sorted(set(ENVIRONMENT) - named)
    assert {"SECRET_KEY", "ALLOWED_HOSTS", "DATABASE_URL", "REDIS_URL"} <= named
    stale = sorted(named - variables_read())
    assert not stale, f".env.example sets variables the product does not read: {stale}"


def test_docker_compose_names_only_variables_the_product_reads():
    text = (ROOT / "docker-compose.yml").read_text()
    app = text.split("x-app:", 1)[1].split("\nservices:", 1)[0]
    keys = set(re.findall(rf"^\s+{NAME}:", app, re.MULTILINE))
    assert keys and keys <= variables_read(), sorted(keys - variables_read())
    mentioned = set(re.findall(r"\b(ALPR_[A-Z0-9_]+)", text))
    assert not mentioned & set(RETIRED), sorted(mentioned & set(RETIRED))
    assert mentioned <= variables_read(), sorted(mentioned - variables_read())


def test_an_operator_sees_at_most_eight_vision_settings():
    assert len(ENVIRONMENT) <= 8
    vision_rows = {name for name in readme_table() if name in ENVIRONMENT or name in RETIRED}
    assert vision_rows == set(ENVIRONMENT)
