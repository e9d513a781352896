"""Configuration profiles: Create/Get/List/Update/DeleteConfigurationProfile (reference
section 3, Operation details - Configuration profiles)."""

import json

from support import (
    ID,
    assert_resource_name,
    bad_request,
    body,
    conflict,
    new_app,
    new_profile,
    new_version,
    not_found,
    ok,
    refused,
)

SCHEMA = json.dumps({"type": "object", "required": ["on"]})
ROLE = "arn:aws:iam::123456789012:role/appconfig-read"


def test_create_configuration_profile_answers_201_with_every_member_given(client):
    app_id = new_app(client)
    resp = ok(
        client.create_configuration_profile(
            ApplicationId=app_id,
            Name="limits",
            Description="per-card limits",
            LocationUri="hosted",
            Type="AWS.Freeform",
            RetrievalRoleArn=ROLE,
            Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
            Tags={"team": "payments"},
        ),
        201,
    )
    assert ID.fullmatch(resp["Id"])
    assert resp["ApplicationId"] == app_id
    assert resp["Name"] == "limits"
    assert resp["Description"] == "per-card limits"
    assert resp["LocationUri"] == "hosted"
    assert resp["Type"] == "AWS.Freeform"
    assert resp["RetrievalRoleArn"] == ROLE
    assert resp["Validators"] == [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]
    assert "Tags" not in resp  # not a member of ConfigurationProfile


def test_create_configuration_profile_echoes_the_kms_key_identifier(client):
    app_id = new_app(client)
    resp = ok(
        client.create_configuration_profile(
            ApplicationId=app_id, Name="p", LocationUri="hosted", KmsKeyIdentifier="alias/config"
        ),
        201,
    )
    assert resp["KmsKeyIdentifier"] == "alias/config"


def test_get_configuration_profile_answers_200_with_the_full_profile(client):
    app_id = new_app(client)
    created = ok(
        client.create_configuration_profile(
            ApplicationId=app_id,
            Name="limits",
            Description="d",
            LocationUri="hosted",
            Type="AWS.AppConfig.FeatureFlags",
            Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
        ),
        201,
    )
    got = ok(
        client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=created["Id"]),
        200,
    )
    assert body(got) == body(created)
    assert got["Validators"] == [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]


def test_list_configuration_profiles_answers_200_with_summaries(client):
    app_id = new_app(client)
    p1 = new_profile(
        client,
        app_id,
        "one",
        Description="not in summaries",
        Type="AWS.Freeform",
        Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
    )
    p2 = new_profile(client, app_id, "two", Type="AWS.AppConfig.FeatureFlags")
    resp = ok(client.list_configuration_profiles(ApplicationId=app_id), 200)
    assert "NextToken" not in resp
    items = {item["Id"]: item for item in resp["Items"]}
    assert items.keys() == {p1, p2}
    one = items[p1]
    assert one["ApplicationId"] == app_id
    assert one["Name"] == "one"
    assert one["LocationUri"] == "hosted"
    assert one["Type"] == "AWS.Freeform"
    assert one["ValidatorTypes"] == ["JSON_SCHEMA"]
    assert "Description" not in one and "Validators" not in one
    assert items[p2]["Type"] == "AWS.AppConfig.FeatureFlags"


def test_list_configuration_profiles_filters_by_type(client):
    app_id = new_app(client)
    new_profile(client, app_id, "free", Type="AWS.Freeform")
    flags = new_profile(client, app_id, "flags", Type="AWS.AppConfig.FeatureFlags")
    pages = client.get_paginator("list_configuration_profiles").paginate(
        ApplicationId=app_id, Type="AWS.AppConfig.FeatureFlags"
    )
    assert [item["Id"] for page in pages for item in page["Items"]] == [flags]


def test_list_configuration_profiles_lists_only_the_applications_own(client):
    a, b = new_app(client, "a"), new_app(client, "b")
    pa = new_profile(client, a)
    new_profile(client, b)
    resp = ok(client.list_configuration_profiles(ApplicationId=a), 200)
    assert [item["Id"] for item in resp["Items"]] == [pa]


def test_update_configuration_profile_answers_200_and_changes_only_the_members_given(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id, "old", Description="first", Type="AWS.Freeform")
    resp = ok(
        client.update_configuration_profile(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Name="new",
            Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
            RetrievalRoleArn=ROLE,
        ),
        200,
    )
    assert resp["Id"] == profile_id
    assert resp["ApplicationId"] == app_id
    assert resp["Name"] == "new"
    assert resp["Description"] == "first"
    assert resp["LocationUri"] == "hosted"
    assert resp["Type"] == "AWS.Freeform"
    assert resp["RetrievalRoleArn"] == ROLE
    assert resp["Validators"] == [{"Type": "JSON_SCHEMA", "Content": SCHEMA}]

    # Validators, when present, replace the list.
    resp = ok(
        client.update_configuration_profile(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, Validators=[]
        ),
        200,
    )
    assert resp.get("Validators", []) == []
    got = ok(client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 200)
    assert got["Name"] == "new" and got["Description"] == "first"
    assert got.get("Validators", []) == []


def test_delete_configuration_profile_answers_204_and_the_profile_is_gone(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    resp = ok(
        client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id),
        204,
    )
    assert body(resp) == {}
    with not_found(client) as info:
        client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id)
    assert_resource_name(info)
    assert ok(client.list_configuration_profiles(ApplicationId=app_id), 200)["Items"] == []


def test_delete_configuration_profile_accepts_the_deletion_protection_check_header(client):
    app_id = new_app(client)
    for check in ("BYPASS", "APPLY", "ACCOUNT_DEFAULT"):
        profile_id = new_profile(client, app_id, check)
        ok(
            client.delete_configuration_profile(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, DeletionProtectionCheck=check
            ),
            204,
        )


def test_delete_configuration_profile_with_an_unknown_deletion_protection_check_is_a_bad_request(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    with bad_request(client):
        client.delete_configuration_profile(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, DeletionProtectionCheck="SOMETIMES"
        )
    ok(client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 200)


def test_deleting_a_profile_with_hosted_versions_is_a_conflict_until_they_are_deleted(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    v = new_version(client, app_id, profile_id)["VersionNumber"]
    with conflict(client):
        client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id)
    ok(client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 200)
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=v
        ),
        204,
    )
    ok(client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 204)


def test_profile_operations_on_a_missing_application_are_resource_not_found(client):
    calls = (
        lambda: client.create_configuration_profile(ApplicationId="nope123", Name="p", LocationUri="hosted"),
        lambda: client.list_configuration_profiles(ApplicationId="nope123"),
        lambda: client.get_configuration_profile(ApplicationId="nope123", ConfigurationProfileId="abc1234"),
    )
    for call in calls:
        with not_found(client) as info:
            call()
        assert_resource_name(info)


def test_get_update_and_delete_of_a_missing_profile_are_resource_not_found(client):
    app_id = new_app(client)
    calls = (
        lambda: client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId="nope123"),
        lambda: client.update_configuration_profile(
            ApplicationId=app_id, ConfigurationProfileId="nope123", Name="x"
        ),
        lambda: client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId="nope123"),
    )
    for call in calls:
        with not_found(client) as info:
            call()
        assert_resource_name(info)


def test_a_profile_is_not_found_under_another_application(client):
    a, b = new_app(client, "a"), new_app(client, "b")
    profile_id = new_profile(client, a)
    with not_found(client):
        client.get_configuration_profile(ApplicationId=b, ConfigurationProfileId=profile_id)


def test_create_configuration_profile_with_a_129_character_name_is_a_bad_request(client):
    app_id = new_app(client)
    with bad_request(client):
        client.create_configuration_profile(ApplicationId=app_id, Name="n" * 129, LocationUri="hosted")
    new_profile(client, app_id, "n" * 128)


def test_create_configuration_profile_with_bad_members_is_a_bad_request(client, loose_client):
    app_id = new_app(client)
    bad = [
        {"Description": "d" * 1025},
        {"LocationUri": "h" * 2049},
        {"RetrievalRoleArn": "arn:aws:s3:::bucket-not-a-role"},
        {"Type": "!not a type"},
        {"Validators": [{"Type": "JSON_SCHEMA", "Content": SCHEMA}] * 3},
        {"Validators": [{"Type": "XML_SCHEMA", "Content": SCHEMA}]},
        {"Validators": [{"Type": "JSON_SCHEMA", "Content": "x" * 32769}]},
        {"Tags": {f"k{i}": "v" for i in range(51)}},
    ]
    for members in bad:
        args = {"ApplicationId": app_id, "Name": "p", "LocationUri": "hosted", **members}
        with bad_request(client):
            client.create_configuration_profile(**args)
    with bad_request(loose_client):
        loose_client.create_configuration_profile(ApplicationId=app_id, Name="", LocationUri="hosted")
    with bad_request(loose_client):
        loose_client.create_configuration_profile(ApplicationId=app_id, Name="p", LocationUri="")
    assert ok(client.list_configuration_profiles(ApplicationId=app_id), 200)["Items"] == []


def test_update_configuration_profile_with_bad_members_is_a_bad_request(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id, "kept")
    for members in (
        {"Name": "n" * 129},
        {"Description": "d" * 1025},
        {"RetrievalRoleArn": "not-a-role-arn-at-all"},
        {"Validators": [{"Type": "LAMBDA", "Content": "arn:aws:lambda:us-east-1:123456789012:function:f"}] * 3},
    ):
        with bad_request(client):
            client.update_configuration_profile(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, **members
            )
    got = ok(client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 200)
    assert got["Name"] == "kept"


def test_get_configuration_profile_with_a_129_character_id_is_a_bad_request(client):
    app_id = new_app(client)
    with bad_request(client):
        client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId="p" * 129)


def test_update_configuration_profile_with_an_empty_kms_key_identifier_removes_the_key(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id, KmsKeyIdentifier="alias/config")
    resp = ok(
        client.update_configuration_profile(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, KmsKeyIdentifier=""
        ),
        200,
    )
    assert resp.get("KmsKeyIdentifier", "") == ""
    got = ok(client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 200)
    assert got.get("KmsKeyIdentifier", "") == ""


def test_create_configuration_profile_with_an_empty_kms_key_identifier_is_a_bad_request(loose_client):
    app_id = new_app(loose_client)
    with bad_request(loose_client):
        loose_client.create_configuration_profile(
            ApplicationId=app_id, Name="p", LocationUri="hosted", KmsKeyIdentifier=""
        )


def test_list_configuration_profiles_with_a_type_outside_the_pattern_is_a_bad_request(client):
    app_id = new_app(client)
    with bad_request(client):
        client.list_configuration_profiles(ApplicationId=app_id, Type="!flags")


def test_the_101st_profile_of_an_application_exceeds_the_service_quota(client):
    app_id = new_app(client)
    for i in range(100):
        new_profile(client, app_id, f"p{i}")
    with refused(client, "ServiceQuotaExceededException", 402):
        client.create_configuration_profile(ApplicationId=app_id, Name="one too many", LocationUri="hosted")
    # The quota is per application.
    new_profile(client, new_app(client, "other"), "fits")


def test_a_version_of_a_deleted_profile_is_resource_not_found(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    new_version(client, app_id, profile_id)
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        ),
        204,
    )
    ok(client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 204)
    with not_found(client):
        client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        )
    with not_found(client):
        client.list_hosted_configuration_versions(ApplicationId=app_id, ConfigurationProfileId=profile_id)
