"""Environments: Create/Get/List/Update/DeleteEnvironment (reference section 3, Operation
details - Environments)."""

from support import (
    ID,
    assert_resource_name,
    bad_request,
    body,
    new_app,
    new_env,
    not_found,
    ok,
    refused,
)

ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors"
ROLE = "arn:aws:iam::123456789012:role/appconfig-alarms"


def test_create_environment_answers_201_ready_for_deployment_with_every_member_given(client):
    app_id = new_app(client)
    monitors = [{"AlarmArn": ALARM, "AlarmRoleArn": ROLE}, {"AlarmArn": ALARM + "-2"}]
    resp = ok(
        client.create_environment(
            ApplicationId=app_id,
            Name="prod",
            Description="production",
            Monitors=monitors,
            Tags={"stage": "prod"},
        ),
        201,
    )
    assert ID.fullmatch(resp["Id"])
    assert body(resp) == {
        "ApplicationId": app_id,
        "Id": resp["Id"],
        "Name": "prod",
        "Description": "production",
        "State": "READY_FOR_DEPLOYMENT",
        "Monitors": monitors,
    }


def test_create_environment_with_only_a_name(client):
    app_id = new_app(client)
    resp = ok(client.create_environment(ApplicationId=app_id, Name="dev"), 201)
    assert resp["Name"] == "dev"
    assert resp["State"] == "READY_FOR_DEPLOYMENT"
    assert resp.get("Monitors", []) == []
    assert "Description" not in resp or resp["Description"] == ""


def test_get_environment_answers_200_with_what_was_created(client):
    app_id = new_app(client)
    created = ok(
        client.create_environment(
            ApplicationId=app_id, Name="prod", Description="d", Monitors=[{"AlarmArn": ALARM}]
        ),
        201,
    )
    got = ok(client.get_environment(ApplicationId=app_id, EnvironmentId=created["Id"]), 200)
    assert body(got) == body(created)


def test_list_environments_answers_200_with_full_environments(client):
    app_id = new_app(client)
    other = new_app(client, "other")
    new_env(client, other, "elsewhere")
    e1 = new_env(client, app_id, "one", Description="first", Monitors=[{"AlarmArn": ALARM}])
    e2 = new_env(client, app_id, "two")
    resp = ok(client.list_environments(ApplicationId=app_id), 200)
    assert "NextToken" not in resp
    items = {item["Id"]: item for item in resp["Items"]}
    assert items.keys() == {e1, e2}
    assert items[e1] == {
        "ApplicationId": app_id,
        "Id": e1,
        "Name": "one",
        "Description": "first",
        "State": "READY_FOR_DEPLOYMENT",
        "Monitors": [{"AlarmArn": ALARM}],
    }
    assert items[e2]["Name"] == "two" and items[e2]["State"] == "READY_FOR_DEPLOYMENT"


def test_update_environment_answers_200_and_changes_only_the_members_given(client):
    app_id = new_app(client)
    env_id = new_env(client, app_id, "old", Description="first", Monitors=[{"AlarmArn": ALARM}])

    resp = ok(client.update_environment(ApplicationId=app_id, EnvironmentId=env_id, Name="new"), 200)
    assert resp["Name"] == "new"
    assert resp["Description"] == "first"
    assert resp["Monitors"] == [{"AlarmArn": ALARM}]
    assert resp["State"] == "READY_FOR_DEPLOYMENT"

    # Monitors, when present, replace the list.
    monitors = [{"AlarmArn": ALARM + "-b", "AlarmRoleArn": ROLE}]
    resp = ok(
        client.update_environment(
            ApplicationId=app_id, EnvironmentId=env_id, Description="second", Monitors=monitors
        ),
        200,
    )
    assert resp["Name"] == "new" and resp["Description"] == "second"
    assert resp["Monitors"] == monitors

    resp = ok(client.update_environment(ApplicationId=app_id, EnvironmentId=env_id, Monitors=[]), 200)
    assert resp.get("Monitors", []) == []

    got = ok(client.get_environment(ApplicationId=app_id, EnvironmentId=env_id), 200)
    assert got["Name"] == "new" and got["Description"] == "second"
    assert got.get("Monitors", []) == []


def test_delete_environment_answers_204_and_the_environment_is_gone(client):
    app_id = new_app(client)
    env_id = new_env(client, app_id)
    resp = ok(client.delete_environment(ApplicationId=app_id, EnvironmentId=env_id), 204)
    assert body(resp) == {}
    with not_found(client) as info:
        client.get_environment(ApplicationId=app_id, EnvironmentId=env_id)
    assert_resource_name(info)
    assert ok(client.list_environments(ApplicationId=app_id), 200)["Items"] == []


def test_delete_environment_accepts_the_deletion_protection_check_header(client):
    app_id = new_app(client)
    env_id = new_env(client, app_id)
    with bad_request(client):
        client.delete_environment(ApplicationId=app_id, EnvironmentId=env_id, DeletionProtectionCheck="NEVER")
    ok(client.delete_environment(ApplicationId=app_id, EnvironmentId=env_id, DeletionProtectionCheck="BYPASS"), 204)


def test_environment_operations_on_a_missing_application_are_resource_not_found(client):
    calls = (
        lambda: client.create_environment(ApplicationId="nope123", Name="e"),
        lambda: client.list_environments(ApplicationId="nope123"),
        lambda: client.get_environment(ApplicationId="nope123", EnvironmentId="abc1234"),
    )
    for call in calls:
        with not_found(client) as info:
            call()
        assert_resource_name(info)


def test_get_update_and_delete_of_a_missing_environment_are_resource_not_found(client):
    app_id = new_app(client)
    calls = (
        lambda: client.get_environment(ApplicationId=app_id, EnvironmentId="nope123"),
        lambda: client.update_environment(ApplicationId=app_id, EnvironmentId="nope123", Name="x"),
        lambda: client.delete_environment(ApplicationId=app_id, EnvironmentId="nope123"),
    )
    for call in calls:
        with not_found(client) as info:
            call()
        assert_resource_name(info)


def test_an_environment_is_not_found_under_another_application(client):
    a, b = new_app(client, "a"), new_app(client, "b")
    env_id = new_env(client, a)
    with not_found(client):
        client.get_environment(ApplicationId=b, EnvironmentId=env_id)


def test_create_environment_with_bad_members_is_a_bad_request(client, loose_client):
    app_id = new_app(client)
    for members in (
        {"Name": "n" * 65},
        {"Description": "d" * 1025},
        {"Monitors": [{"AlarmArn": ALARM}] * 6},
        {"Monitors": [{"AlarmArn": "a" * 2049}]},
        {"Monitors": [{"AlarmArn": ALARM, "AlarmRoleArn": "arn:aws:s3:::not-a-role"}]},
        {"Tags": {f"k{i}": "v" for i in range(51)}},
    ):
        args = {"ApplicationId": app_id, "Name": "e", **members}
        with bad_request(client):
            client.create_environment(**args)
    with bad_request(loose_client):
        loose_client.create_environment(ApplicationId=app_id, Name="")
    with bad_request(loose_client):
        loose_client.create_environment(ApplicationId=app_id, Name="e", Monitors=[{"AlarmRoleArn": ROLE}])
    assert ok(client.list_environments(ApplicationId=app_id), 200)["Items"] == []
    ok(client.create_environment(ApplicationId=app_id, Name="n" * 64, Monitors=[{"AlarmArn": ALARM}] * 5), 201)


def test_update_environment_with_bad_members_is_a_bad_request(client):
    app_id = new_app(client)
    env_id = new_env(client, app_id, "kept")
    for members in ({"Name": "n" * 65}, {"Description": "d" * 1025}, {"Monitors": [{"AlarmArn": ALARM}] * 6}):
        with bad_request(client):
            client.update_environment(ApplicationId=app_id, EnvironmentId=env_id, **members)
    assert ok(client.get_environment(ApplicationId=app_id, EnvironmentId=env_id), 200)["Name"] == "kept"


def test_get_environment_with_a_65_character_id_is_a_bad_request(client):
    app_id = new_app(client)
    with bad_request(client):
        client.get_environment(ApplicationId=app_id, EnvironmentId="e" * 65)


def test_the_21st_environment_of_an_application_exceeds_the_service_quota(client):
    app_id = new_app(client)
    for i in range(20):
        new_env(client, app_id, f"env{i}")
    with refused(client, "ServiceQuotaExceededException", 402):
        client.create_environment(ApplicationId=app_id, Name="one too many")
    # The quota is per application.
    new_env(client, new_app(client, "other"), "fits")
