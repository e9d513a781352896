"""Hosted configuration versions: Create/Get/List/DeleteHostedConfigurationVersion
(reference section 3, Operation details - Hosted configuration versions): a raw body and
header-bound members both ways."""

from support import (
    MiB,
    assert_resource_name,
    bad_request,
    body,
    new_hosted,
    new_profile,
    new_version,
    not_found,
    ok,
    refused,
    version_numbers,
)

CONTENT = b'{"limit": 100, "currency": "EUR"}'


def test_create_hosted_version_answers_201_with_header_members_and_the_raw_content(client):
    app_id, profile_id = new_hosted(client)
    resp = ok(
        client.create_hosted_configuration_version(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Content=CONTENT,
            ContentType="application/json",
            Description="first limits",
            VersionLabel="v1.0",
        ),
        201,
    )
    assert resp["ApplicationId"] == app_id
    assert resp["ConfigurationProfileId"] == profile_id
    assert resp["VersionNumber"] == 1
    assert resp["Description"] == "first limits"
    assert resp["ContentType"] == "application/json"
    assert resp["VersionLabel"] == "v1.0"
    assert resp["Content"].read() == CONTENT
    headers = resp["ResponseMetadata"]["HTTPHeaders"]
    assert headers["application-id"] == app_id
    assert headers["configuration-profile-id"] == profile_id
    assert headers["version-number"] == "1"
    assert headers["versionlabel"] == "v1.0"
    assert headers["content-length"] == str(len(CONTENT))


def test_create_hosted_version_without_optional_members_omits_their_headers(client):
    app_id, profile_id = new_hosted(client)
    resp = new_version(client, app_id, profile_id, b"plain", "text/plain")
    assert resp["VersionNumber"] == 1
    assert resp["ContentType"] == "text/plain"
    assert resp["Content"] == b"plain"
    assert "VersionLabel" not in resp
    assert "Description" not in resp or resp["Description"] == ""


def test_get_hosted_version_answers_200_with_the_same_headers_and_content(client):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id, CONTENT, Description="d", VersionLabel="stable")
    resp = ok(
        client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        ),
        200,
    )
    assert resp["ApplicationId"] == app_id
    assert resp["ConfigurationProfileId"] == profile_id
    assert resp["VersionNumber"] == 1
    assert resp["Description"] == "d"
    assert resp["ContentType"] == "application/json"
    assert resp["VersionLabel"] == "stable"
    assert resp["Content"].read() == CONTENT
    assert resp["ResponseMetadata"]["HTTPHeaders"]["content-length"] == str(len(CONTENT))


def test_hosted_version_content_is_stored_byte_for_byte(client):
    app_id, profile_id = new_hosted(client)
    blob = bytes(range(256)) * 64 + b"\x00\xff\r\n"
    resp = new_version(client, app_id, profile_id, blob, "application/octet-stream")
    assert resp["Content"] == blob
    got = client.get_hosted_configuration_version(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=resp["VersionNumber"]
    )
    assert got["ContentType"] == "application/octet-stream"
    assert got["Content"].read() == blob


def test_hosted_version_content_of_exactly_2_mib_is_accepted(client):
    app_id, profile_id = new_hosted(client)
    blob = b"x" * (2 * MiB)
    resp = new_version(client, app_id, profile_id, blob, "text/plain")
    assert resp["Content"] == blob
    got = client.get_hosted_configuration_version(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=resp["VersionNumber"]
    )
    assert got["Content"].read() == blob


def test_hosted_version_content_of_2_mib_and_one_byte_is_payload_too_large(client):
    app_id, profile_id = new_hosted(client)
    with refused(client, "PayloadTooLargeException", 413) as info:
        client.create_hosted_configuration_version(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Content=b"x" * (2 * MiB + 1),
            ContentType="text/plain",
        )
    err = info.value.response
    assert err["Measure"] == "KILOBYTES"
    assert isinstance(err["Limit"], (int, float)) and isinstance(err["Size"], (int, float))
    assert err["Limit"] == 2048
    assert err["Size"] > err["Limit"]
    assert version_numbers(client, app_id, profile_id) == []


def test_list_hosted_versions_answers_200_with_summaries_newest_first(client):
    app_id, profile_id = new_hosted(client)
    for i in range(1, 4):
        new_version(client, app_id, profile_id, b"%d" % i, "text/plain", Description=f"d{i}", VersionLabel=f"l{i}")
    resp = ok(
        client.list_hosted_configuration_versions(ApplicationId=app_id, ConfigurationProfileId=profile_id),
        200,
    )
    assert "NextToken" not in resp
    assert [item["VersionNumber"] for item in resp["Items"]] == [3, 2, 1]
    for item in resp["Items"]:
        n = item["VersionNumber"]
        assert item == {
            "ApplicationId": app_id,
            "ConfigurationProfileId": profile_id,
            "VersionNumber": n,
            "Description": f"d{n}",
            "ContentType": "text/plain",
            "VersionLabel": f"l{n}",
        }


def test_list_hosted_versions_of_an_empty_profile_is_an_empty_list(client):
    app_id, profile_id = new_hosted(client)
    resp = ok(
        client.list_hosted_configuration_versions(ApplicationId=app_id, ConfigurationProfileId=profile_id),
        200,
    )
    assert resp["Items"] == [] and "NextToken" not in resp


def test_delete_hosted_version_answers_204_and_the_version_is_gone(client):
    app_id, profile_id = new_hosted(client)
    for _ in range(3):
        new_version(client, app_id, profile_id)
    resp = ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=2
        ),
        204,
    )
    assert body(resp) == {}
    with not_found(client) as info:
        client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=2
        )
    assert_resource_name(info)
    assert version_numbers(client, app_id, profile_id) == [3, 1]
    with not_found(client):
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=2
        )


def test_version_numbers_are_never_reused_after_a_delete(client):
    app_id, profile_id = new_hosted(client)
    assert [new_version(client, app_id, profile_id)["VersionNumber"] for _ in range(3)] == [1, 2, 3]
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=3
        ),
        204,
    )
    assert new_version(client, app_id, profile_id)["VersionNumber"] == 4
    assert version_numbers(client, app_id, profile_id) == [4, 2, 1]


def test_version_numbers_are_counted_per_profile(client):
    app_id, p1 = new_hosted(client)
    p2 = new_profile(client, app_id, "other")
    assert new_version(client, app_id, p1)["VersionNumber"] == 1
    assert new_version(client, app_id, p1)["VersionNumber"] == 2
    assert new_version(client, app_id, p2)["VersionNumber"] == 1


def test_hosted_version_operations_on_a_missing_application_or_profile_are_resource_not_found(client):
    app_id, profile_id = new_hosted(client)
    for app, prof in (("nope123", profile_id), (app_id, "nope123")):
        calls = (
            lambda: client.create_hosted_configuration_version(
                ApplicationId=app, ConfigurationProfileId=prof, Content=b"{}", ContentType="application/json"
            ),
            lambda: client.get_hosted_configuration_version(
                ApplicationId=app, ConfigurationProfileId=prof, VersionNumber=1
            ),
            lambda: client.list_hosted_configuration_versions(ApplicationId=app, ConfigurationProfileId=prof),
            lambda: client.delete_hosted_configuration_version(
                ApplicationId=app, ConfigurationProfileId=prof, VersionNumber=1
            ),
        )
        for call in calls:
            with not_found(client) as info:
                call()
            assert_resource_name(info)


def test_get_and_delete_of_a_missing_version_are_resource_not_found(client):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id)
    for call in (client.get_hosted_configuration_version, client.delete_hosted_configuration_version):
        with not_found(client) as info:
            call(ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=2)
        assert_resource_name(info)


def test_an_all_digit_version_label_is_a_bad_request(client):
    app_id, profile_id = new_hosted(client)
    with bad_request(client):
        new_version(client, app_id, profile_id, VersionLabel="123")
    assert version_numbers(client, app_id, profile_id) == []
    assert new_version(client, app_id, profile_id, VersionLabel="123a")["VersionLabel"] == "123a"


def test_create_hosted_version_with_bad_header_members_is_a_bad_request(client, loose_client):
    app_id, profile_id = new_hosted(client)
    for members in (
        {"VersionLabel": "l" * 65},
        {"Description": "d" * 1025},
        {"content_type": "t" * 256},
        {"Description": "caf\u00e9"},  # header members are ASCII-only
    ):
        with bad_request(client):
            new_version(client, app_id, profile_id, **members)
    with bad_request(loose_client):
        new_version(loose_client, app_id, profile_id, VersionLabel="")
    with bad_request(loose_client):
        new_version(loose_client, app_id, profile_id, LatestVersionNumber="zero")
    assert version_numbers(client, app_id, profile_id) == []


def test_create_hosted_version_with_a_64_character_label_and_1024_character_description_succeeds(client):
    app_id, profile_id = new_hosted(client)
    resp = new_version(client, app_id, profile_id, VersionLabel="l" * 64, Description="d" * 1024)
    assert resp["VersionLabel"] == "l" * 64
    assert resp["Description"] == "d" * 1024


def test_a_version_number_that_is_not_an_integer_is_a_bad_request(client, loose_client):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id)
    for call in (loose_client.get_hosted_configuration_version, loose_client.delete_hosted_configuration_version):
        with bad_request(loose_client):
            call(ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber="one")
    assert version_numbers(client, app_id, profile_id) == [1]


def test_content_type_parameters_and_labels_with_spaces_round_trip(client):
    app_id, profile_id = new_hosted(client)
    resp = new_version(
        client, app_id, profile_id, b"{}", "application/json; charset=utf-8", VersionLabel="release 1 (beta)"
    )
    assert resp["ContentType"] == "application/json; charset=utf-8"
    assert resp["VersionLabel"] == "release 1 (beta)"
    got = client.get_hosted_configuration_version(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=resp["VersionNumber"]
    )
    assert got["ContentType"] == "application/json; charset=utf-8"
    assert got["VersionLabel"] == "release 1 (beta)"
    summary = client.list_hosted_configuration_versions(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionLabel="release 1 (beta)"
    )["Items"]
    assert [s["VersionNumber"] for s in summary] == [resp["VersionNumber"]]
