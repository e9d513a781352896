"""ValidateConfiguration (reference section 3, Operation details - Validation): a
hosted version, named by number or by label, checked against the profile's validators."""

import json

from support import (
    assert_resource_name,
    bad_request,
    body,
    new_app,
    new_hosted,
    new_profile,
    new_version,
    not_found,
    ok,
)

SCHEMA = json.dumps(
    {
        "$schema": "http://json-schema.org/draft-07/schema#",
        "type": "object",
        "properties": {"limit": {"type": "integer", "minimum": 0}},
        "required": ["limit"],
    }
)
VALID = b'{"limit": 10}'
INVALID = b'{"limit": "ten"}'
LAMBDA = "arn:aws:lambda:us-east-1:123456789012:function:check-config"


def schema_profile(client, *validators):
    app_id = new_app(client)
    validators = validators or ({"Type": "JSON_SCHEMA", "Content": SCHEMA},)
    return app_id, new_profile(client, app_id, "checked", Validators=list(validators))


def validate(client, app_id, profile_id, version):
    return client.validate_configuration(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, ConfigurationVersion=str(version)
    )


def assert_invalid_configuration(info):
    err = info.value.response
    assert err["Reason"] == "InvalidConfiguration", err
    details = err["Details"]["InvalidConfiguration"]
    assert isinstance(details, list) and details, err
    for detail in details:
        assert detail.keys() <= {"Constraint", "Location", "Reason", "Type", "Value"}, detail
        assert detail, detail
    return details


def test_a_valid_version_answers_204_by_number(client):
    app_id, profile_id = schema_profile(client)
    n = new_version(client, app_id, profile_id, VALID)["VersionNumber"]
    resp = ok(validate(client, app_id, profile_id, n), 204)
    assert body(resp) == {}


def test_a_valid_version_answers_204_by_label(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, VALID, VersionLabel="stable")
    ok(validate(client, app_id, profile_id, "stable"), 204)


def test_a_profile_without_validators_accepts_any_version(client):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id, b"not even json", "text/plain")
    ok(validate(client, app_id, profile_id, 1), 204)


def test_a_version_that_breaks_the_json_schema_is_a_bad_request_with_invalid_configuration_details(client):
    app_id, profile_id = schema_profile(client)
    n = new_version(client, app_id, profile_id, INVALID)["VersionNumber"]
    with bad_request(client) as info:
        validate(client, app_id, profile_id, n)
    details = assert_invalid_configuration(info)
    assert any("limit" in json.dumps(d) for d in details), details


def test_a_version_missing_a_required_member_is_invalid_configuration(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, b"{}")
    with bad_request(client) as info:
        validate(client, app_id, profile_id, 1)
    assert_invalid_configuration(info)


def test_content_that_is_not_json_is_invalid_configuration_under_a_json_schema(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, b"limit=10", "text/plain")
    with bad_request(client) as info:
        validate(client, app_id, profile_id, 1)
    assert info.value.response["Reason"] == "InvalidConfiguration"


def test_a_lambda_validator_cannot_run_so_validation_fails_with_invalid_configuration(client):
    app_id, profile_id = schema_profile(client, {"Type": "LAMBDA", "Content": LAMBDA})
    new_version(client, app_id, profile_id, VALID)
    with bad_request(client) as info:
        validate(client, app_id, profile_id, 1)
    assert_invalid_configuration(info)


def test_validation_uses_the_validators_the_profile_has_now(client):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id, INVALID)
    ok(validate(client, app_id, profile_id, 1), 204)
    ok(
        client.update_configuration_profile(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
        ),
        200,
    )
    with bad_request(client) as info:
        validate(client, app_id, profile_id, 1)
    assert_invalid_configuration(info)


def test_a_label_validates_the_newest_live_version_carrying_it(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, VALID, VersionLabel="release")  # 1
    new_version(client, app_id, profile_id, INVALID, VersionLabel="release")  # 2
    new_version(client, app_id, profile_id, VALID, VersionLabel="other")  # 3
    with bad_request(client) as info:
        validate(client, app_id, profile_id, "release")
    assert_invalid_configuration(info)
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=2
        ),
        204,
    )
    ok(validate(client, app_id, profile_id, "release"), 204)


def test_validating_a_missing_version_number_or_label_is_resource_not_found(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, VALID, VersionLabel="there")
    for version in ("2", "missing"):
        with not_found(client) as info:
            validate(client, app_id, profile_id, version)
        assert_resource_name(info)


def test_validating_a_deleted_version_is_resource_not_found(client):
    app_id, profile_id = schema_profile(client)
    new_version(client, app_id, profile_id, VALID, VersionLabel="gone")
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
        ),
        204,
    )
    for version in ("1", "gone"):
        with not_found(client):
            validate(client, app_id, profile_id, version)


def test_validating_in_a_missing_application_or_profile_is_resource_not_found(client):
    app_id, profile_id = schema_profile(client)
    for app, prof in (("nope123", profile_id), (app_id, "nope123")):
        with not_found(client) as info:
            validate(client, app, prof, 1)
        assert_resource_name(info)


def test_a_configuration_version_of_1025_characters_is_a_bad_request(client, loose_client):
    app_id, profile_id = schema_profile(client)
    with bad_request(client):
        validate(client, app_id, profile_id, "v" * 1025)
    with bad_request(loose_client):
        validate(loose_client, app_id, profile_id, "")
