"""Helpers shared by the tests: status and error assertions, resource builders, ARNs and
raw HTTP for what boto3 cannot send."""

from __future__ import annotations

import http.client
import json
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import datetime, timedelta, timezone
from urllib.parse import urlsplit

import pytest
from botocore.exceptions import ClientError

REGION = "us-east-1"
ACCOUNT = "123456789012"
ID = re.compile(r"[a-z0-9]{4,7}")
PREDEFINED_STRATEGIES = [
    "AppConfig.AllAtOnce",
    "AppConfig.Linear50PercentEvery30Seconds",
    "AppConfig.Canary10Percent20Minutes",
    "AppConfig.Linear20PercentEvery6Minutes",
]
MiB = 1024 * 1024

# `verso serve --poll-interval-check off`: AppConfigData polls may come at once (tokens
# stay single-use). Mark a test with it to run against such a server.
relaxed = pytest.mark.server_args("--poll-interval-check", "off")


# -- responses -----------------------------------------------------------------------


def ok(resp: dict, status: int) -> dict:
    """Asserts the modelled success status and a request id; returns the response."""
    meta = resp["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status, f"status {meta['HTTPStatusCode']}, want {status}"
    assert meta.get("RequestId"), f"no x-amzn-RequestId in {meta}"
    assert meta["HTTPHeaders"].get("x-amzn-requestid") == meta["RequestId"]
    return resp


def body(resp: dict) -> dict:
    """The modelled members of a response (ResponseMetadata left out)."""
    return {k: v for k, v in resp.items() if k != "ResponseMetadata"}


@contextmanager
def refused(client, code: str, status: int):
    """Asserts that the block raises the modelled error `code` with HTTP `status` and a
    request id, as the exception class boto3 generates for it. Yields pytest's
    ExceptionInfo: `info.value.response` holds the parsed error members."""
    with pytest.raises(ClientError) as info:
        yield info
    err = info.value
    resp = err.response
    assert resp["Error"]["Code"] == code, f"wanted {code} ({status}), got {resp}"
    assert isinstance(err, getattr(client.exceptions, code)), type(err)
    assert resp["ResponseMetadata"]["HTTPStatusCode"] == status, resp
    assert resp["ResponseMetadata"].get("RequestId"), resp
    assert resp["Error"].get("Message"), f"empty Message in {resp}"


def bad_request(client):
    return refused(client, "BadRequestException", 400)


def not_found(client):
    return refused(client, "ResourceNotFoundException", 404)


def conflict(client):
    return refused(client, "ConflictException", 409)


def assert_resource_name(info) -> None:
    """ResourceNotFoundException carries its modelled ResourceName member."""
    assert info.value.response.get("ResourceName"), info.value.response


# -- builders ------------------------------------------------------------------------


def new_app(client, name: str = "app", **kw) -> str:
    return ok(client.create_application(Name=name, **kw), 201)["Id"]


def new_profile(client, app_id: str, name: str = "profile", **kw) -> str:
    kw.setdefault("LocationUri", "hosted")
    return ok(client.create_configuration_profile(ApplicationId=app_id, Name=name, **kw), 201)[
        "Id"
    ]


def new_hosted(client, name: str = "app", **profile_kw) -> tuple[str, str]:
    """An application with one hosted configuration profile: (app_id, profile_id)."""
    app_id = new_app(client, name)
    return app_id, new_profile(client, app_id, **profile_kw)


def new_version(
    client,
    app_id: str,
    profile_id: str,
    content: bytes = b'{"on": true}',
    content_type: str = "application/json",
    **kw,
) -> dict:
    """Creates a hosted version; returns the response with `Content` already read."""
    resp = ok(
        client.create_hosted_configuration_version(
            ApplicationId=app_id,
            ConfigurationProfileId=profile_id,
            Content=content,
            ContentType=content_type,
            **kw,
        ),
        201,
    )
    resp["Content"] = resp["Content"].read()
    return resp


def new_env(client, app_id: str, name: str = "env", **kw) -> str:
    return ok(client.create_environment(ApplicationId=app_id, Name=name, **kw), 201)["Id"]


def new_strategy(client, name: str = "strategy", **kw) -> str:
    kw.setdefault("DeploymentDurationInMinutes", 0)
    kw.setdefault("GrowthFactor", 100.0)
    return ok(client.create_deployment_strategy(Name=name, **kw), 201)["Id"]


def new_deployment(
    client,
    app_id: str,
    env_id: str,
    profile_id: str,
    version: int | str = 1,
    strategy: str = "AppConfig.AllAtOnce",
    **kw,
) -> dict:
    """Starts a deployment of `version` (a number or a label) with `strategy`; asserts
    201 and returns the response."""
    return ok(
        client.start_deployment(
            ApplicationId=app_id,
            EnvironmentId=env_id,
            ConfigurationProfileId=profile_id,
            ConfigurationVersion=str(version),
            DeploymentStrategyId=strategy,
            **kw,
        ),
        201,
    )


def version_numbers(client, app_id: str, profile_id: str, **kw) -> list[int]:
    """Every listed version number, through the paginator, in the order listed."""
    pages = client.get_paginator("list_hosted_configuration_versions").paginate(
        ApplicationId=app_id, ConfigurationProfileId=profile_id, **kw
    )
    return [item["VersionNumber"] for page in pages for item in page["Items"]]


# -- ARNs ----------------------------------------------------------------------------


def arn(resource: str) -> str:
    return f"arn:aws:appconfig:{REGION}:{ACCOUNT}:{resource}"


def app_arn(app_id: str) -> str:
    return arn(f"application/{app_id}")


def profile_arn(app_id: str, profile_id: str) -> str:
    return arn(f"application/{app_id}/configurationprofile/{profile_id}")


def env_arn(app_id: str, env_id: str) -> str:
    return arn(f"application/{app_id}/environment/{env_id}")


def strategy_arn(strategy_id: str) -> str:
    return arn(f"deploymentstrategy/{strategy_id}")


# -- raw HTTP ------------------------------------------------------------------------


class RawResponse:
    def __init__(self, status: int, headers: dict[str, str], data: bytes):
        self.status = status
        self.headers = headers  # lower-cased names
        self.data = data

    def json(self):
        return json.loads(self.data)


def raw(
    endpoint: str,
    method: str,
    path: str,
    data: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10,
) -> RawResponse:
    """One plain HTTP request (no SDK, no signature), for what boto3 cannot send."""
    url = urlsplit(endpoint)
    conn = http.client.HTTPConnection(url.hostname, url.port, timeout=timeout)
    try:
        conn.request(method, path, body=data, headers=headers or {})
        resp = conn.getresponse()
        payload = resp.read()
        return RawResponse(resp.status, {k.lower(): v for k, v in resp.getheaders()}, payload)
    finally:
        conn.close()


def assert_raw_error(resp: RawResponse, code: str, status: int) -> dict:
    """A raw error response as section 2.3 wants it: status, X-Amzn-ErrorType, request
    id, a JSON body with Message. Returns the body."""
    assert resp.status == status, (resp.status, resp.headers, resp.data)
    assert resp.headers.get("x-amzn-errortype", "").split(":")[0] == code, resp.headers
    assert resp.headers.get("x-amzn-requestid"), resp.headers
    doc = resp.json()
    assert isinstance(doc, dict) and doc.get("Message"), doc
    return doc


WAIT = 60  # seconds, for all the threads of a concurrency test together


def run_together(clients, work):
    """Runs work(index, client) in one thread per client, all released at once by a
    barrier; returns their results in client order (re-raising the first failure)."""
    barrier = threading.Barrier(len(clients), timeout=WAIT)

    def start(index, client):
        barrier.wait()
        return work(index, client)

    with ThreadPoolExecutor(max_workers=len(clients)) as pool:
        futures = [pool.submit(start, i, c) for i, c in enumerate(clients)]
        return [f.result(timeout=WAIT) for f in futures]


def assert_recent(ts) -> None:
    """A timezone-aware datetime within a minute of now (boto3 parses the epoch-second
    numbers of Connect and Proton into datetimes)."""
    assert isinstance(ts, datetime), ts
    assert ts.tzinfo is not None and ts.utcoffset() is not None, ts
    assert abs(datetime.now(timezone.utc) - ts) < timedelta(seconds=60), ts
