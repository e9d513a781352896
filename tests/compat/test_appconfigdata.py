"""AppConfigData: StartConfigurationSession and GetLatestConfiguration (reference section 4;
docs/design/deployments.md, AppConfigData sessions) with boto3's `appconfigdata` client
on the same `verso serve` as AppConfig.

The tests that poll a session more than once run on a server started with
`--poll-interval-check off` (`@relaxed`), so the next poll may come at once; tokens stay
single-use there. The others run on a default server, which enforces the session's poll
interval as AWS does (the initial token may be used at once).
"""

from contextlib import contextmanager
from types import SimpleNamespace

from support import (
    assert_raw_error,
    bad_request,
    new_app,
    new_deployment,
    new_env,
    new_profile,
    new_strategy,
    new_version,
    ok,
    raw,
    refused,
    relaxed,
)

V1 = b'{"limit": 1}'
V2 = b"limit=2\n"


def world(client):
    """`payments` / `limits` (hosted) / `prod`, version 1 (JSON, label v1) and version 2
    (text, label v2), nothing deployed."""
    app_id = new_app(client, "payments")
    profile_id = new_profile(client, app_id, "limits")
    new_version(client, app_id, profile_id, V1, "application/json", VersionLabel="v1")
    new_version(client, app_id, profile_id, V2, "text/plain", VersionLabel="v2")
    return SimpleNamespace(app=app_id, profile=profile_id, env=new_env(client, app_id, "prod"))


def deploy(client, w, version, strategy="AppConfig.AllAtOnce"):
    return new_deployment(client, w.app, w.env, w.profile, version, strategy)


def start(data, w=None, interval=15, **ids) -> str:
    """StartConfigurationSession (201); returns the initial token."""
    args = {}
    if w is not None:
        args = {"ApplicationIdentifier": w.app, "EnvironmentIdentifier": w.env, "ConfigurationProfileIdentifier": w.profile}
    args |= ids
    if interval is not None:
        args["RequiredMinimumPollIntervalInSeconds"] = interval
    resp = ok(data.start_configuration_session(**args), 201)
    token = resp["InitialConfigurationToken"]
    assert isinstance(token, str) and 1 <= len(token) <= 8192 and not any(c.isspace() for c in token)
    return token


def poll(data, token: str) -> tuple[bytes, dict]:
    """GetLatestConfiguration (200): the body's bytes and the response."""
    resp = ok(data.get_latest_configuration(ConfigurationToken=token), 200)
    content = resp["Configuration"].read()
    nxt = resp["NextPollConfigurationToken"]
    assert isinstance(nxt, str) and nxt and nxt != token and len(nxt) <= 8192
    assert isinstance(resp["NextPollIntervalInSeconds"], int)
    if not content:
        assert resp.get("VersionLabel") in (None, ""), resp
    return content, resp


def poll_until_empty(data, token: str) -> str:
    """One poll that must find nothing new; returns the next token."""
    content, resp = poll(data, token)
    assert content == b"", content
    return resp["NextPollConfigurationToken"]


def assert_problem(info, problem: str) -> None:
    """A BadRequestException about the token: Reason InvalidParameters and
    Details.InvalidParameters.ConfigurationToken.Problem."""
    resp = info.value.response
    assert resp.get("Reason") == "InvalidParameters", resp
    assert resp.get("Details") == {"InvalidParameters": {"ConfigurationToken": {"Problem": problem}}}, resp


def token_refused(data, token: str, problem: str) -> None:
    with bad_request(data) as info:
        data.get_latest_configuration(ConfigurationToken=token)
    assert_problem(info, problem)


@contextmanager
def data_not_found(data, resource_type: str):
    """ResourceNotFoundException with AppConfigData's ResourceType member."""
    with refused(data, "ResourceNotFoundException", 404) as info:
        yield info
    assert info.value.response.get("ResourceType") == resource_type, info.value.response


# -- the issue's flow ----------------------------------------------------------------


@relaxed
def test_deploy_poll_redeploy_poll_reuse_restart(server, client, data_client):
    w = world(client)
    d = deploy(client, w, 1)
    assert d["State"] == "BAKING"

    token = start(data_client, w, interval=15)
    content, first = poll(data_client, token)
    assert content == V1
    assert first["ContentType"] == "application/json"
    assert first["VersionLabel"] == "v1"
    assert first["NextPollIntervalInSeconds"] == 15

    # The client holds the live version: an empty body, still 200.
    content, second = poll(data_client, first["NextPollConfigurationToken"])
    assert content == b""

    # A new version, deployed while the first deployment is baking (allowed).
    third_deployment = deploy(client, w, 2)
    assert third_deployment["DeploymentNumber"] == 2
    used = second["NextPollConfigurationToken"]
    content, third = poll(data_client, used)
    assert content == V2
    assert third["ContentType"] == "text/plain"
    assert third["VersionLabel"] == "v2"

    # A token is single-use.
    token_refused(data_client, used, "Expired")
    token_refused(data_client, token, "Expired")

    # A clean restart keeps the session and its latest token valid.
    latest = third["NextPollConfigurationToken"]
    server.restart()
    data2 = server.data_client()
    after = poll_until_empty(data2, latest)
    token_refused(data2, used, "Expired")
    token_refused(data2, latest, "Expired")
    poll_until_empty(data2, after)


# -- poll interval -------------------------------------------------------------------


def test_by_default_a_poll_sooner_than_the_interval_is_refused_and_the_token_kept(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    token = start(data_client, w, interval=15)
    # The initial token may be used at once.
    content, resp = poll(data_client, token)
    assert content == V1
    assert resp["NextPollIntervalInSeconds"] == 15
    nxt = resp["NextPollConfigurationToken"]
    # Too early, twice: the refusal does not use the token up (it would be Expired).
    token_refused(data_client, nxt, "PollIntervalNotSatisfied")
    token_refused(data_client, nxt, "PollIntervalNotSatisfied")
    # A used token is Expired whatever the interval.
    token_refused(data_client, token, "Expired")


def test_by_default_a_session_polls_every_60_seconds(client, data_client):
    w = world(client)
    content, resp = poll(data_client, start(data_client, w, interval=None))
    assert content == b""
    assert resp["NextPollIntervalInSeconds"] == 60
    token_refused(data_client, resp["NextPollConfigurationToken"], "PollIntervalNotSatisfied")


def test_the_poll_interval_bounds_are_15_and_86400_seconds(client, data_client, loose_data_client):
    w = world(client)
    for interval in (15, 86400):
        _, resp = poll(data_client, start(data_client, w, interval=interval))
        assert resp["NextPollIntervalInSeconds"] == interval
    with bad_request(data_client):
        start(data_client, w, interval=86401)
    for interval in (14, 0, -1):
        with bad_request(loose_data_client):
            start(loose_data_client, w, interval=interval)


# -- tokens --------------------------------------------------------------------------


def test_a_token_this_server_did_not_issue_is_corrupted(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    token = start(data_client, w)
    flipped = token[:-1] + ("0" if token[-1] != "0" else "1")
    middle = len(token) // 2
    tampered = token[:middle] + ("0" if token[middle] != "0" else "1") + token[middle + 1 :]
    for bad in ("garbage", "A" * 100, flipped, tampered, token[:-2], token + "00", "x" * 8192):
        token_refused(data_client, bad, "Corrupted")
    # None of that touched the real token.
    content, _ = poll(data_client, token)
    assert content == V1


def test_a_token_that_is_empty_too_long_or_missing_is_a_bad_request(server, client, loose_data_client):
    w = world(client)
    for bad in ("", "t" * 8193):
        with bad_request(loose_data_client):
            loose_data_client.get_latest_configuration(ConfigurationToken=bad)
    with bad_request(loose_data_client):
        loose_data_client.get_latest_configuration()
    assert_raw_error(raw(server.endpoint, "GET", "/configuration"), "BadRequestException", 400)
    start(loose_data_client, w)  # the server is fine


@relaxed
def test_tokens_of_two_sessions_are_independent(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    a, b = start(data_client, w), start(data_client, w)
    content_a, resp_a = poll(data_client, a)
    content_b, resp_b = poll(data_client, b)
    assert content_a == content_b == V1
    token_refused(data_client, a, "Expired")
    poll_until_empty(data_client, resp_b["NextPollConfigurationToken"])
    poll_until_empty(data_client, resp_a["NextPollConfigurationToken"])


# -- what a poll returns -------------------------------------------------------------


@relaxed
def test_with_nothing_deployed_a_poll_is_empty_until_a_deployment(client, data_client):
    w = world(client)
    nxt = poll_until_empty(data_client, start(data_client, w))
    nxt = poll_until_empty(data_client, nxt)
    deploy(client, w, 2)
    content, resp = poll(data_client, nxt)
    assert content == V2 and resp["ContentType"] == "text/plain" and resp["VersionLabel"] == "v2"


def test_a_poll_returns_the_exact_bytes_and_no_label_for_an_unlabelled_version(client, data_client):
    w = world(client)
    content = bytes(range(256)) * 4
    number = new_version(client, w.app, w.profile, content, "application/octet-stream")["VersionNumber"]
    deploy(client, w, number)
    got, resp = poll(data_client, start(data_client, w))
    assert got == content
    assert resp["ContentType"] == "application/octet-stream"
    assert resp.get("VersionLabel") in (None, "")


def test_a_session_sees_only_its_own_profile_and_environment(client, data_client):
    w = world(client)
    other_profile = new_profile(client, w.app, "other-profile")
    other_env = new_env(client, w.app, "other-env")
    deploy(client, w, 1)
    poll_until_empty(data_client, start(data_client, w, ConfigurationProfileIdentifier=other_profile))
    poll_until_empty(data_client, start(data_client, w, EnvironmentIdentifier=other_env))
    content, _ = poll(data_client, start(data_client, w))
    assert content == V1


def test_each_profile_of_an_environment_has_its_own_live_version(client, data_client):
    w = world(client)
    flags = new_profile(client, w.app, "flags")
    new_version(client, w.app, flags, b"flags-1", "text/plain")
    new_version(client, w.app, flags, b"flags-2", "text/plain")
    instant = new_strategy(client, "instant", DeploymentDurationInMinutes=0, GrowthFactor=100, FinalBakeTimeInMinutes=0)
    deploy(client, w, 1, instant)
    new_deployment(client, w.app, w.env, flags, 2, instant)
    content, _ = poll(data_client, start(data_client, w))
    assert content == V1
    content, _ = poll(data_client, start(data_client, w, ConfigurationProfileIdentifier="flags"))
    assert content == b"flags-2"
    # Reverting the flags deployment leaves the limits profile as it was.
    ok(client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2, AllowRevert=True), 202)
    content, _ = poll(data_client, start(data_client, w))
    assert content == V1
    poll_until_empty(data_client, start(data_client, w, ConfigurationProfileIdentifier=flags))


@relaxed
def test_the_raw_response_carries_the_modelled_headers(server, client, data_client):
    w = world(client)
    deploy(client, w, 1)
    token = start(data_client, w, interval=30)
    resp = raw(server.endpoint, "GET", f"/configuration?configuration_token={token}")
    assert resp.status == 200, (resp.status, resp.data)
    assert resp.data == V1
    assert resp.headers["content-type"] == "application/json"
    assert resp.headers["version-label"] == "v1"
    assert resp.headers["next-poll-interval-in-seconds"] == "30"
    assert resp.headers["next-poll-configuration-token"]
    assert resp.headers.get("x-amzn-requestid")
    empty = raw(server.endpoint, "GET", f"/configuration?configuration_token={resp.headers['next-poll-configuration-token']}")
    assert empty.status == 200 and empty.data == b""
    assert "version-label" not in empty.headers or empty.headers["version-label"] == ""


# -- identifiers ---------------------------------------------------------------------


def test_sessions_accept_names_as_well_as_ids(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    for ids in (
        {"ApplicationIdentifier": "payments", "EnvironmentIdentifier": "prod", "ConfigurationProfileIdentifier": "limits"},
        {"ApplicationIdentifier": w.app, "EnvironmentIdentifier": "prod", "ConfigurationProfileIdentifier": w.profile},
        {"ApplicationIdentifier": "payments", "EnvironmentIdentifier": w.env, "ConfigurationProfileIdentifier": "limits"},
    ):
        content, _ = poll(data_client, start(data_client, **ids))
        assert content == V1, ids


def test_a_name_shaped_like_an_id_is_looked_up_as_a_name(client, data_client):
    w = world(client)
    env_id = new_env(client, w.app, "qa1234")
    new_deployment(client, w.app, env_id, w.profile, 2)
    content, _ = poll(data_client, start(data_client, w, EnvironmentIdentifier="qa1234"))
    assert content == V2


def test_unknown_identifiers_are_resource_not_found_with_a_resource_type(client, data_client):
    w = world(client)
    other_app = new_app(client, "other")
    foreign_profile = new_profile(client, other_app, "foreign")
    foreign_env = new_env(client, other_app, "foreign-env")
    for ids, resource_type in (
        ({"ApplicationIdentifier": "nope"}, "Application"),
        ({"ApplicationIdentifier": "nope123"}, "Application"),
        ({"EnvironmentIdentifier": "nope"}, "Environment"),
        ({"EnvironmentIdentifier": foreign_env}, "Environment"),
        ({"EnvironmentIdentifier": "foreign-env"}, "Environment"),
        ({"ConfigurationProfileIdentifier": "nope"}, "ConfigurationProfile"),
        ({"ConfigurationProfileIdentifier": foreign_profile}, "ConfigurationProfile"),
        ({"ConfigurationProfileIdentifier": "foreign"}, "ConfigurationProfile"),
    ):
        with data_not_found(data_client, resource_type):
            start(data_client, w, **ids)


def test_start_configuration_session_with_bad_identifiers_is_a_bad_request(client, data_client, loose_data_client):
    w = world(client)
    for member in ("ApplicationIdentifier", "EnvironmentIdentifier", "ConfigurationProfileIdentifier"):
        with bad_request(data_client):
            start(data_client, w, **{member: "n" * 129})
        with bad_request(loose_data_client):
            start(loose_data_client, w, **{member: ""})
        args = {"ApplicationIdentifier": w.app, "EnvironmentIdentifier": w.env, "ConfigurationProfileIdentifier": w.profile}
        del args[member]
        with bad_request(loose_data_client):
            loose_data_client.start_configuration_session(**args)


@relaxed
def test_a_poll_of_a_session_whose_environment_was_deleted_is_resource_not_found(client, data_client):
    w = world(client)
    nxt = poll_until_empty(data_client, start(data_client, w))
    ok(client.delete_environment(ApplicationId=w.app, EnvironmentId=w.env), 204)
    with data_not_found(data_client, "Environment"):
        data_client.get_latest_configuration(ConfigurationToken=nxt)


# -- rollouts, rollbacks, reverts ----------------------------------------------------


@relaxed
def test_a_rollback_returns_the_previous_version_to_every_session(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    tokens = []
    for _ in range(4):
        content, resp = poll(data_client, start(data_client, w))
        assert content == V1
        tokens.append(resp["NextPollConfigurationToken"])
    # 100% at once, then an hour of DEPLOYING: every session gets version 2.
    hour = new_strategy(client, "hour at 100%", DeploymentDurationInMinutes=60, GrowthFactor=100, FinalBakeTimeInMinutes=0)
    d = deploy(client, w, 2, hour)
    assert (d["State"], d["PercentageComplete"]) == ("DEPLOYING", 100)
    for i, token in enumerate(tokens):
        content, resp = poll(data_client, token)
        assert content == V2 and resp["VersionLabel"] == "v2"
        tokens[i] = resp["NextPollConfigurationToken"]
    late = start(data_client, w)
    content, resp = poll(data_client, late)
    assert content == V2
    tokens.append(resp["NextPollConfigurationToken"])

    stopped = ok(client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2), 202)
    assert stopped["State"] == "ROLLED_BACK"
    for token in tokens:
        content, resp = poll(data_client, token)
        assert content == V1
        assert resp["ContentType"] == "application/json" and resp["VersionLabel"] == "v1"
        poll_until_empty(data_client, resp["NextPollConfigurationToken"])
    content, _ = poll(data_client, start(data_client, w))
    assert content == V1


@relaxed
def test_a_revert_returns_the_previous_version(client, data_client):
    w = world(client)
    instant = new_strategy(client, "instant", DeploymentDurationInMinutes=0, GrowthFactor=100, FinalBakeTimeInMinutes=0)
    deploy(client, w, 1, instant)
    deploy(client, w, 2, instant)
    content, resp = poll(data_client, start(data_client, w))
    assert content == V2
    reverted = ok(
        client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2, AllowRevert=True), 202
    )
    assert reverted["State"] == "REVERTED"
    content, resp = poll(data_client, resp["NextPollConfigurationToken"])
    assert content == V1 and resp["VersionLabel"] == "v1"


@relaxed
def test_during_a_gradual_deployment_each_session_keeps_its_answer(client, data_client):
    w = world(client)
    deploy(client, w, 1)
    tokens = []
    for _ in range(12):
        content, resp = poll(data_client, start(data_client, w))
        assert content == V1
        tokens.append(resp["NextPollConfigurationToken"])
    slow = new_strategy(client, "slow", DeploymentDurationInMinutes=60, GrowthFactor=10, FinalBakeTimeInMinutes=0)
    assert deploy(client, w, 2, slow)["PercentageComplete"] == 10
    moved = []
    for i, token in enumerate(tokens):
        content, resp = poll(data_client, token)
        assert content in (b"", V2), content
        moved.append(content == V2)
        tokens[i] = poll_until_empty(data_client, resp["NextPollConfigurationToken"])
    # Stopped: the sessions that moved come back to version 1, the others hold it.
    ok(client.stop_deployment(ApplicationId=w.app, EnvironmentId=w.env, DeploymentNumber=2), 202)
    for token, was_moved in zip(tokens, moved):
        content, _ = poll(data_client, token)
        assert content == (V1 if was_moved else b"")
