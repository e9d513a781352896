"""Deployments: Start/Get/List/StopDeployment (reference section 3, Operation details -
Deployments; docs/design/deployments.md). A deployment's state is a function of time, so
the strategies here are chosen to stay put for the length of a test:

- `AppConfig.AllAtOnce`: BAKING at 100% for 10 minutes;
- INSTANT (0 minutes, 100%, no bake): COMPLETE at once;
- SLOW (60 minutes, LINEAR 10%, no bake): DEPLOYING at 10% for 6 minutes.
"""

import datetime
from types import SimpleNamespace

from support import (
    ID,
    assert_raw_error,
    assert_resource_name,
    bad_request,
    body,
    conflict,
    new_app,
    new_deployment,
    new_env,
    new_profile,
    new_strategy,
    new_version,
    not_found,
    ok,
    raw,
)

DEPLOYMENT_STATES = {"BAKING", "VALIDATING", "DEPLOYING", "COMPLETE", "ROLLING_BACK", "ROLLED_BACK", "REVERTED"}
EVENT_TYPES = {
    "PERCENTAGE_UPDATED",
    "ROLLBACK_STARTED",
    "ROLLBACK_COMPLETED",
    "BAKE_TIME_STARTED",
    "DEPLOYMENT_STARTED",
    "DEPLOYMENT_COMPLETED",
    "REVERT_COMPLETED",
}
TRIGGERS = {"USER", "APPCONFIG", "CLOUDWATCH_ALARM", "INTERNAL_ERROR"}

# Members of `Deployment` every deployment has (CompletedAt once finished, Description,
# VersionLabel and KmsKeyIdentifier when there is one; Verso runs no extensions).
DEPLOYMENT_MEMBERS = {
    "ApplicationId",
    "EnvironmentId",
    "DeploymentStrategyId",
    "ConfigurationProfileId",
    "DeploymentNumber",
    "ConfigurationName",
    "ConfigurationLocationUri",
    "ConfigurationVersion",
    "DeploymentDurationInMinutes",
    "GrowthType",
    "GrowthFactor",
    "FinalBakeTimeInMinutes",
    "State",
    "EventLog",
    "PercentageComplete",
    "StartedAt",
}
DEPLOYMENT_OPTIONAL = {"Description", "CompletedAt", "VersionLabel", "KmsKeyIdentifier", "KmsKeyArn", "AppliedExtensions"}
SUMMARY_MEMBERS = {
    "DeploymentNumber",
    "ConfigurationProfileId",
    "ConfigurationName",
    "ConfigurationVersion",
    "DeploymentDurationInMinutes",
    "GrowthType",
    "GrowthFactor",
    "FinalBakeTimeInMinutes",
    "State",
    "PercentageComplete",
    "StartedAt",
    "Type",
}
SUMMARY_OPTIONAL = {"CompletedAt", "VersionLabel"}


def world(client):
    """An application `payments` with a hosted profile `limits` holding versions 1 and 2
    (label `stable`) and 3 (no label), an environment `prod`, and the INSTANT and SLOW
    strategies."""
    app_id = new_app(client, "payments")
    profile_id = new_profile(client, app_id, "limits")
    new_version(client, app_id, profile_id, b'{"limit": 1}', VersionLabel="stable")
    new_version(client, app_id, profile_id, b'{"limit": 2}', VersionLabel="stable")
    new_version(client, app_id, profile_id, b'{"limit": 3}')
    return SimpleNamespace(
        app=app_id,
        profile=profile_id,
        env=new_env(client, app_id, "prod"),
        instant=new_strategy(client, "instant", DeploymentDurationInMinutes=0, FinalBakeTimeInMinutes=0, GrowthFactor=100),
        slow=new_strategy(
            client, "slow", DeploymentDurationInMinutes=60, FinalBakeTimeInMinutes=0, GrowthFactor=10, GrowthType="LINEAR"
        ),
    )


def deploy(client, w, version=1, strategy="AppConfig.AllAtOnce", env=None, **kw):
    return new_deployment(client, w.app, env or w.env, w.profile, version, strategy, **kw)


def get(client, w, number, env=None):
    return ok(client.get_deployment(ApplicationId=w.app, EnvironmentId=env or w.env, DeploymentNumber=number), 200)


def stop(client, w, number, env=None, **kw):
    return ok(
        client.stop_deployment(ApplicationId=w.app, EnvironmentId=env or w.env, DeploymentNumber=number, **kw), 202
    )


def env_state(client, w, env=None):
    return ok(client.get_environment(ApplicationId=w.app, EnvironmentId=env or w.env), 200)["State"]


def listed(client, w, env=None, **kw):
    return ok(client.list_deployments(ApplicationId=w.app, EnvironmentId=env or w.env, **kw), 200)


def is_number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


def is_time(x) -> bool:
    return isinstance(x, datetime.datetime) and x.tzinfo is not None


def event_types(d) -> list[str]:
    return [e["EventType"] for e in d["EventLog"]]


def assert_deployment(d: dict) -> dict:
    """Every member of the `Deployment` shape present and of its modelled type; the event
    log newest first. Returns the modelled members."""
    d = body(d)
    assert DEPLOYMENT_MEMBERS <= d.keys(), f"missing {DEPLOYMENT_MEMBERS - d.keys()} in {d}"
    unmodelled = d.keys() - DEPLOYMENT_MEMBERS - DEPLOYMENT_OPTIONAL
    assert not unmodelled, f"unmodelled members {unmodelled}"
    for key in ("ApplicationId", "EnvironmentId", "ConfigurationProfileId"):
        assert ID.fullmatch(d[key]), (key, d[key])
    for key in ("DeploymentNumber", "DeploymentDurationInMinutes", "FinalBakeTimeInMinutes"):
        assert is_int(d[key]), (key, d[key])
    for key in ("GrowthFactor", "PercentageComplete"):
        assert is_number(d[key]) and 1 <= d[key] <= 100, (key, d[key])
    for key in ("DeploymentStrategyId", "ConfigurationName", "ConfigurationLocationUri", "ConfigurationVersion"):
        assert isinstance(d[key], str) and d[key], (key, d[key])
    assert d["DeploymentNumber"] >= 1
    assert d["ConfigurationVersion"].isdigit(), d["ConfigurationVersion"]
    assert d["GrowthType"] in {"LINEAR", "EXPONENTIAL"}
    assert d["State"] in DEPLOYMENT_STATES
    assert is_time(d["StartedAt"]), d["StartedAt"]
    now = datetime.datetime.now(datetime.timezone.utc)
    assert abs(now - d["StartedAt"]) < datetime.timedelta(minutes=5), (now, d["StartedAt"])
    if "CompletedAt" in d:
        assert is_time(d["CompletedAt"]) and d["CompletedAt"] >= d["StartedAt"]
    assert isinstance(d["EventLog"], list) and d["EventLog"], d
    for event in d["EventLog"]:
        assert event.keys() <= {"EventType", "TriggeredBy", "Description", "ActionInvocations", "OccurredAt"}, event
        assert event["EventType"] in EVENT_TYPES, event
        assert event["TriggeredBy"] in TRIGGERS, event
        assert isinstance(event.get("Description", ""), str)
        assert is_time(event["OccurredAt"]) and event["OccurredAt"] >= d["StartedAt"], event
    times = [e["OccurredAt"] for e in d["EventLog"]]
    assert times == sorted(times, reverse=True), f"event log not newest first: {d['EventLog']}"
    assert d["EventLog"][-1]["EventType"] == "DEPLOYMENT_STARTED", d["EventLog"]
    return d


def assert_summary(s: dict) -> None:
    assert SUMMARY_MEMBERS <= s.keys(), f"missing {SUMMARY_MEMBERS - s.keys()} in {s}"
    unmodelled = s.keys() - SUMMARY_MEMBERS - SUMMARY_OPTIONAL
    assert not unmodelled, f"unmodelled members {unmodelled}"
    assert is_int(s["DeploymentNumber"]) and is_int(s["DeploymentDurationInMinutes"])
    assert is_int(s["FinalBakeTimeInMinutes"])
    assert is_number(s["GrowthFactor"]) and is_number(s["PercentageComplete"])
    assert s["State"] in DEPLOYMENT_STATES
    assert s["Type"] in {"USER", "MANAGED"}
    assert is_time(s["StartedAt"])


# -- StartDeployment -----------------------------------------------------------------


def test_start_deployment_by_version_number_answers_201_with_every_member_of_deployment(client):
    w = world(client)
    d = assert_deployment(deploy(client, w, 1, Description="first rollout"))
    assert {k: d[k] for k in d if k not in ("StartedAt", "EventLog")} == {
        "ApplicationId": w.app,
        "EnvironmentId": w.env,
        "DeploymentStrategyId": "AppConfig.AllAtOnce",
        "ConfigurationProfileId": w.profile,
        "DeploymentNumber": 1,
        "ConfigurationName": "limits",
        "ConfigurationLocationUri": "hosted",
        "ConfigurationVersion": "1",
        "Description": "first rollout",
        "DeploymentDurationInMinutes": 0,
        "GrowthType": "LINEAR",
        "GrowthFactor": 100,
        "FinalBakeTimeInMinutes": 10,
        "State": "BAKING",
        "PercentageComplete": 100,
        "VersionLabel": "stable",
    }
    # AllAtOnce: started, then baking at once (same instant); not completed yet.
    assert set(event_types(d)) == {"DEPLOYMENT_STARTED", "BAKE_TIME_STARTED"}
    assert event_types(d)[-1] == "DEPLOYMENT_STARTED"
    assert "CompletedAt" not in d


def test_start_deployment_by_label_resolves_the_newest_version_carrying_it(client):
    w = world(client)
    d = assert_deployment(deploy(client, w, "stable"))
    assert d["ConfigurationVersion"] == "2"
    assert d["VersionLabel"] == "stable"
    # A version without a label: no VersionLabel.
    d3 = assert_deployment(deploy(client, w, 3, w.instant))
    assert d3["ConfigurationVersion"] == "3" and "VersionLabel" not in d3
    assert d3["DeploymentNumber"] == 2


def test_a_user_strategy_is_copied_into_the_deployment(client):
    w = world(client)
    d = assert_deployment(deploy(client, w, 1, w.slow))
    assert d["DeploymentStrategyId"] == w.slow
    assert (d["DeploymentDurationInMinutes"], d["GrowthType"], d["GrowthFactor"], d["FinalBakeTimeInMinutes"]) == (
        60,
        "LINEAR",
        10,
        0,
    )
    assert d["State"] == "DEPLOYING" and d["PercentageComplete"] == 10
    assert event_types(d) == ["DEPLOYMENT_STARTED"]
    assert "CompletedAt" not in d
    # A later change to the strategy does not change the running deployment.
    ok(client.update_deployment_strategy(DeploymentStrategyId=w.slow, GrowthFactor=50), 200)
    assert get(client, w, 1)["GrowthFactor"] == 10


def test_a_predefined_strategy_is_copied_into_the_deployment(client):
    w = world(client)
    first_step = {
        "AppConfig.AllAtOnce": ("BAKING", 100),
        "AppConfig.Linear50PercentEvery30Seconds": ("DEPLOYING", 50),
        "AppConfig.Canary10Percent20Minutes": ("DEPLOYING", 10),
        "AppConfig.Linear20PercentEvery6Minutes": ("DEPLOYING", 20),
    }
    for strategy_id, (state, percentage) in first_step.items():
        env_id = new_env(client, w.app, strategy_id.split(".")[1])
        strategy = ok(client.get_deployment_strategy(DeploymentStrategyId=strategy_id), 200)
        d = assert_deployment(deploy(client, w, 1, strategy_id, env=env_id))
        for key in ("DeploymentDurationInMinutes", "GrowthType", "GrowthFactor", "FinalBakeTimeInMinutes"):
            assert d[key] == strategy[key], (strategy_id, key, d[key], strategy[key])
        assert (d["State"], d["PercentageComplete"]) == (state, percentage), strategy_id


def test_a_strategy_of_zero_minutes_and_no_bake_completes_at_once(client):
    w = world(client)
    d = assert_deployment(deploy(client, w, 1, w.instant))
    assert d["State"] == "COMPLETE" and d["PercentageComplete"] == 100
    assert d["CompletedAt"] == d["StartedAt"]
    assert "DEPLOYMENT_COMPLETED" in event_types(d) and "BAKE_TIME_STARTED" not in event_types(d)
    assert env_state(client, w) == "READY_FOR_DEPLOYMENT"


def test_start_deployment_keeps_a_kms_key_identifier(client):
    w = world(client)
    d = assert_deployment(deploy(client, w, 1, KmsKeyIdentifier="alias/config"))
    assert d["KmsKeyIdentifier"] == "alias/config"
    assert get(client, w, 1)["KmsKeyIdentifier"] == "alias/config"


def test_deployment_numbers_are_per_environment(client):
    w = world(client)
    other = new_env(client, w.app, "staging")
    assert deploy(client, w, 1, w.instant)["DeploymentNumber"] == 1
    assert deploy(client, w, 2, w.instant)["DeploymentNumber"] == 2
    assert deploy(client, w, 1, w.instant, env=other)["DeploymentNumber"] == 1
    assert deploy(client, w, 3, w.instant)["DeploymentNumber"] == 3


# -- GetDeployment, ListDeployments --------------------------------------------------


def test_get_deployment_answers_200_with_what_was_started(client):
    w = world(client)
    started = assert_deployment(deploy(client, w, "stable", Description="d"))
    got = assert_deployment(get(client, w, 1))
    assert got == started


def test_list_deployments_answers_200_newest_first_with_summaries(client):
    w = world(client)
    other = new_env(client, w.app, "elsewhere")
    deploy(client, w, 1, w.instant, env=other)
    deploy(client, w, 1, w.instant)
    deploy(client, w, 3, w.instant)
    deploy(client, w, "stable")  # BAKING
    resp = listed(client, w)
    assert "NextToken" not in resp
    items = resp["Items"]
    assert [i["DeploymentNumber"] for i in items] == [3, 2, 1]
    for item in items:
        assert_summary(item)
    assert [i["State"] for i in items] == ["BAKING", "COMPLETE", "COMPLETE"]
    assert [i["ConfigurationVersion"] for i in items] == ["2", "3", "1"]
    assert items[0]["VersionLabel"] == "stable" and "VersionLabel" not in items[1]
    assert {i["Type"] for i in items} == {"USER"}
    # Each summary is the deployment's own members.
    for item in items:
        full = get(client, w, item["DeploymentNumber"])
        assert {k: full[k] for k in item if k != "Type"} == {k: v for k, v in item.items() if k != "Type"}
    assert [i["DeploymentNumber"] for i in listed(client, w, env=other)["Items"]] == [1]


def test_list_deployments_of_an_environment_without_any_is_empty(client):
    w = world(client)
    resp = listed(client, w)
    assert resp["Items"] == [] and "NextToken" not in resp


def test_list_deployments_pages_with_max_results_and_next_token(client):
    w = world(client)
    for _ in range(5):
        deploy(client, w, 1, w.instant)
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        resp = listed(client, w, MaxResults=2, **kw)
        pages += 1
        seen += [i["DeploymentNumber"] for i in resp["Items"]]
        assert resp.get("NextToken") != token
        token = resp.get("NextToken")
        if not token:
            break
        assert len(resp["Items"]) == 2
    assert seen == [5, 4, 3, 2, 1] and pages == 3


def test_list_deployments_through_the_boto3_paginator(client):
    w = world(client)
    for _ in range(5):
        deploy(client, w, 1, w.instant)
    assert client.can_paginate("list_deployments")
    pages = list(
        client.get_paginator("list_deployments").paginate(
            ApplicationId=w.app, EnvironmentId=w.env, PaginationConfig={"PageSize": 2}
        )
    )
    assert [[i["DeploymentNumber"] for i in p["Items"]] for p in pages] == [[5, 4], [3, 2], [1]]
    assert all(p.get("NextToken") for p in pages[:-1]) and "NextToken" not in pages[-1]
    full = client.get_paginator("list_deployments").paginate(ApplicationId=w.app, EnvironmentId=w.env)
    assert [i["DeploymentNumber"] for p in full for i in p["Items"]] == [5, 4, 3, 2, 1]


def test_list_deployments_with_bad_paging_members_is_a_bad_request(client, loose_client):
    w = world(client)
    deploy(client, w, 1, w.instant)
    for kw in ({"MaxResults": 51}, {"NextToken": "t" * 2049}, {"NextToken": "not-a-token-from-this-server"}):
        with bad_request(client):
            listed(client, w, **kw)
    with bad_request(loose_client):
        loose_client.list_deployments(ApplicationId=w.app, EnvironmentId=w.env, MaxResults=0)
    assert len(listed(client, w, MaxResults=50)["Items"]) == 1


# -- StopDeployment ------------------------------------------------------------------


def test_stop_deployment_of_a_deploying_deployment_rolls_it_back(client):
    w = world(client)
    deploy(client, w, 1, w.instant)
    deploy(client, w, 2, w.slow)
    assert env_state(client, w) == "DEPLOYING"
    stopped = assert_deployment(stop(client, w, 2))
    assert stopped["DeploymentNumber"] == 2
    assert stopped["State"] == "ROLLED_BACK"
    assert stopped["PercentageComplete"] == 10  # frozen where it was
    assert "CompletedAt" in stopped
    assert {"ROLLBACK_STARTED", "ROLLBACK_COMPLETED"} <= set(event_types(stopped))
    assert event_types(stopped)[0] == "ROLLBACK_COMPLETED"
    got = assert_deployment(get(client, w, 2))
    assert got["State"] == "ROLLED_BACK" and got["CompletedAt"] == stopped["CompletedAt"]
    assert env_state(client, w) == "ROLLED_BACK"
    assert [i["State"] for i in listed(client, w)["Items"]] == ["ROLLED_BACK", "COMPLETE"]
    # Stopped once only.
    with bad_request(client):
        client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2)
    # A rolled-back environment takes a new deployment.
    assert deploy(client, w, 3, w.instant)["DeploymentNumber"] == 3
    assert env_state(client, w) == "READY_FOR_DEPLOYMENT"


def test_stop_deployment_of_a_baking_deployment_rolls_it_back(client):
    w = world(client)
    deploy(client, w, 1)  # AllAtOnce: BAKING
    stopped = assert_deployment(stop(client, w, 1))
    assert stopped["State"] == "ROLLED_BACK" and stopped["PercentageComplete"] == 100
    assert env_state(client, w) == "ROLLED_BACK"


def test_stop_deployment_of_a_complete_deployment_needs_allow_revert(client):
    w = world(client)
    deploy(client, w, 1, w.instant)
    for kw in ({}, {"AllowRevert": False}):
        with bad_request(client):
            client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=1, **kw)
    assert get(client, w, 1)["State"] == "COMPLETE"
    reverted = assert_deployment(stop(client, w, 1, AllowRevert=True))
    assert reverted["State"] == "REVERTED"
    assert event_types(reverted)[0] == "REVERT_COMPLETED"
    assert get(client, w, 1)["State"] == "REVERTED"
    assert env_state(client, w) == "REVERTED"
    with bad_request(client):
        client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=1, AllowRevert=True)


def test_only_the_latest_deployment_can_be_reverted(client):
    w = world(client)
    deploy(client, w, 1, w.instant)
    deploy(client, w, 2, w.instant)
    with bad_request(client):
        client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=1, AllowRevert=True)
    assert get(client, w, 1)["State"] == "COMPLETE"
    assert stop(client, w, 2, AllowRevert=True)["State"] == "REVERTED"


def test_allow_revert_on_a_deploying_deployment_still_rolls_it_back(client):
    w = world(client)
    deploy(client, w, 1, w.slow)
    assert stop(client, w, 1, AllowRevert=True)["State"] == "ROLLED_BACK"


def test_stop_deployment_with_an_allow_revert_header_that_is_no_boolean_is_a_bad_request(server, client):
    w = world(client)
    deploy(client, w, 1, w.slow)
    resp = raw(
        server.endpoint,
        "DELETE",
        f"/applications/{w.app}/environments/{w.env}/deployments/1",
        headers={"Allow-Revert": "yes"},
    )
    assert_raw_error(resp, "BadRequestException", 400)
    assert get(client, w, 1)["State"] == "DEPLOYING"


# -- environment state -----------------------------------------------------------------


def test_environment_state_follows_its_latest_deployment(client):
    w = world(client)
    assert env_state(client, w) == "READY_FOR_DEPLOYMENT"
    deploy(client, w, 1)  # BAKING
    assert env_state(client, w) == "DEPLOYING"
    listed_envs = ok(client.list_environments(ApplicationId=w.app), 200)["Items"]
    assert [e["State"] for e in listed_envs] == ["DEPLOYING"]
    # A baking deployment does not block the next one; it is complete from then on.
    second = deploy(client, w, 2, w.instant)
    assert second["State"] == "COMPLETE"
    first = get(client, w, 1)
    assert first["State"] == "COMPLETE" and first["CompletedAt"] == second["StartedAt"]
    assert env_state(client, w) == "READY_FOR_DEPLOYMENT"
    deploy(client, w, 3, w.slow)
    assert env_state(client, w) == "DEPLOYING"
    stop(client, w, 3)
    assert env_state(client, w) == "ROLLED_BACK"
    deploy(client, w, 1, w.instant)
    assert env_state(client, w) == "READY_FOR_DEPLOYMENT"
    stop(client, w, 4, AllowRevert=True)
    assert env_state(client, w) == "REVERTED"
    # Another environment of the application is untouched.
    assert env_state(client, w, env=new_env(client, w.app, "quiet")) == "READY_FOR_DEPLOYMENT"


# -- conflicts -----------------------------------------------------------------------


def test_a_second_deployment_while_one_is_deploying_is_a_conflict(client):
    w = world(client)
    deploy(client, w, 1, w.slow)
    for strategy in (w.instant, "AppConfig.AllAtOnce", w.slow):
        with conflict(client):
            deploy(client, w, 2, strategy)
    assert [i["DeploymentNumber"] for i in listed(client, w)["Items"]] == [1]
    # Other environments are not blocked.
    assert deploy(client, w, 2, w.instant, env=new_env(client, w.app, "other"))["DeploymentNumber"] == 1


def test_a_stale_latest_deployment_number_is_a_conflict(client):
    w = world(client)
    with conflict(client):
        deploy(client, w, 1, w.instant, LatestDeploymentNumber=1)
    assert deploy(client, w, 1, w.instant, LatestDeploymentNumber=0)["DeploymentNumber"] == 1
    for stale in (0, 2, 7):
        with conflict(client):
            deploy(client, w, 2, w.instant, LatestDeploymentNumber=stale)
    assert [i["DeploymentNumber"] for i in listed(client, w)["Items"]] == [1]
    assert deploy(client, w, 2, w.instant, LatestDeploymentNumber=1)["DeploymentNumber"] == 2


def test_delete_environment_while_a_deployment_is_deploying_or_baking_is_a_conflict(client):
    w = world(client)
    deploy(client, w, 1, w.slow)
    with conflict(client):
        client.delete_environment(ApplicationId=w.app, EnvironmentId=w.env)
    stop(client, w, 1)
    baking = new_env(client, w.app, "baking")
    deploy(client, w, 1, env=baking)
    with conflict(client):
        client.delete_environment(ApplicationId=w.app, EnvironmentId=baking)
    done = new_env(client, w.app, "done")
    deploy(client, w, 1, w.instant, env=done)
    # Rolled back and complete environments can go.
    ok(client.delete_environment(ApplicationId=w.app, EnvironmentId=w.env), 204)
    ok(client.delete_environment(ApplicationId=w.app, EnvironmentId=done), 204)
    assert [e["Id"] for e in ok(client.list_environments(ApplicationId=w.app), 200)["Items"]] == [baking]


# -- not found -----------------------------------------------------------------------


def test_deployment_operations_on_missing_resources_are_resource_not_found(client):
    w = world(client)
    deploy(client, w, 1, w.instant)
    other_app = new_app(client, "other")
    foreign_profile = new_profile(client, other_app, "foreign")
    new_version(client, other_app, foreign_profile, b"{}")
    ok(client.delete_hosted_configuration_version(ApplicationId=w.app, ConfigurationProfileId=w.profile, VersionNumber=3), 204)

    def start(**kw):
        args = {
            "ApplicationId": w.app,
            "EnvironmentId": w.env,
            "DeploymentStrategyId": w.instant,
            "ConfigurationProfileId": w.profile,
            "ConfigurationVersion": "1",
        }
        return lambda: client.start_deployment(**(args | kw))

    calls = {
        "start, application": start(ApplicationId="nope123"),
        "start, environment": start(EnvironmentId="nope123"),
        "start, environment of another application": start(ApplicationId=other_app),
        "start, profile": start(ConfigurationProfileId="nope123"),
        "start, profile of another application": start(ConfigurationProfileId=foreign_profile),
        "start, strategy": start(DeploymentStrategyId="nope123"),
        "start, predefined strategy": start(DeploymentStrategyId="AppConfig.NoSuchStrategy"),
        "start, version number": start(ConfigurationVersion="99"),
        "start, deleted version": start(ConfigurationVersion="3"),
        "start, label": start(ConfigurationVersion="no-such-label"),
        "get, application": lambda: client.get_deployment(ApplicationId="nope123", EnvironmentId=w.env, DeploymentNumber=1),
        "get, environment": lambda: client.get_deployment(ApplicationId=w.app, EnvironmentId="nope123", DeploymentNumber=1),
        "get, number": lambda: client.get_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2),
        "list, application": lambda: client.list_deployments(ApplicationId="nope123", EnvironmentId=w.env),
        "list, environment": lambda: client.list_deployments(ApplicationId=w.app, EnvironmentId="nope123"),
        "stop, application": lambda: client.stop_deployment(ApplicationId="nope123", EnvironmentId=w.env, DeploymentNumber=1),
        "stop, environment": lambda: client.stop_deployment(ApplicationId=w.app, EnvironmentId="nope123", DeploymentNumber=1),
        "stop, number": lambda: client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2),
        "stop, revert of a missing number": lambda: client.stop_deployment(
            ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=9, AllowRevert=True
        ),
    }
    for what, call in calls.items():
        with not_found(client) as info:
            call()
        assert_resource_name(info)
        print("refused as not found:", what)  # pytest shows it when a later call fails
    assert [i["DeploymentNumber"] for i in listed(client, w)["Items"]] == [1]


# -- bad requests --------------------------------------------------------------------


def test_start_deployment_with_bad_members_is_a_bad_request(client, loose_client):
    w = world(client)
    base = {
        "ApplicationId": w.app,
        "EnvironmentId": w.env,
        "DeploymentStrategyId": w.instant,
        "ConfigurationProfileId": w.profile,
        "ConfigurationVersion": "1",
    }
    for members in (
        {"DeploymentStrategyId": "not a strategy!"},
        {"DeploymentStrategyId": "AppConfig.Short"},
        {"ConfigurationProfileId": "p" * 129},
        {"ConfigurationVersion": "9" * 1025},
        {"Description": "d" * 1025},
        {"Tags": {f"k{i}": "v" for i in range(51)}},
        {"Tags": {"k" * 129: "v"}},
        {"Tags": {"k": "v" * 257}},
        {"KmsKeyIdentifier": "k" * 2049},
        {"DynamicExtensionParameters": {"no-hash": "v"}},
        {"DynamicExtensionParameters": {f"ext#p{i}": "v" for i in range(11)}},
        {"DynamicExtensionParameters": {"ext#param": "v" * 2049}},
        {"LatestDeploymentNumber": -1},
        {"ApplicationId": "a" * 65},
        {"EnvironmentId": "e" * 65},
    ):
        with bad_request(client):
            client.start_deployment(**(base | members))
    for members in (
        {"ConfigurationVersion": ""},
        {"ConfigurationProfileId": ""},
        {"KmsKeyIdentifier": ""},
        {"DynamicExtensionParameters": {}},
    ):
        with bad_request(loose_client):
            loose_client.start_deployment(**(base | members))
    for missing in ("DeploymentStrategyId", "ConfigurationProfileId", "ConfigurationVersion"):
        with bad_request(loose_client):
            loose_client.start_deployment(**{k: v for k, v in base.items() if k != missing})
    assert listed(client, w)["Items"] == []
    # The bounds themselves are accepted.
    d = ok(
        client.start_deployment(
            **base,
            Description="d" * 1024,
            Tags={f"k{i}": "v" * 256 for i in range(50)},
            DynamicExtensionParameters={"ext#param": "v"},
        ),
        201,
    )
    assert d["Description"] == "d" * 1024


def test_get_and_stop_deployment_with_bad_labels_are_bad_requests(server, client):
    w = world(client)
    deploy(client, w, 1, w.slow)
    for call in (
        lambda: client.get_deployment(ApplicationId="a" * 65, EnvironmentId=w.env, DeploymentNumber=1),
        lambda: client.get_deployment(ApplicationId=w.app, EnvironmentId="e" * 65, DeploymentNumber=1),
        lambda: client.stop_deployment(ApplicationId=w.app, EnvironmentId="e" * 65, DeploymentNumber=1),
        lambda: client.list_deployments(ApplicationId="a" * 65, EnvironmentId=w.env),
    ):
        with bad_request(client):
            call()
    for method in ("GET", "DELETE"):
        resp = raw(server.endpoint, method, f"/applications/{w.app}/environments/{w.env}/deployments/one")
        assert_raw_error(resp, "BadRequestException", 400)
    assert get(client, w, 1)["State"] == "DEPLOYING"


# -- restart -------------------------------------------------------------------------


def snapshot(client, w, envs):
    out = {}
    for env in envs:
        pages = client.get_paginator("list_deployments").paginate(ApplicationId=w.app, EnvironmentId=env)
        summaries = [i for p in pages for i in p["Items"]]
        out[env] = {
            "state": env_state(client, w, env=env),
            "summaries": summaries,
            "deployments": [body(get(client, w, s["DeploymentNumber"], env=env)) for s in summaries],
        }
    return out


def test_deployments_and_their_numbers_survive_a_restart(server, client):
    w = world(client)
    baking, stopped, reverted = (new_env(client, w.app, n) for n in ("baking", "stopped", "reverted"))
    deploy(client, w, 1, w.instant, Description="one")
    deploy(client, w, "stable", w.slow, KmsKeyIdentifier="alias/k")  # prod: 2 DEPLOYING
    deploy(client, w, 3, env=baking)
    deploy(client, w, 1, w.slow, env=stopped)
    stop(client, w, 1, env=stopped)
    deploy(client, w, 1, w.instant, env=reverted)
    stop(client, w, 1, env=reverted, AllowRevert=True)
    envs = [w.env, baking, stopped, reverted]
    before = snapshot(client, w, envs)
    assert [before[e]["state"] for e in envs] == ["DEPLOYING", "DEPLOYING", "ROLLED_BACK", "REVERTED"]

    server.restart()
    c2 = server.client()
    assert snapshot(c2, w, envs) == before

    # Still deploying after the restart: a conflict, and a stop works.
    with conflict(c2):
        deploy(c2, w, 1, w.instant)
    with conflict(c2):
        c2.delete_environment(ApplicationId=w.app, EnvironmentId=baking)
    assert stop(c2, w, 2)["State"] == "ROLLED_BACK"
    # Numbering continues, and the lock sees the latest number from before.
    with conflict(c2):
        deploy(c2, w, 1, w.instant, LatestDeploymentNumber=1)
    assert deploy(c2, w, 1, w.instant, LatestDeploymentNumber=2)["DeploymentNumber"] == 3
    assert deploy(c2, w, 1, w.instant, env=stopped)["DeploymentNumber"] == 2
    # The baking deployment is superseded by a new one after the restart too.
    assert deploy(c2, w, 1, w.instant, env=baking)["DeploymentNumber"] == 2
    assert get(c2, w, 1, env=baking)["State"] == "COMPLETE"
