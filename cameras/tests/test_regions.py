"""A camera's region setting: an ordered list of country codes, groups kept."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

from cameras.models import Camera
from cameras.services import do_create_camera
from conftest import FakePipeline


@pytest.mark.django_db
def test_admin_sets_countries_likeliest_first_and_they_are_stored_tidy(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/cameras/new/", {"name": "Border", "region": " FR, be ,DE", "enabled": "on", "silence_minutes": 10}
    )
    assert response.status_code == 200 and "token" in response.context
    camera = Camera.objects.get(name="Border")
    assert camera.region == "fr,be,de"
    assert camera.countries == ("fr", "be", "de")


@pytest.mark.django_db
def test_an_unknown_country_code_is_refused_with_a_clear_error(client, admin_user):
    client.force_login(admin_user)
    response = client.post(
        "/cameras/new/", {"name": "Border", "region": "fr,uk,xx", "enabled": "on", "silence_minutes": 10}
    )
    assert response.status_code == 200 and not Camera.objects.filter(name="Border").exists()
    error = " ".join(response.context["form"].errors["region"])
    assert "'uk', 'xx'" in error and "ISO 3166-1" in error


@pytest.mark.django_db
def test_add_camera_takes_a_country_list_and_refuses_unknown_codes(capsys):
    call_command("add_camera", "--name", "Gate 3", "--region", "US-CA, us-nv,us")
    assert Camera.objects.get(name="Gate 3").region == "us-ca,us-nv,us"
    with pytest.raises(CommandError, match="unknown region codes 'zz', 'us-zz'"):
        call_command("add_camera", "--name", "Gate 4", "--region", "fr,zz,us-zz")
    assert not Camera.objects.filter(name="Gate 4").exists()


@pytest.mark.django_db
def test_groups_and_an_empty_setting_stay_valid():
    for region in ("us", "eu", "br", "na", ""):
        camera, _ = do_create_camera(name=f"Cam {region or 'any'}", region=region)
        assert camera.region == region


@pytest.mark.django_db(transaction=True)
def test_existing_cameras_keep_the_group_they_had():
    executor = MigrationExecutor(connection)
    executor.migrate([("cameras", "0006_claim_token")])
    old = executor.loader.project_state([("cameras", "0006_claim_token")]).apps.get_model("cameras", "Camera")
    for i, region in enumerate(("us", "eu", "br", "other")):
        old.objects.create(name=f"Old {region}", region=region, token_hash=f"{i:064d}", token_hint="x")
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
    regions = dict(Camera.objects.filter(name__startswith="Old ").values_list("name", "region"))
    assert regions == {"Old us": "us", "Old eu": "eu", "Old br": "br", "Old other": ""}
    # and back: a country list becomes its first code's group
    Camera.objects.filter(name="Old us").update(region="us-ca,us")
    Camera.objects.filter(name="Old eu").update(region="fr,be")
    executor = MigrationExecutor(connection)
    executor.migrate([("cameras", "0006_claim_token")])
    back = executor.loader.project_state([("cameras", "0006_claim_token")]).apps.get_model("cameras", "Camera")
    assert dict(back.objects.filter(name__startswith="Old ").values_list("name", "region")) == {
        "Old us": "us",
        "Old eu": "eu",
        "Old br": "br",
        "Old other": "other",
    }
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())


@pytest.mark.django_db
def test_reads_record_the_country_their_plate_fits(
    client, camera_and_token, monkeypatch, django_capture_on_commit_callbacks
):
    from alerts.tests.test_alerts import push_frame
    from recognition.models import Read

    camera, token = camera_and_token
    Camera.objects.filter(pk=camera.pk).update(region="it,fr")
    seen = {}

    class CountryPipeline(FakePipeline):
        def read(self, image, region=None):
            from dataclasses import replace

            from recognition.vision.pipeline import read_country

            seen["region"] = region
            return [replace(r, country=read_country(r.text, region)) for r in super().read(image, region)]

    monkeypatch.setattr("recognition.services.pipeline", lambda: CountryPipeline("AB123CD", "HELLO1"))
    with django_capture_on_commit_callbacks(execute=True):
        push_frame(client, token)
    assert seen["region"] == "it,fr"
    assert dict(Read.objects.values_list("text", "country")) == {"AB123CD": "it", "HELLO1": ""}
