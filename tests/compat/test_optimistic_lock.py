"""The `Latest-Version-Number` optimistic lock of CreateHostedConfigurationVersion
(reference section 3; architecture.md section 4: a value lower or higher than the
latest is ConflictException 409, and a refused create appends nothing)."""

import pytest

from support import conflict, new_hosted, new_profile, new_version, ok, version_numbers


def create(client, app_id, profile_id, latest, content=b'{"v": 1}'):
    return new_version(client, app_id, profile_id, content, LatestVersionNumber=latest)


def test_latest_version_number_0_on_an_empty_profile_succeeds(client):
    app_id, profile_id = new_hosted(client)
    assert create(client, app_id, profile_id, 0)["VersionNumber"] == 1


def test_the_latest_version_number_succeeds_each_time(client):
    app_id, profile_id = new_hosted(client)
    for latest in range(5):
        assert create(client, app_id, profile_id, latest)["VersionNumber"] == latest + 1
    assert version_numbers(client, app_id, profile_id) == [5, 4, 3, 2, 1]


@pytest.mark.parametrize("stale", [0, 1, 2, 4, 100], ids=lambda n: f"given{n}")
def test_a_stale_latest_version_number_is_a_conflict_and_appends_nothing(client, stale):
    app_id, profile_id = new_hosted(client)
    for _ in range(3):
        new_version(client, app_id, profile_id)
    with conflict(client):
        create(client, app_id, profile_id, stale, b'{"lost": true}')
    assert version_numbers(client, app_id, profile_id) == [3, 2, 1]
    # The refusal used no number: the next version is 4.
    assert create(client, app_id, profile_id, 3)["VersionNumber"] == 4


def test_a_non_zero_latest_version_number_on_an_empty_profile_is_a_conflict(client):
    app_id, profile_id = new_hosted(client)
    with conflict(client):
        create(client, app_id, profile_id, 1)
    assert version_numbers(client, app_id, profile_id) == []


def test_without_latest_version_number_a_create_is_never_a_conflict(client):
    app_id, profile_id = new_hosted(client)
    create(client, app_id, profile_id, 0)
    assert new_version(client, app_id, profile_id)["VersionNumber"] == 2


def test_a_conflict_leaves_the_stored_content_untouched(client):
    app_id, profile_id = new_hosted(client)
    create(client, app_id, profile_id, 0, b"first")
    with conflict(client):
        create(client, app_id, profile_id, 0, b"second")
    got = ok(
        client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        ),
        200,
    )
    assert got["Content"].read() == b"first"


def test_the_lock_is_per_profile(client):
    app_id, p1 = new_hosted(client)
    p2 = new_profile(client, app_id, "second")
    create(client, app_id, p1, 0)
    create(client, app_id, p1, 1)
    assert create(client, app_id, p2, 0)["VersionNumber"] == 1
