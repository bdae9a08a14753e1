import pytest


@pytest.fixture(autouse=True)
def audit_checkpoint(settings, tmp_path):
    """Each test has its own checkpoint file (the database is new for each test too)."""
    settings.AUDIT_CHECKPOINT_PATH = str(tmp_path / "audit" / "checkpoint.json")
    return tmp_path / "audit" / "checkpoint.json"
