"""Read search: lenient mode (the hotlist matcher), hit filters, covert lists, case numbers, CSV export, map/chart."""

from datetime import UTC, datetime, timezone

import pytest

from alerts.models import Alert
from audit.models import AuditLog
from audit.tests.helpers import token
from cameras.models import Frame
from cameras.services import do_create_camera
from hotlist.matching import DEFAULT_LOOKALIKES, HotlistIndex, MatchPolicy
from hotlist.models import Entry, Hotlist
from oversight.search import (
    CANON_FROM,
    CANON_TO,
    SearchSpec,
    canonical,
    canonical_neighbours,
    capped_count,
    lenient_texts,
    search_reads,
)
from oversight.search_views import safe_cell
from recognition.models import Read
from recognition.tests.factories import make_read

WHY = {"reason": "Case 26-1182 stolen car", "case_number": "26-1182"}


def t(hour, minute=0):
    return datetime(2026, 11, 20, hour, minute, tzinfo=UTC)


def hit(read, name, *, covert=False, visible_to=()):
    hotlist, _ = Hotlist.objects.get_or_create(name=name, defaults={"covert": covert})
    for user in visible_to:
        hotlist.visible_to.add(user)
    entry = Entry.objects.create(hotlist=hotlist, plate=read.text, plate_raw=read.text)
    return Alert.objects.create(
        read=read, entry=entry, hotlist=hotlist, hotlist_name=name, entry_plate=read.text, covert=covert
    )


@pytest.fixture
def reads(camera):
    other, _ = do_create_camera(name="Other", latitude=40.1, longitude=-75.2)
    r = {
        "exact": make_read(camera, "ABC123", t(8), crop="crops/2026/11/20/a.jpg"),
        "misread": make_read(camera, "A8C123", t(9, 10)),  # 8 for B: a look-alike
        "double": make_read(other, "A8CI23", t(9, 40)),  # two look-alikes
        "edit": make_read(other, "ABC1234", t(10)),  # one extra character
        "plain": make_read(other, "XYZ789", t(11)),
        "second": make_read(camera, "QQQ000", t(12), candidates=[["QQQ000", 0.8], ["ABC123", 0.6]]),
    }
    return camera, other, r


def search(client, **query):
    return client.get("/audit/reads/", {**token(client), **WHY, **query})


def texts(response):
    return sorted(r.text for r in response.context["results"])


def test_canonical_form_matches_the_matcher_lookalike_components():
    comp = DEFAULT_LOOKALIKES.components()
    assert all(canonical(a) == canonical(b) for a in comp for b in comp if comp[a] == comp[b])
    assert len({canonical(c) for c in comp}) == len(set(comp.values()))
    import pathlib

    from recognition.migrations import __path__ as mig_path

    sql = (pathlib.Path(mig_path[0]) / "0002_search_indexes.py").read_text()
    assert f"TRANSLATE(text, '{CANON_FROM}', '{CANON_TO}')" in sql


def test_canonical_neighbourhood_contains_every_text_within_the_edit_budget():
    near = canonical_neighbours(canonical("ABC123"), 1)
    for read in ["ABC1234", "ABC12", "AXC123", "XABC123"]:
        assert canonical(read) in near
    assert canonical("XYC123") not in near


@pytest.mark.django_db
def test_lenient_search_finds_a_lookalike_misread_and_explains_it(client, auditor, reads):
    client.force_login(auditor)
    response = search(client, plate="ABC123", mode="lenient", lookalikes=1, edits=0)
    assert response.status_code == 200
    assert texts(response) == ["A8C123", "ABC123"]
    by_text = {r.text: r for r in response.context["results"]}
    assert by_text["A8C123"].match.kind == "lookalike"
    assert "read 8 where the list has B" in by_text["A8C123"].match.description
    assert "read 8 where the list has B (look-alike)" in response.content.decode()
    log = AuditLog.objects.get(action="search.reads")
    assert log.query["mode"] == "lenient" and log.query["case_number"] == "26-1182" and log.result_count == 2


@pytest.mark.django_db
def test_lenient_budgets_follow_the_form(client, auditor, reads):
    client.force_login(auditor)
    assert texts(search(client, plate="ABC123", mode="lenient", lookalikes=2, edits=0)) == [
        "A8C123",
        "A8CI23",
        "ABC123",
    ]
    # look-alikes beyond the look-alike budget may use unused edit budget (the matcher's rule)
    assert texts(search(client, plate="ABC123", mode="lenient", lookalikes=1, edits=1)) == [
        "A8C123",
        "A8CI23",
        "ABC123",
        "ABC1234",
    ]
    assert texts(search(client, plate="ABC123", mode="lenient", lookalikes=0, edits=1)) == [
        "A8C123",
        "ABC123",
        "ABC1234",
    ]
    assert texts(search(client, plate="ABC123", mode="lenient", lookalikes=0, edits=0)) == ["ABC123"]


@pytest.mark.django_db
def test_lenient_results_equal_the_matcher(reads):
    stored = list(Read.objects.values_list("text", flat=True))
    for la in range(3):
        for ed in range(3):
            spec = SearchSpec(plate="ABC123", mode="lenient", lookalikes=la, edits=ed)
            index = HotlistIndex.build([(0, "ABC123", MatchPolicy.lenient(lookalike=la, edits=ed))])
            assert lenient_texts(Read.objects.all(), spec) == sorted({s for s in stored if index.match(s)})


@pytest.mark.django_db
def test_lenient_wildcard_allows_lookalikes(client, auditor, reads):
    client.force_login(auditor)
    assert texts(search(client, plate="AB*", mode="lenient")) == ["A8C123", "A8CI23", "ABC123", "ABC1234"]
    assert texts(search(client, plate="AB*", mode="lenient", lookalikes=0)) == ["ABC123", "ABC1234"]
    assert texts(search(client, plate="AB*", mode="wildcard")) == ["ABC123", "ABC1234"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    "query, expected",
    [
        ({"plate": "ABC123"}, ["ABC123"]),
        ({"plate": "abc-123", "mode": "exact"}, ["ABC123"]),
        ({"plate": "ABC12?", "mode": "wildcard"}, ["ABC123"]),
        ({"plate": "*C12*"}, ["A8C123", "ABC123", "ABC1234"]),
        ({"plate": "A*3"}, ["A8C123", "A8CI23", "ABC123"]),
    ],
)
def test_exact_and_wildcard_still_work(client, auditor, reads, query, expected):
    client.force_login(auditor)
    assert texts(search(client, **query)) == expected


@pytest.mark.django_db
def test_hits_only_and_list_filters(client, auditor, reads):
    _camera, _other, r = reads
    hit(r["exact"], "Stolen")
    hit(r["plain"], "Wanted")
    client.force_login(auditor)
    response = search(client, hits_only="on")
    assert texts(response) == ["ABC123", "XYZ789"]
    shown = {x.text: x.hit_lists for x in response.context["results"]}
    assert shown == {"ABC123": "Stolen", "XYZ789": "Wanted"}
    wanted = Hotlist.objects.get(name="Wanted")
    assert texts(search(client, hotlist=wanted.pk)) == ["XYZ789"]
    assert texts(search(client, hotlist=wanted.pk, plate="ABC*")) == []
    everything = search(client, plate="*")
    assert {x.text: x.hit_lists for x in everything.context["results"]}["QQQ000"] == ""


@pytest.mark.django_db
def test_covert_hits_are_hidden_from_uncleared_auditors(client, make_user, reads):
    _camera, _other, r = reads
    cleared = make_user("auditor", "cleared")
    uncleared = make_user("auditor", "uncleared")
    hit(r["plain"], "Covert ops", covert=True, visible_to=[cleared])
    hit(r["exact"], "Stolen")
    covert = Hotlist.objects.get(name="Covert ops")

    client.force_login(uncleared)
    response = search(client, hits_only="on")
    assert texts(response) == ["ABC123"]
    response = search(client, plate="XYZ789")
    assert [x.hit_lists for x in response.context["results"]] == [""]
    assert "Covert ops" not in response.content.decode()
    response = search(client, hotlist=covert.pk)
    assert "hotlist" in response.context["form"].errors and response.context["results"] is None
    assert all(p["hits"] == 0 for p in search(client, plate="XYZ789").context["map_points"]["points"])
    export = client.get("/audit/reads/export.csv", {**token(client), **WHY, "plate": "XYZ789"})
    assert "Covert ops" not in b"".join(export.streaming_content).decode()

    client.force_login(cleared)
    assert texts(search(client, hits_only="on")) == ["ABC123", "XYZ789"]
    assert [x.hit_lists for x in search(client, hotlist=covert.pk).context["results"]] == ["Covert ops"]


@pytest.mark.django_db
@pytest.mark.parametrize("missing", [{"case_number": ""}, {"case_number": "   "}, {"reason": ""}])
def test_reason_and_case_number_are_required(client, auditor, reads, missing):
    client.force_login(auditor)
    response = client.get("/audit/reads/", {**token(client), **WHY, "plate": "ABC123", **missing})
    assert response.context["results"] is None
    assert set(missing) <= set(response.context["form"].errors)
    assert not AuditLog.objects.filter(action="search.reads").exists()


@pytest.mark.django_db
def test_case_number_is_limited_to_50_characters(client, auditor, reads):
    client.force_login(auditor)
    response = client.get("/audit/reads/", {**token(client), **WHY, "case_number": "X" * 51})
    assert "case_number" in response.context["form"].errors


@pytest.mark.django_db
def test_results_show_the_crop_and_paginate(client, auditor, camera):
    for i in range(120):
        make_read(camera, f"PAG{i:03d}", t(1, 0).replace(hour=i // 60, minute=i % 60))
    client.force_login(auditor)
    first = search(client, plate="PAG*")
    assert first.context["total"] == 120 and first.context["last_page"] == 3
    assert len(first.context["results"]) == 50 and first.context["results"][0].text == "PAG119"
    third = client.get("/audit/reads/", {**token(client), **WHY, "plate": "PAG*", "page": 3})
    assert [r.text for r in third.context["results"]][-1] == "PAG000"
    assert third.context["page_number"] == 3


@pytest.mark.django_db
def test_crop_is_linked_through_the_media_view(client, auditor, reads):
    client.force_login(auditor)
    assert "/media/crops/2026/11/20/a.jpg" in search(client, plate="ABC123").content.decode()


@pytest.mark.django_db
def test_map_and_chart_data(client, auditor, reads):
    camera, other, r = reads
    hit(r["plain"], "Wanted")
    client.force_login(auditor)
    response = search(client, plate="*")
    points = {p["camera"]: p for p in response.context["map_points"]["points"]}
    assert points[camera.name]["reads"] == 3 and points[camera.name]["lat"] == 40.0
    assert points["Other"] == {
        "camera": "Other",
        "camera_id": other.pk,
        "reads": 3,
        "hits": 1,
        "lat": 40.1,
        "lon": -75.2,
    }
    chart = response.context["chart"]
    assert chart["hours"][0].startswith("2026-11-20T08") and len(chart["hours"]) == 5  # 08..12 h
    series = {s["camera"]: s for s in chart["series"]}
    assert series["Other"]["reads"] == [0, 1, 1, 1, 0] and series["Other"]["hits"] == [0, 0, 0, 1, 0]
    assert series[camera.name]["reads"] == [1, 1, 0, 0, 1]
    html = response.content.decode()
    assert 'id="search-map-data"' in html and 'id="search-chart-data"' in html
    assert "search_map.js" in html and "search_chart.js" in html
    assert "tile.openstreetmap" not in html and "cdn" not in html.lower()


@pytest.mark.django_db
def test_export_is_formula_safe_logged_and_streamed(client, auditor, camera):
    evil = make_read(camera, "EVIL1", t(8), candidates=[["=HYPERLINK(1)", 0.5]])
    hit(evil, "=cmd|' /C calc'!A0")
    client.force_login(auditor)
    response = client.get("/audit/reads/export.csv", {**token(client), **WHY, "plate": "EVIL1"})
    assert response.status_code == 200 and response.streaming
    assert response["Content-Type"].startswith("text/csv")
    body = b"".join(response.streaming_content).decode()
    assert "'=cmd" in body and ",=cmd" not in body
    assert "'=HYPERLINK" in body
    log = AuditLog.objects.get(action="export.reads")
    assert log.reason == WHY["reason"] and log.query["case_number"] == "26-1182" and log.result_count == 1
    for cell in ["=1+1", "+1", "-1", "@SUM(A1)", "\tx", "\rx"]:
        assert safe_cell(cell).startswith("'")
    assert safe_cell("ABC123") == "ABC123"


@pytest.mark.django_db
@pytest.mark.parametrize("missing", [{"case_number": ""}, {"reason": ""}])
def test_export_without_reason_or_case_is_refused(client, auditor, reads, missing):
    client.force_login(auditor)
    response = client.get("/audit/reads/export.csv", {**token(client), **WHY, "plate": "ABC123", **missing})
    assert response.status_code == 400
    assert not AuditLog.objects.filter(action="export.reads").exists()
    assert client.get("/audit/reads/export.csv").status_code == 400


@pytest.mark.django_db
def test_export_is_capped_with_a_note(client, auditor, reads, monkeypatch):
    monkeypatch.setattr("oversight.search_views.EXPORT_CAP", 2)
    client.force_login(auditor)
    body = b"".join(
        client.get("/audit/reads/export.csv", {**token(client), **WHY, "plate": "*"}).streaming_content
    ).decode()
    lines = body.strip().splitlines()
    assert len(lines) == 1 + 2 + 1 and "capped at 2 rows" in lines[-1]
    assert AuditLog.objects.get(action="export.reads").result_count == 2


@pytest.mark.django_db
def test_officers_cannot_search_or_export(client, officer, reads):
    client.force_login(officer)
    assert client.get("/audit/reads/", {**token(client), **WHY}).status_code == 403
    assert client.get("/audit/reads/export.csv", {**token(client), **WHY}).status_code == 403


@pytest.mark.django_db
def test_capped_count(reads):
    assert capped_count(search_reads(plate="*"), cap=4) == (4, True)
    assert capped_count(search_reads(plate="*"), cap=10) == (6, False)


@pytest.mark.django_db
def test_export_keeps_numbers_numeric_and_links_each_row_to_its_frame_and_alert(client, auditor, reads):
    import csv
    import io

    camera, _other, r = reads
    Camera = type(camera)
    Camera.objects.filter(pk=camera.pk).update(latitude=40.7128, longitude=-74.01)
    alert = hit(r["exact"], "Stolen")
    client.force_login(auditor)
    body = b"".join(
        client.get("/audit/reads/export.csv", {**WHY, "plate": "ABC123", **token(client)}).streaming_content
    ).decode()
    rows = list(csv.DictReader(io.StringIO(body)))
    assert len(rows) == 1
    row = rows[0]
    assert row["longitude"] == "-74.01" and row["latitude"] == "40.7128" and row["confidence"] == "0.9"
    assert float(row["longitude"]) == -74.01
    assert row["frame_url"] == "http://testserver/media/frames/x.jpg"
    assert row["crop_url"] == "http://testserver/media/crops/2026/11/20/a.jpg"
    assert row["alert_urls"] == f"http://testserver/alerts/{alert.pk}/"
