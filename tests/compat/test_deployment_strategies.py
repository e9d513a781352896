"""Deployment strategies: Create/Get/List/Update/DeleteDeploymentStrategy (reference
section 3, Operation details - Deployment strategies), AWS's predefined `AppConfig.*`
strategies, and DeleteDeploymentStrategy's `/deployementstrategies/` route."""

from support import (
    ID,
    PREDEFINED_STRATEGIES,
    assert_raw_error,
    assert_resource_name,
    bad_request,
    body,
    new_strategy,
    not_found,
    ok,
    raw,
    refused,
)

STRATEGY_KEYS = {
    "Id",
    "Name",
    "Description",
    "DeploymentDurationInMinutes",
    "GrowthType",
    "GrowthFactor",
    "FinalBakeTimeInMinutes",
    "ReplicateTo",
}


def all_strategies(client):
    pages = client.get_paginator("list_deployment_strategies").paginate()
    return [item for page in pages for item in page["Items"]]


def test_list_deployment_strategies_lists_the_predefined_strategies_first(client):
    resp = ok(client.list_deployment_strategies(), 200)
    ids = [item["Id"] for item in resp["Items"]]
    assert ids[: len(PREDEFINED_STRATEGIES)] == PREDEFINED_STRATEGIES
    mine = new_strategy(client, "mine")
    assert [item["Id"] for item in all_strategies(client)] == PREDEFINED_STRATEGIES + [mine]


def test_predefined_strategies_are_gettable_with_the_full_shape(client):
    listed = {item["Id"]: item for item in all_strategies(client)}
    for strategy_id in PREDEFINED_STRATEGIES:
        got = ok(client.get_deployment_strategy(DeploymentStrategyId=strategy_id), 200)
        assert body(got) == listed[strategy_id]
        assert got["Name"] == strategy_id
        assert {"Id", "Name", "DeploymentDurationInMinutes", "GrowthType", "GrowthFactor", "FinalBakeTimeInMinutes"} <= got.keys()
        assert got["GrowthType"] in ("LINEAR", "EXPONENTIAL")
        assert 1 <= got["GrowthFactor"] <= 100
    all_at_once = client.get_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce")
    assert all_at_once["DeploymentDurationInMinutes"] == 0
    assert all_at_once["GrowthFactor"] == 100
    assert all_at_once["GrowthType"] == "LINEAR"


def test_create_deployment_strategy_answers_201_with_the_defaults_for_omitted_members(client):
    resp = ok(
        client.create_deployment_strategy(Name="quick", DeploymentDurationInMinutes=10, GrowthFactor=25),
        201,
    )
    assert ID.fullmatch(resp["Id"])
    assert resp["Name"] == "quick"
    assert resp["DeploymentDurationInMinutes"] == 10
    assert resp["GrowthFactor"] == 25
    assert resp["GrowthType"] == "LINEAR"
    assert resp["FinalBakeTimeInMinutes"] == 0
    assert resp["ReplicateTo"] == "NONE"
    assert body(resp).keys() <= STRATEGY_KEYS


def test_create_deployment_strategy_answers_201_with_every_member_given(client):
    resp = ok(
        client.create_deployment_strategy(
            Name="careful",
            Description="slow and steady",
            DeploymentDurationInMinutes=60,
            FinalBakeTimeInMinutes=30,
            GrowthFactor=12.5,
            GrowthType="EXPONENTIAL",
            ReplicateTo="SSM_DOCUMENT",
            Tags={"team": "sre"},
        ),
        201,
    )
    assert body(resp) == {
        "Id": resp["Id"],
        "Name": "careful",
        "Description": "slow and steady",
        "DeploymentDurationInMinutes": 60,
        "FinalBakeTimeInMinutes": 30,
        "GrowthFactor": 12.5,
        "GrowthType": "EXPONENTIAL",
        "ReplicateTo": "SSM_DOCUMENT",
    }


def test_growth_factor_round_trips_as_a_float(client):
    strategy_id = new_strategy(client, "fractional", GrowthFactor=12.5, DeploymentDurationInMinutes=5)
    got = ok(client.get_deployment_strategy(DeploymentStrategyId=strategy_id), 200)
    assert got["GrowthFactor"] == 12.5
    listed = {item["Id"]: item for item in all_strategies(client)}
    assert listed[strategy_id]["GrowthFactor"] == 12.5
    updated = ok(client.update_deployment_strategy(DeploymentStrategyId=strategy_id, GrowthFactor=33.25), 200)
    assert updated["GrowthFactor"] == 33.25


def test_get_deployment_strategy_answers_200_with_what_was_created(client):
    created = ok(
        client.create_deployment_strategy(
            Name="s", Description="d", DeploymentDurationInMinutes=3, GrowthFactor=50, FinalBakeTimeInMinutes=2
        ),
        201,
    )
    got = ok(client.get_deployment_strategy(DeploymentStrategyId=created["Id"]), 200)
    assert body(got) == body(created)


def test_update_deployment_strategy_answers_200_and_changes_only_the_members_given(client):
    strategy_id = new_strategy(
        client, "s", Description="first", DeploymentDurationInMinutes=10, GrowthFactor=20, ReplicateTo="SSM_DOCUMENT"
    )
    resp = ok(
        client.update_deployment_strategy(
            DeploymentStrategyId=strategy_id,
            Description="second",
            DeploymentDurationInMinutes=30,
            FinalBakeTimeInMinutes=15,
            GrowthType="EXPONENTIAL",
        ),
        200,
    )
    assert body(resp) == {
        "Id": strategy_id,
        "Name": "s",
        "Description": "second",
        "DeploymentDurationInMinutes": 30,
        "FinalBakeTimeInMinutes": 15,
        "GrowthFactor": 20,
        "GrowthType": "EXPONENTIAL",
        "ReplicateTo": "SSM_DOCUMENT",
    }
    got = ok(client.get_deployment_strategy(DeploymentStrategyId=strategy_id), 200)
    assert body(got) == body(resp)


def test_delete_deployment_strategy_answers_204_and_the_strategy_is_gone(client):
    strategy_id = new_strategy(client)
    sent = []
    client.meta.events.register("before-send.appconfig.DeleteDeploymentStrategy", lambda request, **_: sent.append(request.url))
    resp = ok(client.delete_deployment_strategy(DeploymentStrategyId=strategy_id), 204)
    assert body(resp) == {}
    # boto3 sent the model's spelling of the route.
    assert len(sent) == 1 and sent[0].endswith(f"/deployementstrategies/{strategy_id}"), sent
    with not_found(client) as info:
        client.get_deployment_strategy(DeploymentStrategyId=strategy_id)
    assert_resource_name(info)
    assert [item["Id"] for item in all_strategies(client)] == PREDEFINED_STRATEGIES


def test_delete_deployment_strategy_is_served_on_the_deployementstrategies_route_only(server, client):
    a = new_strategy(client, "a")
    resp = raw(server.endpoint, "DELETE", f"/deploymentstrategies/{a}")
    assert_raw_error(resp, "UnknownOperationException", 404)
    ok(client.get_deployment_strategy(DeploymentStrategyId=a), 200)
    resp = raw(server.endpoint, "DELETE", f"/deployementstrategies/{a}")
    assert resp.status == 204, (resp.status, resp.data)
    assert resp.data == b""
    assert resp.headers.get("x-amzn-requestid")
    with not_found(client):
        client.get_deployment_strategy(DeploymentStrategyId=a)


def test_predefined_strategies_can_be_neither_updated_nor_deleted(client):
    before = body(client.get_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce"))
    with bad_request(client):
        client.update_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce", Description="mine now")
    with bad_request(client):
        client.delete_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce")
    assert body(client.get_deployment_strategy(DeploymentStrategyId="AppConfig.AllAtOnce")) == before


def test_get_update_and_delete_of_a_missing_strategy_are_resource_not_found(client):
    for strategy_id in ("zzzz999", "AppConfig.NoSuchStrategyAtAll"):
        calls = (
            lambda: client.get_deployment_strategy(DeploymentStrategyId=strategy_id),
            lambda: client.update_deployment_strategy(DeploymentStrategyId=strategy_id, Description="x"),
            lambda: client.delete_deployment_strategy(DeploymentStrategyId=strategy_id),
        )
        for call in calls:
            with not_found(client) as info:
                call()
            assert_resource_name(info)


def test_a_strategy_id_outside_the_model_pattern_is_a_bad_request(client):
    for strategy_id in ("UPPER", "abc", "abcdefgh", "AppConfig.Short", "bad_id!"):
        with bad_request(client):
            client.get_deployment_strategy(DeploymentStrategyId=strategy_id)


def test_create_deployment_strategy_with_bad_members_is_a_bad_request(client, loose_client):
    base = {"Name": "s", "DeploymentDurationInMinutes": 10, "GrowthFactor": 10.0}
    for members in (
        {"Name": "n" * 65},
        {"Description": "d" * 1025},
        {"DeploymentDurationInMinutes": 1441},
        {"FinalBakeTimeInMinutes": 1441},
        {"GrowthFactor": 100.5},
        {"GrowthType": "SIDEWAYS"},
        {"ReplicateTo": "S3"},
        {"Tags": {f"k{i}": "v" for i in range(51)}},
    ):
        with bad_request(client):
            client.create_deployment_strategy(**{**base, **members})
    for members in (
        {"Name": ""},
        {"DeploymentDurationInMinutes": -1},
        {"FinalBakeTimeInMinutes": -1},
        {"GrowthFactor": 0.5},
        {"DeploymentDurationInMinutes": "ten"},
    ):
        with bad_request(loose_client):
            loose_client.create_deployment_strategy(**{**base, **members})
    assert [item["Id"] for item in all_strategies(client)] == PREDEFINED_STRATEGIES
    ok(client.create_deployment_strategy(Name="n" * 64, DeploymentDurationInMinutes=1440, GrowthFactor=100, FinalBakeTimeInMinutes=1440), 201)


def test_update_deployment_strategy_with_bad_members_is_a_bad_request(client):
    strategy_id = new_strategy(client, "kept", DeploymentDurationInMinutes=10, GrowthFactor=10)
    before = body(client.get_deployment_strategy(DeploymentStrategyId=strategy_id))
    for members in (
        {"Description": "d" * 1025},
        {"DeploymentDurationInMinutes": 1441},
        {"FinalBakeTimeInMinutes": 1441},
        {"GrowthFactor": 101},
        {"GrowthType": "SIDEWAYS"},
    ):
        with bad_request(client):
            client.update_deployment_strategy(DeploymentStrategyId=strategy_id, **members)
    assert body(client.get_deployment_strategy(DeploymentStrategyId=strategy_id)) == before


def test_the_21st_deployment_strategy_exceeds_the_service_quota(client):
    for i in range(20):
        new_strategy(client, f"s{i}")
    with refused(client, "ServiceQuotaExceededException", 402):
        new_strategy(client, "one too many")
    assert len(all_strategies(client)) == len(PREDEFINED_STRATEGIES) + 20
