"""The list pages run a fixed number of queries, however many rows they show (no query per row).

Each page is loaded with a few rows and again with more: the count must not change, and is pinned, so that
a change which adds a query anywhere (or one per row) shows here and is a choice, not an accident.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from audit.services import append
from audit.tests.helpers import token
from cameras.services import do_create_camera
from hotlist.models import Entry, Hotlist, ImportJob

WHY = {"reason": "Case 26-1182 stolen car", "case_number": "26-1182"}


def queries(client, url: str, params: dict | None = None) -> int:
    """Queries of a page load, after a first load (which also sets up the session and the agency's rules)."""
    client.get(url, params or {})
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url, params or {})
    assert response.status_code == 200, response
    return len(captured)


def add_lists(n: int, admin) -> None:
    for _ in range(n):
        i = Hotlist.objects.count()
        hotlist = Hotlist.objects.create(name=f"List {i}")
        Entry.objects.bulk_create([Entry(hotlist=hotlist, plate=f"L{i}P{k}", plate_raw=f"L{i}P{k}") for k in range(3)])
        ImportJob.objects.create(
            hotlist_name=hotlist.name,
            hotlist=hotlist,
            original_name=f"list{i}.csv",
            file="imports/x.csv",
            created_by=admin,
        )


@pytest.mark.django_db
def test_the_hotlist_list_runs_a_fixed_number_of_queries(client, admin_user):
    client.force_login(admin_user)
    add_lists(2, admin_user)
    few = queries(client, "/hotlists/")
    add_lists(4, admin_user)
    # session, user, roles, the agency's login rules, the lists with their entry counts, the import jobs with
    # their users, saving the session (3)
    assert (few, queries(client, "/hotlists/")) == (9, 9)


@pytest.mark.django_db
def test_the_user_list_runs_a_fixed_number_of_queries(client, admin_user, make_user):
    client.force_login(admin_user)
    make_user("officer", "o1")
    few = queries(client, "/users/")
    for i in range(2, 6):
        make_user("officer" if i % 2 else "auditor", f"u{i}")
    # session, user, roles, the agency's login rules (twice), who has 2FA, the users, their roles (one query),
    # saving the session (3)
    assert (few, queries(client, "/users/")) == (11, 11)


@pytest.mark.django_db
def test_the_audit_log_runs_a_fixed_number_of_queries(client, auditor):
    client.force_login(auditor)
    for i in range(3):
        append(action="search.reads", user=auditor, query={"plate": f"A{i}"}, reason="routine")
    few = queries(client, "/audit/log/")
    for i in range(40):
        append(action="hotlist.upload", username="admin1", query={"list": f"L{i}"})
    # session, user, roles, the count, covert lists the auditor is not cleared for, the page, the actions,
    # saving the session (3)
    assert (few, queries(client, "/audit/log/")) == (10, 10)


@pytest.mark.django_db
def test_search_results_run_a_fixed_number_of_queries(client, auditor, camera, settings):
    from alerts.tests.test_alerts import make_list
    from alerts.tests.test_history import make_read, raise_alert

    settings.ALERT_DEDUP_SECONDS = 0  # each read its own alert
    entry = make_list("Stolen", plate="ABC123")
    when = timezone.now() - timedelta(hours=1)
    raise_alert(entry, camera, when)
    make_read(camera, "ABC124", when)
    client.force_login(auditor)
    few = queries(client, "/audit/reads/", {**token(client), **WHY, "plate": "ABC*"})
    other, _ = do_create_camera(name="Other")
    for i in range(3):
        raise_alert(entry, other, when - timedelta(minutes=i + 1))
        make_read(other, f"ABC5{i}", when - timedelta(minutes=i + 1))
    many = queries(client, "/audit/reads/", {**token(client), **WHY, "plate": "ABC*"})
    assert client.get("/audit/reads/", {**token(client), **WHY, "plate": "ABC*"}).context["total"] == 8
    # the session and roles, the count, the page, the hits of the page's reads (lists, clearance), the map and
    # chart aggregates, the audit record (chain end, insert, savepoints) and saving the session; on PostgreSQL
    # also the chain's lock and the page's keys (oversight.search.page_of)
    pinned = 19 + 2 * (connection.vendor == "postgresql")
    assert (few, many) == (pinned, pinned)


@pytest.mark.django_db
def test_the_camera_list_runs_four_queries_per_camera(client, admin_user):
    """Each camera's health is its own four queries (recent frame counts, last failure, latest thumbnail, open
    incident): pinned so that it grows no further. The rest: session, user, roles, the agency's login rules, the
    cameras, saving the session (3)."""
    client.force_login(admin_user)
    do_create_camera(name="One")
    one = queries(client, "/cameras/")
    for i in range(3):
        do_create_camera(name=f"More {i}")
    assert (one, queries(client, "/cameras/")) == (8 + 4, 8 + 4 * 4)
