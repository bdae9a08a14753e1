"""The database benchmarks run as ``python -m benchmarks.X`` modules; here on the test database, small."""

from __future__ import annotations

import json

import pytest

pytestmark = [pytest.mark.bench, pytest.mark.django_db]


def test_hotlist_import_benchmark_imports_its_rows_and_reports_them(capsys):
    from benchmarks import hotlist_import, run_command

    run_command(hotlist_import.Command(), "python -m benchmarks.hotlist_import", ["--rows", "40", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["rows"] == 40 and report["entries"] == 40 and report["mode"] == "replace"


@pytest.mark.django_db(transaction=True)  # on PostgreSQL it runs VACUUM, which no transaction may hold
def test_search_benchmark_fills_reads_and_times_every_kind_of_search(capsys):
    from benchmarks import run_command, search

    run_command(search.Command(), "python -m benchmarks.search", ["--reads", "300", "--queries", "2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert report["reads"] >= 300 and report["queries"] == 2 * len(search.KINDS)
    assert set(report["kinds"]) == set(search.KINDS)
