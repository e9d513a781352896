"""Applications: CreateApplication, GetApplication, ListApplications, UpdateApplication,
DeleteApplication (reference section 3, Operation details - Applications)."""

from support import (
    ID,
    assert_resource_name,
    bad_request,
    body,
    new_app,
    new_env,
    new_profile,
    not_found,
    ok,
    refused,
)


def test_create_application_answers_201_with_a_generated_id_and_the_given_members(client):
    resp = ok(client.create_application(Name="payments", Description="card limits"), 201)
    assert set(body(resp)) == {"Id", "Name", "Description"}
    assert ID.fullmatch(resp["Id"])
    assert resp["Name"] == "payments"
    assert resp["Description"] == "card limits"


def test_create_application_without_description_omits_it(client):
    resp = ok(client.create_application(Name="bare"), 201)
    assert body(resp).keys() == {"Id", "Name"}


def test_create_application_gives_each_application_its_own_id(client):
    ids = {new_app(client, f"app{i}") for i in range(5)}
    assert len(ids) == 5


def test_get_application_answers_200_with_what_was_created(client):
    app_id = new_app(client, "payments", Description="d")
    resp = ok(client.get_application(ApplicationId=app_id), 200)
    assert body(resp) == {"Id": app_id, "Name": "payments", "Description": "d"}


def test_list_applications_answers_200_with_every_application_and_no_token(client):
    ids = [new_app(client, f"app{i}") for i in range(3)]
    resp = ok(client.list_applications(), 200)
    assert "NextToken" not in resp
    assert sorted(item["Id"] for item in resp["Items"]) == sorted(ids)
    for item in resp["Items"]:
        assert item["Name"] == f"app{ids.index(item['Id'])}"


def test_list_applications_of_an_empty_store_is_an_empty_list(client):
    resp = ok(client.list_applications(), 200)
    assert resp["Items"] == []
    assert "NextToken" not in resp


def test_update_application_answers_200_and_changes_only_the_members_given(client):
    app_id = new_app(client, "old", Description="first")

    resp = ok(client.update_application(ApplicationId=app_id, Name="new"), 200)
    assert body(resp) == {"Id": app_id, "Name": "new", "Description": "first"}

    resp = ok(client.update_application(ApplicationId=app_id, Description="second"), 200)
    assert body(resp) == {"Id": app_id, "Name": "new", "Description": "second"}

    # botocore sends `{}` when no member is given: nothing changes.
    resp = ok(client.update_application(ApplicationId=app_id), 200)
    assert body(resp) == {"Id": app_id, "Name": "new", "Description": "second"}

    got = ok(client.get_application(ApplicationId=app_id), 200)
    assert body(got) == {"Id": app_id, "Name": "new", "Description": "second"}


def test_delete_application_answers_204_and_the_application_is_gone(client):
    app_id = new_app(client)
    resp = ok(client.delete_application(ApplicationId=app_id), 204)
    assert body(resp) == {}
    with not_found(client) as info:
        client.get_application(ApplicationId=app_id)
    assert_resource_name(info)
    assert ok(client.list_applications(), 200)["Items"] == []


def test_get_update_and_delete_of_a_missing_application_are_resource_not_found(client):
    for call in (
        lambda: client.get_application(ApplicationId="nope123"),
        lambda: client.update_application(ApplicationId="nope123", Name="x"),
        lambda: client.delete_application(ApplicationId="nope123"),
    ):
        with not_found(client) as info:
            call()
        assert_resource_name(info)


def test_create_application_with_a_65_character_name_is_a_bad_request(client):
    with bad_request(client):
        client.create_application(Name="n" * 65)
    ok(client.create_application(Name="n" * 64), 201)


def test_create_application_with_an_empty_name_is_a_bad_request(loose_client):
    with bad_request(loose_client):
        loose_client.create_application(Name="")


def test_create_application_with_a_1025_character_description_is_a_bad_request(client):
    with bad_request(client):
        client.create_application(Name="a", Description="d" * 1025)
    ok(client.create_application(Name="a", Description="d" * 1024), 201)


def test_create_application_with_51_tags_is_a_bad_request(client):
    with bad_request(client):
        client.create_application(Name="a", Tags={f"k{i}": "v" for i in range(51)})
    ok(client.create_application(Name="a", Tags={f"k{i}": "v" for i in range(50)}), 201)


def test_create_application_with_a_129_character_tag_key_or_257_character_value_is_a_bad_request(
    client,
):
    with bad_request(client):
        client.create_application(Name="a", Tags={"k" * 129: "v"})
    with bad_request(client):
        client.create_application(Name="a", Tags={"k": "v" * 257})


def test_create_application_with_a_name_that_is_not_a_string_is_a_bad_request(loose_client):
    with bad_request(loose_client):
        loose_client.create_application(Name=12345)


def test_update_application_with_a_65_character_name_is_a_bad_request(client):
    app_id = new_app(client, "kept")
    with bad_request(client):
        client.update_application(ApplicationId=app_id, Name="n" * 65)
    assert ok(client.get_application(ApplicationId=app_id), 200)["Name"] == "kept"


def test_get_application_with_a_65_character_id_is_a_bad_request(client):
    with bad_request(client):
        client.get_application(ApplicationId="a" * 65)


def test_deleting_an_application_that_has_a_profile_is_a_bad_request(client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    with bad_request(client):
        client.delete_application(ApplicationId=app_id)
    ok(client.get_application(ApplicationId=app_id), 200)
    ok(client.delete_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id), 204)
    ok(client.delete_application(ApplicationId=app_id), 204)


def test_deleting_an_application_that_has_an_environment_is_a_bad_request(client):
    app_id = new_app(client)
    env_id = new_env(client, app_id)
    with bad_request(client):
        client.delete_application(ApplicationId=app_id)
    ok(client.get_application(ApplicationId=app_id), 200)
    ok(client.delete_environment(ApplicationId=app_id, EnvironmentId=env_id), 204)
    ok(client.delete_application(ApplicationId=app_id), 204)


def test_the_101st_application_exceeds_the_service_quota(client):
    for i in range(100):
        new_app(client, f"app{i}")
    with refused(client, "ServiceQuotaExceededException", 402):
        client.create_application(Name="one too many")
    ids = [item["Id"] for page in client.get_paginator("list_applications").paginate() for item in page["Items"]]
    assert len(ids) == 100


def test_a_deleted_application_frees_its_quota_slot(client):
    ids = [new_app(client, f"app{i}") for i in range(100)]
    ok(client.delete_application(ApplicationId=ids[0]), 204)
    new_app(client, "fits again")


def test_update_application_with_an_empty_name_is_a_bad_request(client, loose_client):
    app_id = new_app(client, "kept")
    with bad_request(loose_client):
        loose_client.update_application(ApplicationId=app_id, Name="")
    assert ok(client.get_application(ApplicationId=app_id), 200)["Name"] == "kept"


def test_an_application_id_with_a_slash_is_one_percent_encoded_label_and_is_not_found(client):
    # botocore sends `a%2Fb`: the server splits the path first, then decodes, so this is
    # GetApplication of the id "a/b", which does not exist, not an unknown route.
    with not_found(client):
        client.get_application(ApplicationId="a/b")


def test_name_lengths_count_characters_not_bytes(client):
    # The model's length bounds count Unicode characters: 64 three-byte characters fit.
    name = "\u65e5" * 64
    app_id = new_app(client, name, Description="\u00e9" * 1024)
    got = ok(client.get_application(ApplicationId=app_id), 200)
    assert got["Name"] == name and got["Description"] == "\u00e9" * 1024
    with bad_request(client):
        client.create_application(Name="\u65e5" * 65)
