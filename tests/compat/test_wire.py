"""Wire conventions shared by every operation (reference sections 2.1 and 2.3): request
ids, error headers and JSON bodies, unknown operations, malformed input, percent-encoded
labels. Raw requests (no SDK) where boto3 cannot send what is tested."""

import json

from botocore.exceptions import ClientError

from support import (
    app_arn,
    assert_raw_error,
    bad_request,
    new_app,
    new_hosted,
    new_version,
    ok,
    raw,
)


def test_an_unknown_path_is_an_unknown_operation_404_with_a_request_id(server):
    # `/` itself is Proton's awsJson1_0 endpoint: any method but POST there is an awsJson
    # 400 (test_proton_templates.py, another_method_on_the_root_is_unknown_operation_400).
    for method, path in (
        ("GET", "/no/such/operation"),
        ("POST", "/extensions"),
        ("GET", "/settings"),
        ("GET", "/applications/abc1234/environments/def5678/configurations/x?client_id=me"),
    ):
        resp = raw(server.endpoint, method, path)
        assert_raw_error(resp, "UnknownOperationException", 404)
        assert resp.headers.get("content-type", "").startswith("application/json")


def test_a_known_path_with_a_wrong_method_is_an_unknown_operation(server, client):
    app_id = new_app(client)
    for method, path in (
        ("PUT", "/applications"),
        ("DELETE", "/applications"),
        ("POST", f"/applications/{app_id}"),
        ("PUT", f"/applications/{app_id}"),
        ("PATCH", "/deploymentstrategies"),
        ("GET", "/deployementstrategies/abc1234"),
    ):
        assert_raw_error(raw(server.endpoint, method, path), "UnknownOperationException", 404)
    ok(client.get_application(ApplicationId=app_id), 200)


def test_boto3_surfaces_an_unknown_operation_as_a_client_error_with_its_code(server, client):
    # An operation the server does not serve, sent by boto3 through the generic error path.
    try:
        client.get_account_settings()
    except ClientError as e:
        assert e.response["Error"]["Code"] == "UnknownOperationException"
        assert e.response["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert e.response["ResponseMetadata"]["RequestId"]
    else:
        raise AssertionError("GetAccountSettings is not served, yet it succeeded")


def test_every_response_carries_a_distinct_request_id(server, client):
    app_id, profile_id = new_hosted(client)
    responses = [
        client.list_applications(),
        client.get_application(ApplicationId=app_id),
        new_version(client, app_id, profile_id),
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        ),
        client.list_deployment_strategies(),
    ]
    ids = [r["ResponseMetadata"]["RequestId"] for r in responses]
    assert all(ids) and len(set(ids)) == len(ids)
    raw_ids = {raw(server.endpoint, "GET", "/applications").headers.get("x-amzn-requestid") for _ in range(3)}
    assert None not in raw_ids and len(raw_ids) == 3


def test_an_error_names_its_type_in_the_header_and_carries_message_in_a_json_body(server):
    resp = raw(server.endpoint, "GET", "/applications/nope123")
    doc = assert_raw_error(resp, "ResourceNotFoundException", 404)
    assert resp.headers.get("content-type", "").startswith("application/json")
    assert isinstance(doc["Message"], str)
    assert doc.get("ResourceName")


def test_a_204_response_has_no_body(server, client):
    app_id = new_app(client)
    resp = raw(server.endpoint, "DELETE", f"/applications/{app_id}")
    assert resp.status == 204 and resp.data == b""
    assert resp.headers.get("x-amzn-requestid")


def test_a_malformed_json_body_is_a_bad_request(server):
    for data in (b"{not json", b'{"Name": "a"', b"\xff\xfe", b'"just a string"', b"[1, 2]", b"null"):
        resp = raw(server.endpoint, "POST", "/applications", data, {"Content-Type": "application/json"})
        assert_raw_error(resp, "BadRequestException", 400)
    assert raw(server.endpoint, "GET", "/applications").json()["Items"] == []


def test_a_member_of_the_wrong_json_type_is_a_bad_request(server, client):
    app_id = new_app(client)
    for path, doc in (
        ("/applications", {"Name": ["a"]}),
        ("/applications", {"Name": "a", "Tags": ["k", "v"]}),
        ("/applications", {"Name": "a", "Tags": {"k": 1}}),
        (f"/applications/{app_id}/environments", {"Name": "e", "Monitors": {"AlarmArn": "x"}}),
        ("/deploymentstrategies", {"Name": "s", "DeploymentDurationInMinutes": 1.5, "GrowthFactor": 10}),
        ("/deploymentstrategies", {"Name": "s", "DeploymentDurationInMinutes": 1, "GrowthFactor": "10"}),
    ):
        resp = raw(server.endpoint, "POST", path, json.dumps(doc).encode(), {"Content-Type": "application/json"})
        assert_raw_error(resp, "BadRequestException", 400)


def test_an_update_with_an_empty_body_or_an_empty_object_changes_nothing(server, client):
    app_id = new_app(client, "kept", Description="d")
    for data in (b"", b"{}"):
        resp = raw(server.endpoint, "PATCH", f"/applications/{app_id}", data, {"Content-Type": "application/json"})
        assert resp.status == 200, resp.data
        assert resp.json() == {"Id": app_id, "Name": "kept", "Description": "d"}


def test_an_unknown_json_member_is_ignored(server):
    resp = raw(
        server.endpoint,
        "POST",
        "/applications",
        json.dumps({"Name": "a", "SomethingNew": 1}).encode(),
        {"Content-Type": "application/json"},
    )
    assert resp.status == 201, resp.data
    assert resp.json()["Name"] == "a"


def test_percent_encoded_path_labels_are_decoded_after_splitting_the_path(server, client):
    app_id = new_app(client, Tags={"k": "v"})
    encoded = app_arn(app_id).replace(":", "%3A").replace("/", "%2F")
    resp = raw(server.endpoint, "GET", f"/tags/{encoded}")
    assert resp.status == 200, resp.data
    assert resp.json() == {"Tags": {"k": "v"}}
    # boto3 sends the same encoding by itself.
    assert client.list_tags_for_resource(ResourceArn=app_arn(app_id))["Tags"] == {"k": "v"}


def test_a_raw_hosted_version_body_is_not_parsed_as_json(server, client):
    app_id, profile_id = new_hosted(client)
    resp = raw(
        server.endpoint,
        "POST",
        f"/applications/{app_id}/configurationprofiles/{profile_id}/hostedconfigurationversions",
        b"{this is not json",
        {"Content-Type": "text/plain", "VersionLabel": "raw"},
    )
    assert resp.status == 201, resp.data
    assert resp.data == b"{this is not json"
    assert resp.headers["version-number"] == "1"
    assert resp.headers["content-type"] == "text/plain"
    assert resp.headers["versionlabel"] == "raw"
    assert resp.headers["content-length"] == str(len(resp.data))


def test_a_hosted_version_without_content_type_is_a_bad_request(server, client):
    app_id, profile_id = new_hosted(client)
    resp = raw(
        server.endpoint,
        "POST",
        f"/applications/{app_id}/configurationprofiles/{profile_id}/hostedconfigurationversions",
        b"{}",
    )
    assert_raw_error(resp, "BadRequestException", 400)


def test_a_query_value_that_is_not_utf8_once_decoded_is_a_bad_request(server, client):
    app_id, profile_id = new_hosted(client)
    resp = raw(
        server.endpoint,
        "GET",
        f"/applications/{app_id}/configurationprofiles/{profile_id}/hostedconfigurationversions?version_label=%FF",
    )
    assert_raw_error(resp, "BadRequestException", 400)


def test_a_bad_request_from_boto3_is_typed_and_carries_the_message(client):
    with bad_request(client) as info:
        client.create_application(Name="n" * 65)
    assert "Name" in info.value.response["Error"]["Message"]


def test_payload_too_large_carries_measure_limit_and_size_as_json_numbers(server, client):
    app_id, profile_id = new_hosted(client)
    resp = raw(
        server.endpoint,
        "POST",
        f"/applications/{app_id}/configurationprofiles/{profile_id}/hostedconfigurationversions",
        b"x" * (2 * 1024 * 1024 + 1),
        {"Content-Type": "text/plain"},
    )
    doc = assert_raw_error(resp, "PayloadTooLargeException", 413)
    assert doc["Measure"] == "KILOBYTES"
    assert isinstance(doc["Limit"], (int, float)) and not isinstance(doc["Limit"], bool)
    assert isinstance(doc["Size"], (int, float)) and not isinstance(doc["Size"], bool)
    assert doc["Limit"] == 2048 and doc["Size"] > 2048


def test_json_responses_are_labelled_application_json_and_floats_are_json_numbers(server, client):
    strategy_id = ok(
        client.create_deployment_strategy(Name="s", DeploymentDurationInMinutes=1, GrowthFactor=12.5), 201
    )["Id"]
    resp = raw(server.endpoint, "GET", f"/deploymentstrategies/{strategy_id}")
    assert resp.status == 200
    assert resp.headers.get("content-type", "").startswith("application/json")
    assert resp.json()["GrowthFactor"] == 12.5
    assert resp.headers.get("x-amzn-requestid")
