"""Restarts: a server stopped with SIGTERM and a new one started on the same data
directory serve everything the first acknowledged, and numbering goes on where it was."""

import http.client
import json
import signal
import time
from urllib.parse import urlsplit

from support import (
    PREDEFINED_STRATEGIES,
    app_arn,
    body,
    env_arn,
    new_app,
    new_env,
    new_profile,
    new_strategy,
    new_version,
    ok,
    profile_arn,
    strategy_arn,
    version_numbers,
)

SCHEMA = json.dumps({"type": "object", "required": ["limit"]})
ALARM = "arn:aws:cloudwatch:us-east-1:123456789012:alarm:errors"


def snapshot(client):
    """Everything a client can read, as plain data."""
    apps = [item for page in client.get_paginator("list_applications").paginate() for item in page["Items"]]
    out = {"applications": {}, "strategies": [], "tags": {}}
    for app in apps:
        app_id = app["Id"]
        entry = {
            "app": body(client.get_application(ApplicationId=app_id)),
            "profiles": {},
            "environments": {},
        }
        for page in client.get_paginator("list_configuration_profiles").paginate(ApplicationId=app_id):
            for summary in page["Items"]:
                profile_id = summary["Id"]
                versions = {}
                for n in version_numbers(client, app_id, profile_id):
                    got = client.get_hosted_configuration_version(
                        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=n
                    )
                    versions[n] = {
                        k: got.get(k) for k in ("VersionNumber", "Description", "ContentType", "VersionLabel")
                    } | {"Content": got["Content"].read()}
                entry["profiles"][profile_id] = {
                    "profile": body(
                        client.get_configuration_profile(ApplicationId=app_id, ConfigurationProfileId=profile_id)
                    ),
                    "versions": versions,
                    "order": version_numbers(client, app_id, profile_id),
                }
                out["tags"][profile_arn(app_id, profile_id)] = client.list_tags_for_resource(
                    ResourceArn=profile_arn(app_id, profile_id)
                )["Tags"]
        for page in client.get_paginator("list_environments").paginate(ApplicationId=app_id):
            for env in page["Items"]:
                entry["environments"][env["Id"]] = env
                out["tags"][env_arn(app_id, env["Id"])] = client.list_tags_for_resource(
                    ResourceArn=env_arn(app_id, env["Id"])
                )["Tags"]
        out["applications"][app_id] = entry
        out["tags"][app_arn(app_id)] = client.list_tags_for_resource(ResourceArn=app_arn(app_id))["Tags"]
    for page in client.get_paginator("list_deployment_strategies").paginate():
        for strategy in page["Items"]:
            out["strategies"].append(strategy)
            if strategy["Id"] not in PREDEFINED_STRATEGIES:
                out["tags"][strategy_arn(strategy["Id"])] = client.list_tags_for_resource(
                    ResourceArn=strategy_arn(strategy["Id"])
                )["Tags"]
    return out


def populate(client):
    app_id = new_app(client, "payments", Description="cards", Tags={"team": "pay"})
    other_app = new_app(client, "search")
    p1 = new_profile(
        client,
        app_id,
        "limits",
        Description="per-card",
        Type="AWS.Freeform",
        Validators=[{"Type": "JSON_SCHEMA", "Content": SCHEMA}],
        Tags={"kind": "limits"},
    )
    p2 = new_profile(client, other_app, "flags", Type="AWS.AppConfig.FeatureFlags")
    new_version(client, app_id, p1, b'{"limit": 1}', Description="one", VersionLabel="stable")
    new_version(client, app_id, p1, b'{"limit": 2}', VersionLabel="stable")
    new_version(client, app_id, p1, bytes(range(256)), "application/octet-stream", Description="bin")
    ok(client.delete_hosted_configuration_version(ApplicationId=app_id, ConfigurationProfileId=p1, VersionNumber=3), 204)
    new_version(client, other_app, p2, b"{}")
    env_id = new_env(client, app_id, "prod", Description="production", Monitors=[{"AlarmArn": ALARM}], Tags={"stage": "prod"})
    new_env(client, other_app, "dev")
    strategy_id = new_strategy(
        client, "careful", DeploymentDurationInMinutes=30, GrowthFactor=12.5, GrowthType="EXPONENTIAL", Tags={"s": "1"}
    )
    ok(client.update_application(ApplicationId=other_app, Description="updated"), 200)
    ok(client.tag_resource(ResourceArn=env_arn(app_id, env_id), Tags={"added": "later"}), 204)
    ok(client.untag_resource(ResourceArn=app_arn(app_id), TagKeys=["team"]), 204)
    ok(client.tag_resource(ResourceArn=app_arn(app_id), Tags={"owner": "me"}), 204)
    return app_id, p1, strategy_id


def test_everything_survives_a_sigterm_and_a_new_server_on_the_same_data_dir(server, client):
    app_id, p1, strategy_id = populate(client)
    before = snapshot(client)
    assert len(before["applications"]) == 2
    assert before["applications"][app_id]["profiles"][p1]["order"] == [2, 1]
    assert before["tags"][app_arn(app_id)] == {"owner": "me"}
    assert any(s["Id"] == strategy_id and s["GrowthFactor"] == 12.5 for s in before["strategies"])

    server.restart()
    after_client = server.client()
    assert snapshot(after_client) == before

    # Numbering continues: 3 was handed out (then deleted), so the next is 4.
    assert new_version(after_client, app_id, p1, b'{"limit": 4}')["VersionNumber"] == 4
    # The lock sees the latest number from before the restart.
    assert (
        new_version(after_client, app_id, p1, b'{"limit": 5}', LatestVersionNumber=4)["VersionNumber"] == 5
    )
    # The label still resolves to the newest live version carrying it (2, valid).
    ok(
        after_client.validate_configuration(
            ApplicationId=app_id, ConfigurationProfileId=p1, ConfigurationVersion="stable"
        ),
        204,
    )


def test_data_survives_two_restarts_and_writes_between_them(server, client):
    app_id = new_app(client, "a")
    profile_id = new_profile(client, app_id)
    new_version(client, app_id, profile_id, b"1")
    server.restart()
    c2 = server.client()
    assert new_version(c2, app_id, profile_id, b"2")["VersionNumber"] == 2
    strategy_id = new_strategy(c2, "after first restart")
    server.restart()
    c3 = server.client()
    assert version_numbers(c3, app_id, profile_id) == [2, 1]
    assert ok(c3.get_deployment_strategy(DeploymentStrategyId=strategy_id), 200)["Name"] == "after first restart"
    assert new_version(c3, app_id, profile_id, b"3")["VersionNumber"] == 3


def test_ids_are_not_handed_out_again_after_a_restart(server, client):
    first = {new_app(client, f"a{i}") for i in range(5)}
    server.restart()
    c2 = server.client()
    second = {new_app(c2, f"b{i}") for i in range(5)}
    assert not first & second


def test_sigterm_stops_the_server_with_exit_status_0(server, client):
    new_app(client)
    assert server.stop() == 0


def test_sigterm_right_after_the_listening_line_stops_the_server_with_exit_status_0(server):
    """The `listening on` line is what tells a script the server is up; a SIGTERM sent
    as soon as it is read is a graceful stop too, not the default signal action."""
    statuses = []
    for _ in range(10):
        server.stop()
        server.start()
        statuses.append(server.stop())
        server.start()
    assert statuses == [0] * 10, f"exit statuses {statuses} (-{int(signal.SIGTERM)}: killed by SIGTERM)"


def test_sigterm_lets_a_request_in_flight_finish_and_keeps_its_version(server, client):
    app_id = new_app(client)
    profile_id = new_profile(client, app_id)
    content = b"a" * 512 * 1024 + b"b" * 512 * 1024
    url = urlsplit(server.endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=20)
    try:
        conn.putrequest(
            "POST", f"/applications/{app_id}/configurationprofiles/{profile_id}/hostedconfigurationversions"
        )
        conn.putheader("Content-Type", "text/plain")
        conn.putheader("Content-Length", str(len(content)))
        conn.endheaders()
        conn.send(content[: len(content) // 2])
        time.sleep(0.3)  # the server has the headers and is reading the body
        server.proc.send_signal(signal.SIGTERM)
        time.sleep(0.3)
        conn.send(content[len(content) // 2 :])
        resp = conn.getresponse()
        data = resp.read()
        assert resp.status == 201, (resp.status, data)
        assert resp.getheader("Version-Number") == "1"
        assert data == content
    finally:
        conn.close()
    assert server.stop() == 0
    server.start()
    got = server.client().get_hosted_configuration_version(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=1
    )
    assert got["Content"].read() == content
