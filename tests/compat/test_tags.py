"""Tags: Tags at create, TagResource, UntagResource and ListTagsForResource by ARN
(reference section 3, Operation details - Tagging). The ARN is one path segment that
botocore percent-encodes (`%3A`, `%2F`)."""

import pytest

from support import (
    app_arn,
    arn,
    assert_resource_name,
    bad_request,
    body,
    env_arn,
    new_app,
    new_env,
    new_profile,
    new_strategy,
    not_found,
    ok,
    profile_arn,
    strategy_arn,
)


def tags_of(client, resource_arn):
    resp = ok(client.list_tags_for_resource(ResourceArn=resource_arn), 200)
    assert body(resp).keys() == {"Tags"}
    return resp["Tags"]


def every_kind(client, tags=None):
    """One resource of each taggable kind, created with `tags`; their ARNs."""
    kw = {"Tags": tags} if tags is not None else {}
    app_id = new_app(client, "tagged", **kw)
    profile_id = new_profile(client, app_id, "tagged", **kw)
    env_id = new_env(client, app_id, "tagged", **kw)
    strategy_id = new_strategy(client, "tagged", **kw)
    return {
        "application": app_arn(app_id),
        "profile": profile_arn(app_id, profile_id),
        "environment": env_arn(app_id, env_id),
        "strategy": strategy_arn(strategy_id),
    }


def test_tags_given_at_create_are_listed_for_every_kind_of_resource(client):
    tags = {"team": "payments", "cost-center": "42", "empty": ""}
    for kind, resource_arn in every_kind(client, tags).items():
        assert tags_of(client, resource_arn) == tags, kind


def test_a_resource_created_without_tags_lists_an_empty_map(client):
    for kind, resource_arn in every_kind(client).items():
        assert tags_of(client, resource_arn) == {}, kind


def test_tag_resource_answers_204_adds_and_overwrites_tags(client):
    for kind, resource_arn in every_kind(client, {"a": "1", "b": "2"}).items():
        resp = ok(client.tag_resource(ResourceArn=resource_arn, Tags={"b": "two", "c": "3"}), 204)
        assert body(resp) == {}
        assert tags_of(client, resource_arn) == {"a": "1", "b": "two", "c": "3"}, kind


def test_untag_resource_answers_204_and_removes_the_keys_given(client):
    for kind, resource_arn in every_kind(client, {"a": "1", "b": "2", "c": "3"}).items():
        resp = ok(client.untag_resource(ResourceArn=resource_arn, TagKeys=["a", "c"]), 204)
        assert body(resp) == {}
        assert tags_of(client, resource_arn) == {"b": "2"}, kind


def test_untag_resource_ignores_keys_that_are_not_set(client):
    app = app_arn(new_app(client, Tags={"a": "1"}))
    ok(client.untag_resource(ResourceArn=app, TagKeys=["zzz"]), 204)
    assert tags_of(client, app) == {"a": "1"}


def test_tags_of_one_resource_do_not_leak_to_another(client):
    app_id = new_app(client, Tags={"owner": "app"})
    profile_id = new_profile(client, app_id)
    ok(client.tag_resource(ResourceArn=profile_arn(app_id, profile_id), Tags={"owner": "profile"}), 204)
    assert tags_of(client, app_arn(app_id)) == {"owner": "app"}
    assert tags_of(client, profile_arn(app_id, profile_id)) == {"owner": "profile"}


def test_tag_resource_with_51_tags_is_a_bad_request(client):
    app = app_arn(new_app(client))
    with bad_request(client):
        client.tag_resource(ResourceArn=app, Tags={f"k{i}": "v" for i in range(51)})
    assert tags_of(client, app) == {}
    ok(client.tag_resource(ResourceArn=app, Tags={f"k{i}": "v" for i in range(50)}), 204)
    assert len(tags_of(client, app)) == 50


def test_tagging_past_50_tags_in_all_is_a_bad_request(client):
    app = app_arn(new_app(client, Tags={f"old{i}": "v" for i in range(40)}))
    with bad_request(client):
        client.tag_resource(ResourceArn=app, Tags={f"new{i}": "v" for i in range(11)})
    assert len(tags_of(client, app)) == 40
    # Overwriting existing keys does not add to the count.
    ok(client.tag_resource(ResourceArn=app, Tags={f"old{i}": "w" for i in range(40)} | {"new": "v"}), 204)
    assert len(tags_of(client, app)) == 41


def test_tag_resource_with_a_bad_key_or_value_is_a_bad_request(client, loose_client):
    app = app_arn(new_app(client))
    with bad_request(client):
        client.tag_resource(ResourceArn=app, Tags={"k" * 129: "v"})
    with bad_request(client):
        client.tag_resource(ResourceArn=app, Tags={"k": "v" * 257})
    with bad_request(loose_client):
        loose_client.tag_resource(ResourceArn=app, Tags={"": "v"})
    assert tags_of(client, app) == {}


def test_untag_resource_with_a_129_character_key_is_a_bad_request(client):
    app = app_arn(new_app(client, Tags={"a": "1"}))
    with bad_request(client):
        client.untag_resource(ResourceArn=app, TagKeys=["k" * 129])
    assert tags_of(client, app) == {"a": "1"}


def test_tag_operations_on_an_unknown_resource_are_resource_not_found(client):
    app_id = new_app(client)
    missing = [
        app_arn("nope123"),
        profile_arn(app_id, "nope123"),
        env_arn(app_id, "nope123"),
        strategy_arn("nope123"),
    ]
    for resource_arn in missing:
        for call in (
            lambda: client.list_tags_for_resource(ResourceArn=resource_arn),
            lambda: client.tag_resource(ResourceArn=resource_arn, Tags={"a": "1"}),
            lambda: client.untag_resource(ResourceArn=resource_arn, TagKeys=["a"]),
        ):
            with not_found(client) as info:
                call()
            assert_resource_name(info)


def test_tags_of_a_deleted_resource_are_resource_not_found(client):
    app_id = new_app(client, Tags={"a": "1"})
    ok(client.delete_application(ApplicationId=app_id), 204)
    with not_found(client):
        client.list_tags_for_resource(ResourceArn=app_arn(app_id))


def test_a_malformed_arn_is_a_bad_request(client):
    app_id = new_app(client)
    for bad in (
        "this-is-not-an-arn-at-all",
        f"arn:aws:AppConfig:us-east-1:123456789012:application/{app_id}",
        f"arn:aws:appconfig:us-east-1:123:application/{app_id}",
        f"arn:aws:appconfig:us-east-1:123456789012:application/{app_id} x",
    ):
        with bad_request(client):
            client.list_tags_for_resource(ResourceArn=bad)


def test_a_well_formed_arn_of_something_else_than_an_appconfig_resource_is_refused(client):
    # A shape the model admits but no AppConfig resource has: nothing to tag.
    for other in (
        arn("extension/abc1234"),
        "arn:aws:s3:::some-bucket-name-here",
    ):
        expected = (client.exceptions.ResourceNotFoundException, client.exceptions.BadRequestException)
        with pytest.raises(expected) as info:
            client.list_tags_for_resource(ResourceArn=other)
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404)
        assert info.value.response["ResponseMetadata"]["RequestId"]


def test_a_predefined_strategy_has_no_tags(client):
    assert tags_of(client, strategy_arn("AppConfig.AllAtOnce")) == {}


def test_tag_resource_with_an_empty_map_changes_nothing(client):
    app = app_arn(new_app(client, Tags={"a": "1"}))
    ok(client.tag_resource(ResourceArn=app, Tags={}), 204)
    assert tags_of(client, app) == {"a": "1"}


def test_untag_resource_with_51_keys_is_a_bad_request(client):
    app = app_arn(new_app(client, Tags={"a": "1"}))
    with bad_request(client):
        client.untag_resource(ResourceArn=app, TagKeys=[f"k{i}" for i in range(51)])
    assert tags_of(client, app) == {"a": "1"}


def test_an_arn_of_2049_characters_is_a_bad_request(client):
    with bad_request(client):
        client.list_tags_for_resource(ResourceArn=app_arn("a" * 2049))


def test_a_profile_arn_under_the_wrong_application_is_resource_not_found(client):
    a, b = new_app(client, "a"), new_app(client, "b")
    profile_id = new_profile(client, a)
    env_id = new_env(client, a)
    with not_found(client):
        client.list_tags_for_resource(ResourceArn=profile_arn(b, profile_id))
    with not_found(client):
        client.list_tags_for_resource(ResourceArn=env_arn(b, env_id))
