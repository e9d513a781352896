"""Pagination of the five AppConfig list operations (reference section 2.4): boto3's
paginators with a page size of 2 see every item exactly once, every page but the last
carries a NextToken, the last carries none; `max_results` outside 1..50 is refused."""

import math

import pytest

from support import (
    PREDEFINED_STRATEGIES,
    bad_request,
    new_app,
    new_env,
    new_hosted,
    new_profile,
    new_strategy,
    new_version,
    ok,
    version_numbers,
)

PAGE = 2


def pages(client, operation, page_size=PAGE, **kw):
    paginator = client.get_paginator(operation)
    out = list(paginator.paginate(PaginationConfig={"PageSize": page_size}, **kw))
    for page in out:
        ok(page, 200)
    return out


def assert_paged(result_pages, expected_ids, key="Id", page_size=PAGE):
    """Every item exactly once, in full pages, a token on every page but the last."""
    ids = [item[key] for page in result_pages for item in page["Items"]]
    assert len(ids) == len(set(ids)), f"an item came twice: {ids}"
    assert sorted(ids, key=str) == sorted(expected_ids, key=str)
    assert len(result_pages) == max(1, math.ceil(len(expected_ids) / page_size))
    for page in result_pages[:-1]:
        assert len(page["Items"]) == page_size
        assert page.get("NextToken"), page
    assert "NextToken" not in result_pages[-1], result_pages[-1]
    return ids


def test_pagination_of_list_applications_sees_every_application_once(client):
    ids = [new_app(client, f"app{i}") for i in range(7)]
    assert_paged(pages(client, "list_applications"), ids)


def test_pagination_of_list_configuration_profiles_sees_every_profile_once(client):
    app_id = new_app(client)
    ids = [new_profile(client, app_id, f"p{i}") for i in range(7)]
    assert_paged(pages(client, "list_configuration_profiles", ApplicationId=app_id), ids)


def test_pagination_of_list_environments_sees_every_environment_once(client):
    app_id = new_app(client)
    ids = [new_env(client, app_id, f"e{i}") for i in range(7)]
    assert_paged(pages(client, "list_environments", ApplicationId=app_id), ids)


def test_pagination_of_list_hosted_versions_sees_every_version_once_newest_first(client):
    app_id, profile_id = new_hosted(client)
    for _ in range(7):
        new_version(client, app_id, profile_id)
    got = assert_paged(
        pages(client, "list_hosted_configuration_versions", ApplicationId=app_id, ConfigurationProfileId=profile_id),
        list(range(1, 8)),
        key="VersionNumber",
    )
    assert got == [7, 6, 5, 4, 3, 2, 1]


def test_pagination_of_list_deployment_strategies_sees_predefined_then_own_strategies_once(client):
    ids = [new_strategy(client, f"s{i}") for i in range(5)]
    got = assert_paged(pages(client, "list_deployment_strategies"), PREDEFINED_STRATEGIES + ids)
    assert got[: len(PREDEFINED_STRATEGIES)] == PREDEFINED_STRATEGIES


def test_pagination_of_list_configuration_profiles_with_a_type_filter_sees_each_match_once(client):
    app_id = new_app(client)
    flags = []
    for i in range(8):
        kind = "AWS.AppConfig.FeatureFlags" if i % 2 else "AWS.Freeform"
        profile_id = new_profile(client, app_id, f"p{i}", Type=kind)
        if i % 2:
            flags.append(profile_id)
    result = pages(client, "list_configuration_profiles", ApplicationId=app_id, Type="AWS.AppConfig.FeatureFlags")
    ids = [item["Id"] for page in result for item in page["Items"]]
    assert sorted(ids) == sorted(flags)
    assert "NextToken" not in result[-1]


def test_pagination_with_a_label_filter_sees_each_match_once_newest_first(client):
    app_id, profile_id = new_hosted(client)
    for i in range(9):
        new_version(client, app_id, profile_id, VersionLabel="even" if i % 2 == 0 else "odd")
    assert version_numbers(
        client, app_id, profile_id, VersionLabel="even", PaginationConfig={"PageSize": 2}
    ) == [9, 7, 5, 3, 1]
    assert version_numbers(
        client, app_id, profile_id, VersionLabel="o*", PaginationConfig={"PageSize": 2}
    ) == [8, 6, 4, 2]


def test_pagination_skips_deleted_versions(client):
    app_id, profile_id = new_hosted(client)
    for _ in range(6):
        new_version(client, app_id, profile_id)
    for n in (2, 5):
        ok(
            client.delete_hosted_configuration_version(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=n
            ),
            204,
        )
    assert version_numbers(client, app_id, profile_id, PaginationConfig={"PageSize": 2}) == [6, 4, 3, 1]


def test_a_page_size_of_one_walks_every_item(client):
    ids = [new_app(client, f"app{i}") for i in range(3)]
    assert_paged(pages(client, "list_applications", page_size=1), ids, page_size=1)


def test_a_page_size_equal_to_the_item_count_gives_one_page_without_token(client):
    ids = [new_app(client, f"app{i}") for i in range(4)]
    result = pages(client, "list_applications", page_size=4)
    assert len(result) == 1 and "NextToken" not in result[0]
    assert sorted(item["Id"] for item in result[0]["Items"]) == sorted(ids)


def test_tokens_are_followed_by_hand_with_max_results_and_next_token(client):
    ids = [new_app(client, f"app{i}") for i in range(5)]
    seen, token, calls = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        resp = ok(client.list_applications(MaxResults=2, **kw), 200)
        calls += 1
        seen += [item["Id"] for item in resp["Items"]]
        assert resp.get("NextToken") != token
        token = resp.get("NextToken")
        if not token:
            break
        assert calls < 10
    assert calls == 3 and sorted(seen) == sorted(ids)


def test_without_max_results_a_page_holds_50_items(client):
    app_id, profile_id = new_hosted(client)
    for _ in range(51):
        new_version(client, app_id, profile_id, b"x", "text/plain")
    first = ok(
        client.list_hosted_configuration_versions(ApplicationId=app_id, ConfigurationProfileId=profile_id),
        200,
    )
    assert [i["VersionNumber"] for i in first["Items"]] == list(range(51, 1, -1))
    assert first.get("NextToken")
    second = ok(
        client.list_hosted_configuration_versions(
            ApplicationId=app_id, ConfigurationProfileId=profile_id, NextToken=first["NextToken"]
        ),
        200,
    )
    assert [i["VersionNumber"] for i in second["Items"]] == [1]
    assert "NextToken" not in second


def list_calls(client, app_id, profile_id):
    return {
        "list_applications": {},
        "list_configuration_profiles": {"ApplicationId": app_id},
        "list_environments": {"ApplicationId": app_id},
        "list_hosted_configuration_versions": {"ApplicationId": app_id, "ConfigurationProfileId": profile_id},
        "list_deployment_strategies": {},
    }


@pytest.mark.parametrize("max_results", [0, 51, -1])
def test_max_results_outside_1_to_50_is_a_bad_request(client, loose_client, max_results):
    app_id, profile_id = new_hosted(client)
    for operation, kw in list_calls(client, app_id, profile_id).items():
        with bad_request(loose_client):
            getattr(loose_client, operation)(MaxResults=max_results, **kw)


def test_max_results_of_1_and_50_are_accepted(client):
    app_id, profile_id = new_hosted(client)
    for operation, kw in list_calls(client, app_id, profile_id).items():
        for max_results in (1, 50):
            ok(getattr(client, operation)(MaxResults=max_results, **kw), 200)


def test_a_next_token_of_2049_characters_is_a_bad_request(client):
    app_id, profile_id = new_hosted(client)
    for operation, kw in list_calls(client, app_id, profile_id).items():
        with bad_request(client):
            getattr(client, operation)(NextToken="t" * 2049, **kw)


def test_max_results_that_is_not_a_number_is_a_bad_request(loose_client):
    with bad_request(loose_client):
        loose_client.list_applications(MaxResults="many")


def test_a_next_token_the_server_never_issued_is_a_bad_request(client):
    app_id, profile_id = new_hosted(client)
    for operation, kw in list_calls(client, app_id, profile_id).items():
        with bad_request(client):
            getattr(client, operation)(NextToken="not-a-token-from-this-server", **kw)
