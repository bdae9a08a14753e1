"""One bad record already in the database (written before validation existed, or by hand) must not stop a
frame's recognition or the alerts of the other lists."""

import pytest
from django.db import connection

from alerts.models import Alert
from alerts.tests.test_alerts import make_list, push_frame
from cameras.models import Frame
from hotlist.models import Hotlist


def _unloadable_date() -> str:
    """A stored date that Python cannot hold: PostgreSQL's 'infinity'; on SQLite, year 0."""
    return "infinity" if connection.vendor == "postgresql" else "0000-01-01 00:00:00"


@pytest.mark.django_db
@pytest.mark.parametrize(
    "table, column",
    [("hotlist_entry", "entered_at"), ("hotlist_entry", "expires_at"), ("hotlist_hotlist", "expires_at")],
)
def test_a_frame_is_processed_and_other_lists_alert_despite_an_unloadable_date(
    client, camera_and_token, fake_pipeline, django_capture_on_commit_callbacks, table, column
):
    if connection.vendor != "postgresql" and column == "expires_at":
        pytest.skip("SQLite compares dates as text: such an expiry is simply never reached")
    _, token = camera_and_token
    make_list("Good")
    bad = make_list("Bad")
    row = bad.pk if table == "hotlist_entry" else bad.hotlist_id
    with connection.cursor() as cursor:
        cursor.execute(f"UPDATE {table} SET {column} = %s WHERE id = %s", [_unloadable_date(), row])
    fake_pipeline("ABC123")
    with django_capture_on_commit_callbacks(execute=True):
        response = push_frame(client, token)
    frame = Frame.objects.get(pk=response.json()["frame"])
    assert frame.status == Frame.Status.DONE
    assert list(Alert.objects.values_list("hotlist_name", flat=True)) == ["Good"]
    # and the next frame too: nothing is left stuck
    with django_capture_on_commit_callbacks(execute=True):
        second = push_frame(client, token)
    assert Frame.objects.get(pk=second.json()["frame"]).status == Frame.Status.DONE
    assert Hotlist.objects.filter(name="Good").exists()
