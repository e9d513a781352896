"""VersionLabel rules (reference section 3 and architecture.md section 4): a label must
hold a non-digit, duplicates are allowed, a label resolves to the newest live version
carrying it, and the list filter matches exactly or, with a trailing `*`, as a prefix."""

import json

from support import bad_request, new_hosted, new_profile, new_version, ok, version_numbers

SCHEMA = json.dumps({"type": "object", "required": ["ok"]})


def labelled(client, app_id, profile_id, labels):
    """Creates one version per entry (None: no label); returns their numbers."""
    out = []
    for label in labels:
        kw = {"VersionLabel": label} if label is not None else {}
        out.append(new_version(client, app_id, profile_id, **kw)["VersionNumber"])
    return out


def test_duplicate_labels_are_allowed_in_a_profile(client):
    app_id, profile_id = new_hosted(client)
    assert labelled(client, app_id, profile_id, ["stable", "stable", "stable"]) == [1, 2, 3]
    for n in (1, 2, 3):
        got = client.get_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=n
        )
        assert got["VersionLabel"] == "stable"


def test_the_label_filter_matches_exactly_and_lists_every_carrier_newest_first(client):
    app_id, profile_id = new_hosted(client)
    labelled(client, app_id, profile_id, ["v1", "v10", "v1", None, "v2", "V1", "v1"])
    assert version_numbers(client, app_id, profile_id, VersionLabel="v1") == [7, 3, 1]
    assert version_numbers(client, app_id, profile_id, VersionLabel="v10") == [2]
    assert version_numbers(client, app_id, profile_id, VersionLabel="v") == []
    assert version_numbers(client, app_id, profile_id, VersionLabel="nothing") == []


def test_the_label_filter_ending_in_a_star_matches_as_a_prefix(client):
    app_id, profile_id = new_hosted(client)
    labelled(client, app_id, profile_id, ["v1", "v10", "release-2", "v2", None, "xv1", "v1.1"])
    assert version_numbers(client, app_id, profile_id, VersionLabel="v1*") == [7, 2, 1]
    assert version_numbers(client, app_id, profile_id, VersionLabel="v*") == [7, 4, 2, 1]
    assert version_numbers(client, app_id, profile_id, VersionLabel="release-*") == [3]
    assert version_numbers(client, app_id, profile_id, VersionLabel="z*") == []


def test_the_label_filter_returns_summaries_with_their_labels(client):
    app_id, profile_id = new_hosted(client)
    labelled(client, app_id, profile_id, ["blue", "green", "blue"])
    resp = ok(
        client.list_hosted_configuration_versions(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionLabel="blue"
        ),
        200,
    )
    assert [(i["VersionNumber"], i["VersionLabel"]) for i in resp["Items"]] == [(3, "blue"), (1, "blue")]


def test_the_label_filter_skips_deleted_versions(client):
    app_id, profile_id = new_hosted(client)
    labelled(client, app_id, profile_id, ["canary", "canary", "canary"])
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=3
        ),
        204,
    )
    assert version_numbers(client, app_id, profile_id, VersionLabel="canary") == [2, 1]
    assert version_numbers(client, app_id, profile_id, VersionLabel="can*") == [2, 1]


def test_a_label_filter_of_65_characters_is_a_bad_request(client):
    app_id, profile_id = new_hosted(client)
    with bad_request(client):
        client.list_hosted_configuration_versions(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionLabel="l" * 65
        )


def test_a_label_selects_the_newest_live_version_carrying_it(client):
    app_id, profile_id = new_hosted(
        client, Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}]
    )

    def create(content, label):
        return new_version(client, app_id, profile_id, content, VersionLabel=label)["VersionNumber"]

    def label_is_valid(label):
        try:
            client.validate_configuration(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, ConfigurationVersion=label
            )
            return True
        except client.exceptions.BadRequestException as e:
            assert e.response["Reason"] == "InvalidConfiguration"
            return False

    create(b'{"ok": 1}', "prod")  # 1, valid
    assert label_is_valid("prod")
    create(b"{}", "prod")  # 2, invalid: now the newest carrying "prod"
    assert not label_is_valid("prod")
    create(b'{"ok": 3}', "prod")  # 3, valid
    assert label_is_valid("prod")
    create(b"{}", "other")  # 4: another label does not move "prod"
    assert label_is_valid("prod")
    ok(
        client.delete_hosted_configuration_version(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=3
        ),
        204,
    )
    assert not label_is_valid("prod")  # back to 2, the newest live carrier


def test_labels_are_per_profile(client):
    app_id, p1 = new_hosted(client)
    p2 = new_profile(client, app_id, "second")
    labelled(client, app_id, p1, ["shared"])
    labelled(client, app_id, p2, ["shared", "shared"])
    assert version_numbers(client, app_id, p1, VersionLabel="shared") == [1]
    assert version_numbers(client, app_id, p2, VersionLabel="shared") == [2, 1]


def test_a_label_of_digits_and_a_non_digit_is_accepted(client):
    app_id, profile_id = new_hosted(client)
    for label in ("1.0", "2024-01-01", "1_000", "v1"):
        assert new_version(client, app_id, profile_id, VersionLabel=label)["VersionLabel"] == label


def test_an_all_digit_label_is_refused_and_appends_nothing(client):
    app_id, profile_id = new_hosted(client)
    for label in ("1", "0042", "1234567890"):
        with bad_request(client):
            new_version(client, app_id, profile_id, VersionLabel=label)
    assert version_numbers(client, app_id, profile_id) == []
