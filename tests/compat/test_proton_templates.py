"""AWS Proton environment templates: CreateEnvironmentTemplate, GetEnvironmentTemplate,
ListEnvironmentTemplates, DeleteEnvironmentTemplate, CreateEnvironmentTemplateVersion,
GetEnvironmentTemplateVersion, ListEnvironmentTemplateVersions,
UpdateEnvironmentTemplateVersion, DeleteEnvironmentTemplateVersion (reference section 6,
with sections 2.2, 2.3 and 2.4 for the wire), and where AWS is silent
docs/design/connect-proton.md ("Proton environment templates", "Wire").

Proton is awsJson1_0: every call is `POST /` with `X-Amz-Target:
AwsProton20200720.<Operation>`, every success is 200 with a JSON body of camelCase
members, errors are `{"__type": "<Shape>", "message": "..."}` (botocore reads only
`__type`). Version numbers are strings holding integers, compared as integers."""

from __future__ import annotations

import json
import re
import time

import pytest
from botocore.exceptions import ClientError

from support import assert_recent, body, ok, raw, refused, run_together

REGION = "us-east-1"
ACCOUNT = "000000000000"
TARGET = "AwsProton20200720"
AMZ_JSON = "application/x-amz-json-1.0"
BUCKET = "verso-templates"
KEY = "environments/web/v1.tar.gz"
KMS_KEY = "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
NAME_PATTERN = r"[0-9A-Za-z]+[0-9A-Za-z_\-]*"
ARN_PATTERN = r"arn:(aws|aws-cn|aws-us-gov):[a-zA-Z0-9-]+:[a-zA-Z0-9-]*:\d{12}:([\w+=,.@-]+[/:])*[\w+=,.@-]+"
BUCKET_PATTERN = r"[a-z0-9]+[a-z0-9-\.]+[a-z0-9]+"
TOKEN_PATTERN = r"[A-Za-z0-9+=/]+"
THREADS = 8
ROUNDS = 5

TEMPLATE_MEMBERS = {
    "arn",
    "name",
    "createdAt",
    "lastModifiedAt",
    "displayName",
    "description",
    "encryptionKey",
    "provisioning",
    "recommendedVersion",
}
TEMPLATE_SUMMARY_MEMBERS = TEMPLATE_MEMBERS - {"encryptionKey"}
VERSION_MEMBERS = {
    "arn",
    "templateName",
    "majorVersion",
    "minorVersion",
    "status",
    "createdAt",
    "lastModifiedAt",
    "description",
    "recommendedMinorVersion",
}  # never `schema`: Verso fetches nothing from S3


# -- helpers ---------------------------------------------------------------------------


def template_arn(name: str) -> str:
    return f"arn:aws:proton:{REGION}:{ACCOUNT}:environment-template/{name}"


def version_arn(name: str, major, minor) -> str:
    return f"{template_arn(name)}:{major}.{minor}"


def s3(bucket: str = BUCKET, key: str = KEY) -> dict:
    """A TemplateVersionSourceInput: the tagged union with its one member `s3`."""
    return {"s3": {"bucket": bucket, "key": key}}


def number(version: dict) -> str:
    """A version or summary as `M.m`."""
    return f"{version['majorVersion']}.{version['minorVersion']}"


def new_template(client, name: str = "env", **kw) -> dict:
    """CreateEnvironmentTemplate; asserts 200 and returns the `environmentTemplate`."""
    resp = ok(client.create_environment_template(name=name, **kw), 200)
    assert set(body(resp)) == {"environmentTemplate"}, body(resp)
    return resp["environmentTemplate"]


def get_template(client, name: str) -> dict:
    resp = ok(client.get_environment_template(name=name), 200)
    assert set(body(resp)) == {"environmentTemplate"}, body(resp)
    return resp["environmentTemplate"]


def delete_template(client, name: str) -> dict:
    """DeleteEnvironmentTemplate; asserts 200 and returns the modelled members."""
    return body(ok(client.delete_environment_template(name=name), 200))


def new_version(client, template: str, major=None, source=None, **kw) -> dict:
    """CreateEnvironmentTemplateVersion (a new major without `major`, else the next minor
    of it); asserts 200 and returns the `environmentTemplateVersion`."""
    if major is not None:
        kw["majorVersion"] = str(major)
    resp = ok(
        client.create_environment_template_version(templateName=template, source=source or s3(), **kw),
        200,
    )
    assert set(body(resp)) == {"environmentTemplateVersion"}, body(resp)
    return resp["environmentTemplateVersion"]


def get_version(client, template: str, major, minor) -> dict:
    resp = ok(
        client.get_environment_template_version(
            templateName=template, majorVersion=str(major), minorVersion=str(minor)
        ),
        200,
    )
    assert set(body(resp)) == {"environmentTemplateVersion"}, body(resp)
    return resp["environmentTemplateVersion"]


def update_version(client, template: str, major, minor, **kw) -> dict:
    """UpdateEnvironmentTemplateVersion; asserts 200 and returns the version as it is now."""
    resp = ok(
        client.update_environment_template_version(
            templateName=template, majorVersion=str(major), minorVersion=str(minor), **kw
        ),
        200,
    )
    assert set(body(resp)) == {"environmentTemplateVersion"}, body(resp)
    return resp["environmentTemplateVersion"]


def publish(client, template: str, major, minor) -> dict:
    return update_version(client, template, major, minor, status="PUBLISHED")


def delete_version(client, template: str, major, minor) -> dict:
    """DeleteEnvironmentTemplateVersion; asserts 200 and returns the modelled members."""
    resp = client.delete_environment_template_version(
        templateName=template, majorVersion=str(major), minorVersion=str(minor)
    )
    return body(ok(resp, 200))


def summaries(client, template: str, major=None, **kw) -> list[dict]:
    """Every version summary listed, through the paginator, in the order listed."""
    if major is not None:
        kw["majorVersion"] = str(major)
    pages = client.get_paginator("list_environment_template_versions").paginate(templateName=template, **kw)
    return [s for page in pages for s in page["templateVersions"]]


def listed(client, template: str, major=None, **kw) -> list[str]:
    """The listed versions as `M.m`: with `major` its live minors, without it one per
    live major."""
    return [number(s) for s in summaries(client, template, major, **kw)]


def template_names(client, **kw) -> list[str]:
    pages = client.get_paginator("list_environment_templates").paginate(**kw)
    return [s["name"] for page in pages for s in page["templates"]]


def validation(client):
    return refused(client, "ValidationException", 400)


def not_found(client):
    return refused(client, "ResourceNotFoundException", 404)


def conflict(client):
    return refused(client, "ConflictException", 409)


def post(endpoint: str, operation: str | None, doc=None, content_type: str = AMZ_JSON, data: bytes | None = None):
    """One raw awsJson1_0 call: `POST /` with `X-Amz-Target: <TARGET>.<operation>` (no
    target header when `operation` is None; the header as given when it contains a
    dot)."""
    headers = {"Content-Type": content_type}
    if operation is not None:
        headers["X-Amz-Target"] = operation if "." in operation else f"{TARGET}.{operation}"
    if data is None:
        data = json.dumps({} if doc is None else doc).encode()
    return raw(endpoint, "POST", "/", data=data, headers=headers)


def assert_aws_json_error(resp, code: str, status: int) -> dict:
    """A raw Proton error: the status, `{"__type": code, "message": ...}` as JSON,
    `X-Amzn-ErrorType` naming the shape, a request id. Returns the body."""
    assert resp.status == status, (resp.status, resp.headers, resp.data)
    assert resp.headers.get("x-amzn-errortype", "").split(":")[0] == code, resp.headers
    assert resp.headers.get("x-amzn-requestid"), resp.headers
    assert resp.headers.get("content-type", "").startswith(AMZ_JSON), resp.headers
    doc = resp.json()
    assert isinstance(doc, dict), doc
    assert doc.get("__type") == code, doc
    assert isinstance(doc.get("message"), str) and doc["message"], doc
    return doc


# -- CreateEnvironmentTemplate ---------------------------------------------------------


def test_create_environment_template_answers_200_with_the_template(proton_client):
    """CreateEnvironmentTemplate is 200 with `environmentTemplate`: the template ARN of
    the client's region and account 000000000000, the given name, displayName,
    description, encryptionKey and provisioning, createdAt and lastModifiedAt close to
    now (timezone-aware datetimes), and no recommendedVersion (nothing is published).
    GetEnvironmentTemplate then shows exactly this template."""
    c = proton_client
    t = new_template(
        c,
        "web-Env_1",
        displayName="Web environment",
        description="for the web tier",
        encryptionKey=KMS_KEY,
        provisioning="CUSTOMER_MANAGED",
        tags=[{"key": "team", "value": "web"}],
    )
    assert set(t) <= TEMPLATE_MEMBERS, set(t) - TEMPLATE_MEMBERS
    assert t["arn"] == template_arn("web-Env_1")
    assert t["name"] == "web-Env_1"
    assert t["displayName"] == "Web environment"
    assert t["description"] == "for the web tier"
    assert t["encryptionKey"] == KMS_KEY
    assert t["provisioning"] == "CUSTOMER_MANAGED"
    assert "recommendedVersion" not in t
    assert_recent(t["createdAt"])
    assert_recent(t["lastModifiedAt"])
    assert t["lastModifiedAt"] >= t["createdAt"]
    assert get_template(c, "web-Env_1") == t


def test_create_environment_template_omits_absent_members(proton_client):
    """A template made with only its name has exactly arn, name, createdAt and
    lastModifiedAt: absent members are omitted, never null."""
    t = new_template(proton_client, "bare")
    assert set(t) == {"arn", "name", "createdAt", "lastModifiedAt"}, t
    assert t["arn"] == template_arn("bare")
    assert get_template(proton_client, "bare") == t


def test_create_environment_template_again_with_the_same_request_returns_it_unchanged(proton_client):
    """CreateEnvironmentTemplate is idempotent by content: the identical request for a
    live name returns the same template (same ARN, same createdAt) and creates
    nothing; so does a bare create repeated."""
    c = proton_client
    kw = dict(
        displayName="Same",
        description="d",
        encryptionKey=KMS_KEY,
        provisioning="CUSTOMER_MANAGED",
        tags=[{"key": "a", "value": "1"}, {"key": "b", "value": ""}],
    )
    first = new_template(c, "same", **kw)
    again = new_template(c, "same", **kw)
    assert again == first
    assert again["createdAt"] == first["createdAt"]
    bare = new_template(c, "bare")
    assert new_template(c, "bare") == bare
    assert template_names(c) == ["bare", "same"]


def test_create_environment_template_again_with_another_request_is_validation(proton_client):
    """A create for a live name with any other member (description, displayName,
    encryptionKey, provisioning, tags, or one of them left out) is ValidationException
    (the documented IdempotentParameterMismatch), and the template stays as it was."""
    c = proton_client
    first = new_template(c, "taken", displayName="D", description="d")
    for changed in (
        dict(displayName="D", description="other"),
        dict(displayName="D"),
        dict(description="d"),
        dict(displayName="D2", description="d"),
        dict(displayName="D", description="d", encryptionKey=KMS_KEY),
        dict(displayName="D", description="d", provisioning="CUSTOMER_MANAGED"),
        dict(displayName="D", description="d", tags=[{"key": "k", "value": "v"}]),
        dict(),
    ):
        with validation(c):
            c.create_environment_template(name="taken", **changed)
    assert get_template(c, "taken") == first
    assert template_names(c) == ["taken"]


def test_a_deleted_template_name_can_be_created_again_and_its_versions_start_at_1_0(proton_client):
    """After DeleteEnvironmentTemplate the name is free: a create (even with another
    request) makes a new template, and its versions start again at 1.0, whatever the
    old template had used."""
    c = proton_client
    new_template(c, "again", description="first life")
    new_version(c, "again")  # 1.0
    new_version(c, "again")  # 2.0
    new_version(c, "again", major=2)  # 2.1
    for major, minor in ((2, 1), (2, 0), (1, 0)):
        assert delete_version(c, "again", major, minor)["environmentTemplateVersion"]["majorVersion"] == str(major)
    assert delete_template(c, "again")["environmentTemplate"]["description"] == "first life"

    second = new_template(c, "again", description="second life", displayName="Reborn")
    assert second["arn"] == template_arn("again")
    assert second["description"] == "second life"
    assert get_template(c, "again")["displayName"] == "Reborn"
    v = new_version(c, "again")
    assert number(v) == "1.0"
    assert v["arn"] == version_arn("again", 1, 0)
    assert listed(c, "again") == ["1.0"]


def test_create_environment_template_with_a_bad_name_is_validation(proton_client, loose_proton_client):
    """The name is 1..100 characters of `^[0-9A-Za-z]+[0-9A-Za-z_\\-]*$`: a leading `-`
    or `_`, a space, a dot, a slash, a non-ASCII letter or 101 characters is
    ValidationException (botocore checks none of these), and the empty name (which
    botocore refuses itself, hence the loose client) too; nothing is created. 100
    characters, a lone digit and inner `_`/`-` are fine."""
    c = proton_client
    bad = ["-x", "_x", "a b", "a.b", "a/b", "caf\u00e9", "x" * 101]
    for name in bad:
        assert not re.fullmatch(NAME_PATTERN, name) or len(name) > 100
        with validation(c):
            c.create_environment_template(name=name)
    with validation(loose_proton_client):
        loose_proton_client.create_environment_template(name="")
    assert template_names(c) == []
    for name in ("0", "A-", "a_b-C9", "x" * 100):
        assert new_template(c, name)["name"] == name
    assert template_names(c) == sorted(["0", "A-", "a_b-C9", "x" * 100])


def test_create_environment_template_with_a_long_description_or_display_name_is_validation(
    proton_client, loose_proton_client
):
    """description is at most 500 characters and displayName 1..100: 501, 101 and an
    empty displayName (loose client) are ValidationException; 500 and 100 are fine."""
    c = proton_client
    for kw in ({"description": "d" * 501}, {"displayName": "n" * 101}):
        with validation(c):
            c.create_environment_template(name="long", **kw)
    with validation(loose_proton_client):
        loose_proton_client.create_environment_template(name="long", displayName="")
    assert template_names(c) == []
    t = new_template(c, "long", description="d" * 500, displayName="n" * 100)
    assert (t["description"], t["displayName"]) == ("d" * 500, "n" * 100)


def test_create_environment_template_with_a_bad_encryption_key_or_provisioning_is_validation(proton_client):
    """encryptionKey must be an ARN of its pattern, at most 200 characters, and
    provisioning the enum's one value CUSTOMER_MANAGED (botocore checks neither
    patterns nor enums): anything else is ValidationException, nothing created; a KMS
    key ARN is kept as given."""
    c = proton_client
    bad = [
        "not-an-arn",
        "arn:aws:kms:us-east-1:1234:key/abc",
        "arn:other:kms:us-east-1:123456789012:key/abc",
        "arn:aws:kms:us-east-1:123456789012:",
        "arn:aws:kms:us-east-1:123456789012:key/",
        "arn:aws:kms:us-east-1:123456789012:key/" + "a" * 200,
    ]
    for key in bad:
        assert not re.fullmatch(ARN_PATTERN, key) or len(key) > 200, key
        with validation(c):
            c.create_environment_template(name="keyed", encryptionKey=key)
    for value in ("AWS_MANAGED", "customer_managed", ""):
        with validation(c):
            c.create_environment_template(name="keyed", provisioning=value)
    assert template_names(c) == []
    assert re.fullmatch(ARN_PATTERN, KMS_KEY)
    assert new_template(c, "keyed", encryptionKey=KMS_KEY)["encryptionKey"] == KMS_KEY


def test_create_environment_template_with_51_tags_or_a_repeated_key_is_validation(proton_client):
    """At most 50 tags (a list of {key, value}; botocore does not check the maximum):
    51 is ValidationException, and so is a key given twice (tags are a map,
    docs/design/connect-proton.md "As built: Proton"); 50 are accepted."""
    c = proton_client
    with validation(c):
        c.create_environment_template(name="tagged", tags=[{"key": f"k{i}", "value": "v"} for i in range(51)])
    with validation(c):
        c.create_environment_template(name="tagged", tags=[{"key": "k", "value": "1"}, {"key": "k", "value": "2"}])
    assert template_names(c) == []
    new_template(c, "tagged", tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    assert template_names(c) == ["tagged"]


# -- GetEnvironmentTemplate ------------------------------------------------------------


def test_get_an_unknown_or_deleted_environment_template_is_not_found(proton_client):
    """A name no live template has, never used or deleted, is ResourceNotFoundException
    (404)."""
    c = proton_client
    new_template(c, "gone")
    delete_template(c, "gone")
    for name in ("gone", "never", "Gone"):
        with not_found(c):
            c.get_environment_template(name=name)


# -- ListEnvironmentTemplates ----------------------------------------------------------


def test_list_environment_templates_is_sorted_by_name_with_summaries(proton_client):
    """ListEnvironmentTemplates is 200 with `templates` sorted by name; a summary is the
    template without encryptionKey (arn, name, createdAt, lastModifiedAt, displayName,
    description, provisioning, recommendedVersion); no nextToken on one page. A fresh
    server lists nothing."""
    c = proton_client
    empty = ok(c.list_environment_templates(), 200)
    assert empty["templates"] == [] and "nextToken" not in empty
    new_template(c, "delta", encryptionKey=KMS_KEY, description="has a key")
    new_template(c, "alpha", displayName="Alpha", provisioning="CUSTOMER_MANAGED")
    new_template(c, "charlie")
    new_template(c, "b2", description="published")
    new_version(c, "b2")
    publish(c, "b2", 1, 0)
    new_template(c, "bravo")
    resp = ok(c.list_environment_templates(), 200)
    assert "nextToken" not in resp
    got = resp["templates"]
    assert [s["name"] for s in got] == ["alpha", "b2", "bravo", "charlie", "delta"]
    for s in got:
        assert set(s) <= TEMPLATE_SUMMARY_MEMBERS, s
        full = get_template(c, s["name"])
        assert s == {k: v for k, v in full.items() if k != "encryptionKey"}
    by_name = {s["name"]: s for s in got}
    assert by_name["b2"]["recommendedVersion"] == "1.0"
    assert by_name["alpha"]["displayName"] == "Alpha"
    assert by_name["alpha"]["provisioning"] == "CUSTOMER_MANAGED"
    assert set(by_name["charlie"]) == {"arn", "name", "createdAt", "lastModifiedAt"}
    assert "encryptionKey" not in by_name["delta"]


def test_list_environment_templates_pages_by_paginator_and_by_hand(proton_client):
    """The `list_environment_templates` paginator with page size 2 sees each template
    once, in name order, in full pages with a nextToken (of the model's pattern) on
    every page but the last; by hand, maxResults 3 and nextToken give pages of 3, the
    last without a token; maxResults 1 and 100 are accepted."""
    c = proton_client
    names = [f"t{i:02d}" for i in range(7)]
    for name in reversed(names):
        new_template(c, name)
    pages = list(c.get_paginator("list_environment_templates").paginate(PaginationConfig={"PageSize": 2}))
    assert [len(p["templates"]) for p in pages] == [2, 2, 2, 1]
    for page in pages:
        ok(page, 200)
    for page in pages[:-1]:
        assert re.fullmatch(TOKEN_PATTERN, page["nextToken"]), page["nextToken"]
    assert "nextToken" not in pages[-1]
    assert [s["name"] for p in pages for s in p["templates"]] == names

    seen, token, pages = [], None, 0
    while True:
        kw = {"nextToken": token} if token else {}
        resp = ok(c.list_environment_templates(maxResults=3, **kw), 200)
        pages += 1
        seen += [s["name"] for s in resp["templates"]]
        token = resp.get("nextToken")
        if not token:
            break
        assert len(resp["templates"]) == 3
    assert seen == names
    assert pages == 3
    one = ok(c.list_environment_templates(maxResults=1), 200)
    assert [s["name"] for s in one["templates"]] == ["t00"] and one["nextToken"]
    assert len(ok(c.list_environment_templates(maxResults=100), 200)["templates"]) == 7


def test_list_environment_templates_bounds_and_bad_tokens_are_validation(proton_client, loose_proton_client):
    """maxResults is 1..100: 0 and -1 (botocore checks the minimum, so the loose client)
    and 101 are ValidationException; a nextToken the server did not hand out (not its
    cursor, or outside the token pattern) is ValidationException."""
    new_template(proton_client, "a")
    for n in (0, -1, 101):
        with validation(loose_proton_client):
            loose_proton_client.list_environment_templates(maxResults=n)
    for token in ("zzzz", "not a token!", "////"):
        with validation(proton_client):
            proton_client.list_environment_templates(nextToken=token)


# -- DeleteEnvironmentTemplate ---------------------------------------------------------


def test_delete_environment_template_returns_it_as_it_was_and_it_is_gone(proton_client):
    """DeleteEnvironmentTemplate of a template without versions is 200 with the template
    as it was; afterwards it is not found and not listed, and others stay."""
    c = proton_client
    t = new_template(c, "doomed", displayName="Doomed", description="d", encryptionKey=KMS_KEY)
    new_template(c, "kept")
    resp = delete_template(c, "doomed")
    assert set(resp) == {"environmentTemplate"}
    assert resp["environmentTemplate"]["arn"] == t["arn"]
    assert resp["environmentTemplate"]["createdAt"] == t["createdAt"]
    for member in ("name", "displayName", "description", "encryptionKey"):
        assert resp["environmentTemplate"][member] == t[member]
    with not_found(c):
        c.get_environment_template(name="doomed")
    assert template_names(c) == ["kept"]


def test_delete_environment_template_with_live_versions_is_conflict(proton_client):
    """A template with a live version, draft or published, cannot be deleted:
    ConflictException (409), and the template and its versions stay; once its last
    version is deleted, it can be."""
    c = proton_client
    new_template(c, "busy")
    new_version(c, "busy")  # 1.0 draft
    with conflict(c):
        c.delete_environment_template(name="busy")
    publish(c, "busy", 1, 0)
    with conflict(c):
        c.delete_environment_template(name="busy")
    assert get_template(c, "busy")["recommendedVersion"] == "1.0"
    assert listed(c, "busy") == ["1.0"]
    delete_version(c, "busy", 1, 0)
    assert delete_template(c, "busy")["environmentTemplate"]["name"] == "busy"
    assert template_names(c) == []


def test_delete_a_missing_environment_template_is_200_without_a_template(proton_client):
    """Deletes are idempotent: a name never used, or deleted already, is 200 with no
    `environmentTemplate` member."""
    c = proton_client
    new_template(c, "once")
    assert "environmentTemplate" in delete_template(c, "once")
    assert delete_template(c, "once") == {}
    assert delete_template(c, "never") == {}


def test_the_101st_live_template_is_service_quota_exceeded_402(proton_client):
    """At most 100 live templates (`Limits::max_templates`): the 101st create is
    ServiceQuotaExceededException (402) and creates nothing; the identical request for
    a live name still answers it; after a delete there is room for one more."""
    c = proton_client
    for i in range(100):
        c.create_environment_template(name=f"t{i:03d}")
    with refused(c, "ServiceQuotaExceededException", 402):
        c.create_environment_template(name="t100")
    assert new_template(c, "t000")["name"] == "t000"
    assert len(template_names(c)) == 100
    delete_template(c, "t000")
    new_template(c, "t100")
    with refused(c, "ServiceQuotaExceededException", 402):
        c.create_environment_template(name="t000")
    assert template_names(c) == [f"t{i:03d}" for i in range(1, 101)]


# -- CreateEnvironmentTemplateVersion ------------------------------------------------


def test_create_environment_template_version_answers_registration_in_progress(proton_client):
    """CreateEnvironmentTemplateVersion is 200 with `environmentTemplateVersion`: the
    version ARN (`<template arn>:1.0`), templateName, majorVersion "1" and minorVersion
    "0" as strings, status REGISTRATION_IN_PROGRESS (as AWS answers), the description,
    timestamps close to now, no recommendedMinorVersion (nothing published) and never a
    `schema`."""
    c = proton_client
    new_template(c, "web")
    v = new_version(c, "web", description="first cut", tags=[{"key": "k", "value": "v"}])
    assert set(v) <= VERSION_MEMBERS, set(v) - VERSION_MEMBERS
    assert v["arn"] == version_arn("web", 1, 0)
    assert v["templateName"] == "web"
    assert (v["majorVersion"], v["minorVersion"]) == ("1", "0")
    assert v["status"] == "REGISTRATION_IN_PROGRESS"
    assert v["description"] == "first cut"
    assert "schema" not in v
    assert "recommendedMinorVersion" not in v
    assert_recent(v["createdAt"])
    assert_recent(v["lastModifiedAt"])
    bare = new_version(c, "web")
    assert "description" not in bare
    assert "schema" not in bare


def test_every_read_after_create_shows_draft(proton_client):
    """Registration completes with the create: GetEnvironmentTemplateVersion and both
    forms of ListEnvironmentTemplateVersions show status DRAFT, the same ARN and
    createdAt, and no schema."""
    c = proton_client
    new_template(c, "web")
    made = new_version(c, "web", description="d")
    got = get_version(c, "web", 1, 0)
    assert got["status"] == "DRAFT"
    assert got["arn"] == made["arn"]
    assert got["createdAt"] == made["createdAt"]
    assert got["description"] == "d"
    assert set(got) <= VERSION_MEMBERS
    for s in summaries(c, "web") + summaries(c, "web", 1):
        assert s["status"] == "DRAFT"
        assert s["arn"] == made["arn"]


def test_the_registered_waiter_succeeds_at_once(proton_client):
    """The `environment_template_version_registered` waiter (Delay 1, MaxAttempts 3)
    succeeds on its first poll, for a new version (DRAFT) and a published one: no
    second attempt, so well under the one-second delay."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")
    waiter = c.get_waiter("environment_template_version_registered")

    def wait_once():
        start = time.monotonic()
        waiter.wait(templateName="web", majorVersion="1", minorVersion="0", WaiterConfig={"Delay": 1, "MaxAttempts": 3})
        assert time.monotonic() - start < 0.9, "the waiter needed a second poll"

    wait_once()
    publish(c, "web", 1, 0)
    wait_once()


def test_without_major_version_each_create_opens_a_new_major(proton_client):
    """No majorVersion: a new major with minor 0 each time, 1.0, 2.0, 3.0, each with its
    own ARN."""
    c = proton_client
    new_template(c, "web")
    made = [new_version(c, "web") for _ in range(3)]
    assert [number(v) for v in made] == ["1.0", "2.0", "3.0"]
    assert [v["arn"] for v in made] == [version_arn("web", m, 0) for m in (1, 2, 3)]
    assert listed(c, "web") == ["1.0", "2.0", "3.0"]


def test_with_major_version_each_create_adds_the_next_minor(proton_client):
    """majorVersion M: the next minor of M (1.1, 1.2, ...), whatever other majors do."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    assert [number(new_version(c, "web", major=1)) for _ in range(3)] == ["1.1", "1.2", "1.3"]
    assert number(new_version(c, "web")) == "2.0"
    assert number(new_version(c, "web", major=2)) == "2.1"
    v = new_version(c, "web", major=1)
    assert number(v) == "1.4"
    assert v["arn"] == version_arn("web", 1, 4)
    assert listed(c, "web", 1) == ["1.0", "1.1", "1.2", "1.3", "1.4"]
    assert listed(c, "web", 2) == ["2.0", "2.1"]


def test_create_version_of_an_unknown_template_or_major_is_not_found(proton_client):
    """ResourceNotFoundException (404), nothing created, for an unknown template (with or
    without majorVersion), a major never made (0, 2), a deleted major, and a
    well-formed major beyond 2^64."""
    c = proton_client
    for kw in ({}, {"majorVersion": "1"}):
        with not_found(c):
            c.create_environment_template_version(templateName="nosuch", source=s3(), **kw)
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web")  # 2.0
    delete_version(c, "web", 2, 0)
    for major in ("0", "2", "3", "18446744073709551615", "18446744073709551616", "99999999999999999999"):
        with not_found(c):
            c.create_environment_template_version(templateName="web", majorVersion=major, source=s3())
    assert listed(c, "web") == ["1.0"]
    assert listed(c, "web", 1) == ["1.0"]


def test_create_version_with_a_malformed_major_version_is_validation(proton_client, loose_proton_client):
    """majorVersion is 1..20 characters of `^(0|([1-9]{1}\\d*))$`: a leading zero, a
    non-number, a sign, a dotted version, 21 digits are ValidationException (botocore
    checks none of these), the empty string too (loose client)."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")
    for major in ("01", "x", "-1", "+1", "1.0", " 1", "1" * 21):
        with validation(c):
            c.create_environment_template_version(templateName="web", majorVersion=major, source=s3())
    with validation(loose_proton_client):
        loose_proton_client.create_environment_template_version(templateName="web", majorVersion="", source=s3())
    assert listed(c, "web", 1) == ["1.0"]


def test_create_version_with_a_bad_s3_source_is_validation(proton_client, loose_proton_client):
    """The s3 source is checked, not fetched: a bucket outside 3..63 characters of
    `^[a-z0-9]+[a-z0-9-\\.]+[a-z0-9]+$` (2 characters needs the loose client), an empty
    key (loose) or a key of 1025 characters is ValidationException; so is a source
    without `s3`, or no source (loose: botocore checks unions and required members)."""
    c = proton_client
    new_template(c, "web")
    for bucket in ("a" * 64, "Upper", "-bucket", "bucket-", "bucket.", "under_score", "a b c"):
        assert not re.fullmatch(BUCKET_PATTERN, bucket) or len(bucket) > 63, bucket
        with validation(c):
            c.create_environment_template_version(templateName="web", source=s3(bucket=bucket))
    with validation(c):
        c.create_environment_template_version(templateName="web", source=s3(key="k" * 1025))
    for source in (s3(bucket="ab"), s3(key=""), {}):
        with validation(loose_proton_client):
            loose_proton_client.create_environment_template_version(templateName="web", source=source)
    with validation(loose_proton_client):
        loose_proton_client.create_environment_template_version(templateName="web")
    assert listed(c, "web") == []


def test_any_well_formed_s3_source_is_accepted_and_nothing_is_fetched(proton_client):
    """Buckets and keys at their bounds, of buckets that do not exist, are recorded as
    given: 3 and 63 characters, dots and hyphens inside, a 1024-character key, a key
    with spaces and non-ASCII letters."""
    c = proton_client
    new_template(c, "web")
    sources = [
        s3(bucket="abc"),
        s3(bucket="a" * 63),
        s3(bucket="my-bucket.v2", key="dir/na\u00efve file (1).yaml"),
        s3(bucket="a.b", key="k" * 1024),
    ]
    for bucket in ("abc", "a" * 63, "my-bucket.v2", "a.b"):
        assert re.fullmatch(BUCKET_PATTERN, bucket)
    made = [number(new_version(c, "web", source=source)) for source in sources]
    assert made == ["1.0", "2.0", "3.0", "4.0"]


def test_create_version_with_a_long_description_or_51_tags_is_validation(proton_client):
    """A version's description is at most 500 characters and it takes at most 50 tags:
    501 and 51 are ValidationException, 500 and 50 are fine."""
    c = proton_client
    new_template(c, "web")
    with validation(c):
        c.create_environment_template_version(templateName="web", source=s3(), description="d" * 501)
    with validation(c):
        c.create_environment_template_version(
            templateName="web", source=s3(), tags=[{"key": f"k{i}", "value": "v"} for i in range(51)]
        )
    assert listed(c, "web") == []
    v = new_version(c, "web", description="d" * 500, tags=[{"key": f"k{i}", "value": "v"} for i in range(50)])
    assert v["description"] == "d" * 500


# -- clientToken -----------------------------------------------------------------------


def test_two_creates_without_a_client_token_make_two_versions(proton_client):
    """botocore fills in a fresh UUID clientToken when the caller gives none, so the same
    call twice makes two versions: 1.0 and 2.0, then 1.1 and 1.2."""
    c = proton_client
    new_template(c, "web")
    assert [number(new_version(c, "web", description="same")) for _ in range(2)] == ["1.0", "2.0"]
    assert [number(new_version(c, "web", major=1, description="same")) for _ in range(2)] == ["1.1", "1.2"]
    assert listed(c, "web", 1) == ["1.0", "1.1", "1.2"]


def test_the_same_client_token_and_request_returns_the_original_version(proton_client):
    """The same explicit clientToken with the same request returns the version it made
    (same majorVersion, minorVersion, ARN and createdAt) and creates nothing, for a new
    major and for a new minor alike."""
    c = proton_client
    new_template(c, "web")
    kw = dict(description="d", clientToken="token-major", tags=[{"key": "k", "value": "v"}])
    first = new_version(c, "web", **kw)
    again = new_version(c, "web", **kw)
    for member in ("arn", "majorVersion", "minorVersion", "createdAt", "templateName", "description"):
        assert again[member] == first[member], member
    assert again["status"] == "DRAFT"  # the version as it is now, registered
    minor = new_version(c, "web", major=1, clientToken="token-minor")
    assert number(minor) == "1.1"
    for _ in range(2):
        repeat = new_version(c, "web", major=1, clientToken="token-minor")
        assert (number(repeat), repeat["createdAt"]) == ("1.1", minor["createdAt"])
    assert listed(c, "web", 1) == ["1.0", "1.1"]
    assert listed(c, "web") == ["1.1"]  # one major, shown by its highest minor


def test_the_same_client_token_with_another_request_is_validation(proton_client):
    """The same clientToken with another request (another description, none, another
    source, a majorVersion, other tags) is ValidationException (the documented
    IdempotentParameterMismatch), and nothing is created."""
    c = proton_client
    new_template(c, "web")
    base = dict(templateName="web", description="d", source=s3(), clientToken="token-1")
    new_version(c, "web", description="d", clientToken="token-1")
    for changed in (
        dict(description="other"),
        dict(description=None),
        dict(source=s3(key="other/key")),
        dict(source=s3(bucket="other-bucket")),
        dict(majorVersion="1"),
        dict(tags=[{"key": "k", "value": "v"}]),
    ):
        args = {**base, **changed}
        args = {k: v for k, v in args.items() if v is not None}
        with validation(c):
            c.create_environment_template_version(**args)
    assert listed(c, "web") == ["1.0"]
    assert listed(c, "web", 1) == ["1.0"]


def test_a_client_token_is_kept_across_a_restart(server, proton_client):
    """After `server.restart()` the same call with the same clientToken returns the same
    version (same numbers and createdAt) and creates nothing, and a changed call is
    still ValidationException."""
    new_template(proton_client, "web")
    first = new_version(proton_client, "web", description="d", clientToken="restart-token")
    server.restart()
    c = server.proton_client()
    again = new_version(c, "web", description="d", clientToken="restart-token")
    assert (number(again), again["createdAt"], again["arn"]) == (number(first), first["createdAt"], first["arn"])
    with validation(c):
        c.create_environment_template_version(
            templateName="web", source=s3(), description="changed", clientToken="restart-token"
        )
    assert listed(c, "web") == ["1.0"]


def test_a_client_token_is_scoped_to_its_template(proton_client):
    """A token used in one template does not affect another: the same token (and
    otherwise the same request) makes 1.0 in each template, and each one's repeat
    returns its own version."""
    c = proton_client
    new_template(c, "one")
    new_template(c, "two")
    a = new_version(c, "one", description="d", clientToken="shared")
    b = new_version(c, "two", description="d", clientToken="shared")
    assert (number(a), number(b)) == ("1.0", "1.0")
    assert a["arn"] == version_arn("one", 1, 0) and b["arn"] == version_arn("two", 1, 0)
    assert new_version(c, "one", description="d", clientToken="shared")["arn"] == a["arn"]
    assert new_version(c, "two", description="d", clientToken="shared")["arn"] == b["arn"]
    assert listed(c, "one") == ["1.0"] and listed(c, "two") == ["1.0"]


def test_a_client_token_of_a_deleted_version_creates_a_new_one(proton_client):
    """Once the version a token made is deleted, the token is no longer in force (§6: "a
    retry creates a new one"): the same call makes a new version, 2.0 since majors are
    never reused."""
    c = proton_client
    new_template(c, "web")
    assert number(new_version(c, "web", clientToken="short-lived")) == "1.0"
    delete_version(c, "web", 1, 0)
    assert number(new_version(c, "web", clientToken="short-lived")) == "2.0"
    assert listed(c, "web") == ["2.0"]


def test_a_client_token_is_0_to_64_printable_characters_and_empty_is_none(proton_client):
    """clientToken is 0..64 characters of `^[!-~]*$`: 65 characters, a space or a tab is
    ValidationException, nothing created; 64 printable characters are fine; an
    explicit empty token (botocore sends it as given) is no token
    (docs/design/connect-proton.md), so two such calls make two versions."""
    c = proton_client
    new_template(c, "web")
    for token in ("t" * 65, "has space", "tab\t"):
        with validation(c):
            c.create_environment_template_version(templateName="web", source=s3(), clientToken=token)
    assert listed(c, "web") == []
    assert number(new_version(c, "web", clientToken="!~" * 32)) == "1.0"
    assert [number(new_version(c, "web", clientToken="")) for _ in range(2)] == ["2.0", "3.0"]


# -- numeric ordering ------------------------------------------------------------------


def test_majors_compare_numerically(proton_client):
    """Eleven majors 1.0..11.0 list as 1, 2, ..., 9, 10, 11 (also paged), and with 9.0
    and 10.0 published the recommendedVersion is "10.0", not "9.0"; publishing 2.0
    afterwards keeps it."""
    c = proton_client
    new_template(c, "many")
    assert [number(new_version(c, "many")) for _ in range(11)] == [f"{m}.0" for m in range(1, 12)]
    assert listed(c, "many") == [f"{m}.0" for m in range(1, 12)]
    assert listed(c, "many", PaginationConfig={"PageSize": 4}) == [f"{m}.0" for m in range(1, 12)]
    publish(c, "many", 9, 0)
    assert get_template(c, "many")["recommendedVersion"] == "9.0"
    publish(c, "many", 10, 0)
    assert get_template(c, "many")["recommendedVersion"] == "10.0"
    publish(c, "many", 2, 0)
    assert get_template(c, "many")["recommendedVersion"] == "10.0"


def test_minors_compare_numerically(proton_client):
    """Minors 1.0..1.10 list in numeric order; with 1.9 and 1.10 published the major's
    recommendedMinorVersion is "10" (on every version and summary of major 1) and the
    template's recommendedVersion "1.10"."""
    c = proton_client
    new_template(c, "many")
    new_version(c, "many")
    for _ in range(10):
        new_version(c, "many", major=1)
    assert listed(c, "many", 1) == [f"1.{m}" for m in range(11)]
    publish(c, "many", 1, 9)
    assert get_version(c, "many", 1, 0)["recommendedMinorVersion"] == "9"
    publish(c, "many", 1, 10)
    publish(c, "many", 1, 2)
    assert get_template(c, "many")["recommendedVersion"] == "1.10"
    for minor in (0, 9, 10):
        assert get_version(c, "many", 1, minor)["recommendedMinorVersion"] == "10"
    assert {s["recommendedMinorVersion"] for s in summaries(c, "many", 1)} == {"10"}
    assert listed(c, "many") == ["1.10"]


# -- UpdateEnvironmentTemplateVersion --------------------------------------------------


def test_update_draft_to_published_returns_the_version_as_it_is_now(proton_client):
    """DRAFT → PUBLISHED is 200 with the version as it is now: PUBLISHED, the same ARN
    and createdAt, lastModifiedAt not before createdAt, its major's
    recommendedMinorVersion; GetEnvironmentTemplateVersion and the lists agree."""
    c = proton_client
    new_template(c, "web")
    made = new_version(c, "web", description="d")
    v = publish(c, "web", 1, 0)
    assert set(v) <= VERSION_MEMBERS
    assert v["status"] == "PUBLISHED"
    assert (v["arn"], v["createdAt"], v["description"]) == (made["arn"], made["createdAt"], "d")
    assert v["lastModifiedAt"] >= v["createdAt"]
    assert_recent(v["lastModifiedAt"])
    assert v["recommendedMinorVersion"] == "0"
    assert get_version(c, "web", 1, 0) == v
    assert [s["status"] for s in summaries(c, "web", 1)] == ["PUBLISHED"]


def test_update_published_to_published_and_draft_to_draft_are_fine(proton_client):
    """PUBLISHED → PUBLISHED and DRAFT → DRAFT are 200 and leave the status as it is."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    publish(c, "web", 1, 0)
    assert publish(c, "web", 1, 0)["status"] == "PUBLISHED"
    assert update_version(c, "web", 1, 1, status="DRAFT")["status"] == "DRAFT"
    assert get_version(c, "web", 1, 0)["status"] == "PUBLISHED"
    assert get_version(c, "web", 1, 1)["status"] == "DRAFT"


def test_update_published_to_draft_is_conflict(proton_client):
    """PUBLISHED → DRAFT is ConflictException (409); the version stays PUBLISHED and
    stays the recommended one."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")
    publish(c, "web", 1, 0)
    with conflict(c):
        c.update_environment_template_version(templateName="web", majorVersion="1", minorVersion="0", status="DRAFT")
    with conflict(c):
        c.update_environment_template_version(
            templateName="web", majorVersion="1", minorVersion="0", status="DRAFT", description="never"
        )
    got = get_version(c, "web", 1, 0)
    assert got["status"] == "PUBLISHED" and "description" not in got
    assert get_template(c, "web")["recommendedVersion"] == "1.0"


def test_update_to_a_registration_status_or_an_unknown_one_is_validation(proton_client):
    """status REGISTRATION_IN_PROGRESS or REGISTRATION_FAILED, which only registration
    sets, or a value outside the enum, is ValidationException, for a draft and a
    published version; a description over 500 characters too. Nothing changes."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0, stays DRAFT
    new_version(c, "web", major=1)  # 1.1, PUBLISHED
    publish(c, "web", 1, 1)
    for minor in (0, 1):
        for status in ("REGISTRATION_IN_PROGRESS", "REGISTRATION_FAILED", "ARCHIVED", "draft"):
            with validation(c):
                c.update_environment_template_version(
                    templateName="web", majorVersion="1", minorVersion=str(minor), status=status
                )
        with validation(c):
            c.update_environment_template_version(
                templateName="web", majorVersion="1", minorVersion=str(minor), description="d" * 501
            )
    assert [s["status"] for s in summaries(c, "web", 1)] == ["DRAFT", "PUBLISHED"]


def test_update_changes_the_description(proton_client):
    """A description alone changes the description and keeps the status; with a status
    both change; the description is seen by Get and the lists."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web", description="old")
    v = update_version(c, "web", 1, 0, description="new")
    assert (v["status"], v["description"]) == ("DRAFT", "new")
    v = update_version(c, "web", 1, 0, status="PUBLISHED", description="newer")
    assert (v["status"], v["description"]) == ("PUBLISHED", "newer")
    v = update_version(c, "web", 1, 0, description="newest")
    assert (v["status"], v["description"]) == ("PUBLISHED", "newest")
    assert get_version(c, "web", 1, 0)["description"] == "newest"
    assert [s["description"] for s in summaries(c, "web", 1)] == ["newest"]
    assert [s["description"] for s in summaries(c, "web")] == ["newest"]


def test_update_an_unknown_version_or_template_is_not_found(proton_client):
    """UpdateEnvironmentTemplateVersion of an unknown template, major or minor (also
    beyond 2^64), or of a deleted version, is ResourceNotFoundException (404)."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    delete_version(c, "web", 1, 1)
    for template, major, minor in (
        ("nosuch", 1, 0),
        ("web", 2, 0),
        ("web", 1, 2),
        ("web", 1, 1),
        ("web", 0, 0),
        ("web", 2**64, 0),
        ("web", 1, 2**64),
    ):
        with not_found(c):
            c.update_environment_template_version(
                templateName=template, majorVersion=str(major), minorVersion=str(minor), status="PUBLISHED"
            )
    assert get_version(c, "web", 1, 0)["status"] == "DRAFT"


# -- recommended versions --------------------------------------------------------------


def test_recommended_version_is_the_highest_published_version(proton_client):
    """The template's recommendedVersion is the highest published `M.m`, absent while
    nothing is published; drafts never count, however high; Get and the summary
    agree."""
    c = proton_client
    new_template(c, "web")

    def recommended():
        got = get_template(c, "web").get("recommendedVersion")
        summary = ok(c.list_environment_templates(), 200)["templates"][0]
        assert summary.get("recommendedVersion") == got
        return got

    assert recommended() is None
    new_version(c, "web")  # 1.0
    assert recommended() is None
    publish(c, "web", 1, 0)
    assert recommended() == "1.0"
    new_version(c, "web")  # 2.0 draft
    new_version(c, "web", major=2)  # 2.1 draft
    assert recommended() == "1.0"
    new_version(c, "web", major=1)  # 1.1
    publish(c, "web", 1, 1)
    assert recommended() == "1.1"
    publish(c, "web", 2, 0)
    assert recommended() == "2.0"
    new_version(c, "web")  # 3.0 draft
    assert recommended() == "2.0"


def test_recommended_minor_version_is_the_highest_published_minor_of_its_major(proton_client):
    """A version's (and a summary's) recommendedMinorVersion is the highest published
    minor of its major, absent while the major has none; drafts never count."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    assert "recommendedMinorVersion" not in get_version(c, "web", 1, 0)
    publish(c, "web", 1, 0)
    new_version(c, "web", major=1)  # 1.1 draft
    new_version(c, "web", major=1)  # 1.2 draft
    for minor in (0, 1, 2):
        assert get_version(c, "web", 1, minor)["recommendedMinorVersion"] == "0"
    publish(c, "web", 1, 1)
    new_version(c, "web")  # 2.0 draft
    for minor in (0, 1, 2):
        assert get_version(c, "web", 1, minor)["recommendedMinorVersion"] == "1"
    assert [s.get("recommendedMinorVersion") for s in summaries(c, "web", 1)] == ["1", "1", "1"]
    assert "recommendedMinorVersion" not in get_version(c, "web", 2, 0)
    assert [(number(s), s.get("recommendedMinorVersion")) for s in summaries(c, "web")] == [
        ("1.1", "1"),
        ("2.0", None),
    ]


# -- DeleteEnvironmentTemplateVersion --------------------------------------------------


def test_delete_version_returns_it_as_it_was_and_it_is_gone(proton_client):
    """DeleteEnvironmentTemplateVersion is 200 with the version as it was (its ARN,
    numbers, status, description, createdAt); afterwards Get is
    ResourceNotFoundException and the lists no longer show it."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web", description="a")  # 1.0
    made = new_version(c, "web", major=1, description="b")  # 1.1
    resp = delete_version(c, "web", 1, 1)
    assert set(resp) == {"environmentTemplateVersion"}
    gone = resp["environmentTemplateVersion"]
    assert set(gone) <= VERSION_MEMBERS
    assert (gone["arn"], number(gone), gone["status"]) == (version_arn("web", 1, 1), "1.1", "DRAFT")
    assert (gone["description"], gone["createdAt"], gone["templateName"]) == ("b", made["createdAt"], "web")
    with not_found(c):
        c.get_environment_template_version(templateName="web", majorVersion="1", minorVersion="1")
    assert listed(c, "web", 1) == ["1.0"]
    assert listed(c, "web") == ["1.0"]


def test_delete_a_missing_version_major_or_template_is_200_without_a_version(proton_client):
    """Deletes are idempotent: a minor never made or already deleted, a major never made
    (also beyond 2^64), or a template that does not exist is 200 with no
    `environmentTemplateVersion`."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    assert "environmentTemplateVersion" in delete_version(c, "web", 1, 1)
    for template, major, minor in (
        ("web", 1, 1),
        ("web", 1, 5),
        ("web", 7, 0),
        ("web", 0, 0),
        ("web", 2**64, 0),
        ("web", 1, 2**64),
        ("nosuch", 1, 0),
    ):
        assert delete_version(c, template, major, minor) == {}
    assert listed(c, "web", 1) == ["1.0"]


def test_the_templates_recommended_version_is_deleted_only_as_its_only_live_version(proton_client):
    """The template's recommended version cannot be deleted while any other version of
    the template is live, a draft of another major or a published minor below it:
    ConflictException (409). Once it is the only live version it can be, and the
    template has no recommendedVersion any more."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    publish(c, "web", 1, 0)
    new_version(c, "web")  # 2.0 draft
    with conflict(c):
        c.delete_environment_template_version(templateName="web", majorVersion="1", minorVersion="0")
    assert get_version(c, "web", 1, 0)["status"] == "PUBLISHED"
    delete_version(c, "web", 2, 0)
    gone = delete_version(c, "web", 1, 0)["environmentTemplateVersion"]
    assert (number(gone), gone["status"]) == ("1.0", "PUBLISHED")
    t = get_template(c, "web")
    assert "recommendedVersion" not in t
    assert listed(c, "web") == []

    new_template(c, "pair")
    new_version(c, "pair")  # 1.0
    new_version(c, "pair", major=1)  # 1.1
    publish(c, "pair", 1, 0)
    publish(c, "pair", 1, 1)  # recommended 1.1, with a published 1.0 beside it
    with conflict(c):
        c.delete_environment_template_version(templateName="pair", majorVersion="1", minorVersion="1")
    assert delete_version(c, "pair", 1, 0)["environmentTemplateVersion"]["status"] == "PUBLISHED"
    assert number(delete_version(c, "pair", 1, 1)["environmentTemplateVersion"]) == "1.1"


def test_a_majors_recommended_minor_is_deleted_only_as_its_majors_only_live_minor(proton_client):
    """A major's recommended minor that is not the template's recommended version can be
    deleted only when it is that major's only live minor (else 409), even while other
    majors live; then the major is gone and 2.0 stays recommended."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    publish(c, "web", 1, 0)
    new_version(c, "web", major=1)  # 1.1 draft
    new_version(c, "web")  # 2.0
    publish(c, "web", 2, 0)
    assert get_template(c, "web")["recommendedVersion"] == "2.0"
    with conflict(c):
        c.delete_environment_template_version(templateName="web", majorVersion="1", minorVersion="0")
    delete_version(c, "web", 1, 1)
    assert number(delete_version(c, "web", 1, 0)["environmentTemplateVersion"]) == "1.0"
    assert listed(c, "web") == ["2.0"]
    assert get_template(c, "web")["recommendedVersion"] == "2.0"


def test_any_other_version_can_always_be_deleted(proton_client):
    """A version that is neither the template's recommended version nor its major's
    recommended minor can always be deleted: drafts of any major, a published minor
    below the recommended one."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    new_version(c, "web", major=1)  # 1.2 draft
    new_version(c, "web")  # 2.0 draft
    publish(c, "web", 1, 0)
    publish(c, "web", 1, 1)  # recommended: 1.1 for the template and for major 1
    for major, minor, status in ((1, 2, "DRAFT"), (1, 0, "PUBLISHED"), (2, 0, "DRAFT")):
        assert delete_version(c, "web", major, minor)["environmentTemplateVersion"]["status"] == status
    assert listed(c, "web") == ["1.1"]
    assert listed(c, "web", 1) == ["1.1"]


def test_deleting_the_last_minor_of_a_major_deletes_the_major(proton_client):
    """When a major's last minor is deleted the major goes too: it is no longer listed, a
    create with that majorVersion is ResourceNotFoundException, and a create without
    one opens the next never-used major."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    new_version(c, "web")  # 2.0
    delete_version(c, "web", 1, 0)
    assert listed(c, "web") == ["1.1", "2.0"]
    delete_version(c, "web", 1, 1)
    assert listed(c, "web") == ["2.0"]
    with not_found(c):
        c.create_environment_template_version(templateName="web", majorVersion="1", source=s3())
    assert number(new_version(c, "web")) == "3.0"
    assert listed(c, "web") == ["2.0", "3.0"]


def test_major_and_minor_numbers_are_never_reused(proton_client):
    """Numbers are handed out once: after deleting 1.2 the next minor of 1 is 1.3; after
    deleting 2.0 the next major is 3; after deleting every version the next is 4.0."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    new_version(c, "web", major=1)  # 1.2
    new_version(c, "web")  # 2.0
    delete_version(c, "web", 1, 2)
    assert number(new_version(c, "web", major=1)) == "1.3"
    delete_version(c, "web", 2, 0)
    assert number(new_version(c, "web")) == "3.0"
    for major, minor in ((1, 0), (1, 1), (1, 3), (3, 0)):
        assert "environmentTemplateVersion" in delete_version(c, "web", major, minor)
    assert listed(c, "web") == []
    assert number(new_version(c, "web")) == "4.0"


# -- GetEnvironmentTemplateVersion and ListEnvironmentTemplateVersions ---------------


def test_get_version_of_an_unknown_template_major_or_minor_is_not_found(proton_client):
    """GetEnvironmentTemplateVersion of an unknown template, an unknown major or minor
    (also beyond 2^64), or a deleted version is ResourceNotFoundException (404)."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    delete_version(c, "web", 1, 1)
    for template, major, minor in (
        ("nosuch", 1, 0),
        ("web", 2, 0),
        ("web", 1, 2),
        ("web", 1, 1),
        ("web", 0, 0),
        ("web", 2**64, 0),
        ("web", 1, 2**64),
    ):
        with not_found(c):
            c.get_environment_template_version(templateName=template, majorVersion=str(major), minorVersion=str(minor))


def test_list_versions_of_a_major_lists_its_live_minors_ascending(proton_client):
    """With majorVersion: that major's live minors, ascending, each summary (arn,
    templateName, majorVersion, minorVersion, status, createdAt, lastModifiedAt,
    description, recommendedMinorVersion) equal to GetEnvironmentTemplateVersion's
    version; deleted minors and other majors are not listed, and a major with no live
    minors (deleted, never made) lists nothing (docs/design/connect-proton.md "As built:
    Proton")."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web", description="a")  # 1.0
    new_version(c, "web", major=1, description="b")  # 1.1
    new_version(c, "web", major=1, description="c")  # 1.2
    new_version(c, "web")  # 2.0
    publish(c, "web", 1, 1)
    delete_version(c, "web", 1, 0)
    resp = ok(c.list_environment_template_versions(templateName="web", majorVersion="1"), 200)
    assert "nextToken" not in resp
    got = resp["templateVersions"]
    assert [number(s) for s in got] == ["1.1", "1.2"]
    for s in got:
        assert set(s) <= VERSION_MEMBERS, s
        assert s == get_version(c, "web", s["majorVersion"], s["minorVersion"])
    assert [(s["status"], s["description"], s["recommendedMinorVersion"]) for s in got] == [
        ("PUBLISHED", "b", "1"),
        ("DRAFT", "c", "1"),
    ]
    assert listed(c, "web", 2) == ["2.0"]
    delete_version(c, "web", 2, 0)
    for major in (2, 9, 2**64):  # deleted, never made, beyond u64: nothing listed
        resp = ok(c.list_environment_template_versions(templateName="web", majorVersion=str(major)), 200)
        assert resp["templateVersions"] == [] and "nextToken" not in resp


def test_list_versions_without_a_major_lists_one_summary_per_live_major(proton_client):
    """Without majorVersion: one summary per live major, ascending by major: its
    recommended minor if it has one, else its highest minor; a deleted major is gone."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")  # 1.0
    new_version(c, "web", major=1)  # 1.1
    new_version(c, "web", major=1)  # 1.2 draft
    publish(c, "web", 1, 0)
    publish(c, "web", 1, 1)  # major 1: recommended 1.1
    new_version(c, "web")  # 2.0 draft
    new_version(c, "web", major=2)  # 2.1 draft: major 2 highest 2.1
    new_version(c, "web")  # 3.0, deleted below
    new_version(c, "web")  # 4.0
    new_version(c, "web", major=4)  # 4.1 draft
    publish(c, "web", 4, 0)  # major 4: recommended 4.0
    delete_version(c, "web", 3, 0)
    resp = ok(c.list_environment_template_versions(templateName="web"), 200)
    assert "nextToken" not in resp
    got = resp["templateVersions"]
    assert [number(s) for s in got] == ["1.1", "2.1", "4.0"]
    for s in got:
        assert s == get_version(c, "web", s["majorVersion"], s["minorVersion"])
    assert [s["status"] for s in got] == ["PUBLISHED", "DRAFT", "PUBLISHED"]


def test_list_versions_of_an_unknown_template_is_not_found(proton_client):
    """ListEnvironmentTemplateVersions of a template that does not exist, or was deleted,
    is ResourceNotFoundException (404), with or without majorVersion; a template
    without versions lists none."""
    c = proton_client
    new_template(c, "gone")
    delete_template(c, "gone")
    for name in ("nosuch", "gone"):
        for kw in ({}, {"majorVersion": "1"}):
            with not_found(c):
                c.list_environment_template_versions(templateName=name, **kw)
    new_template(c, "empty")
    resp = ok(c.list_environment_template_versions(templateName="empty"), 200)
    assert resp["templateVersions"] == [] and "nextToken" not in resp


def test_list_versions_pages_by_paginator_and_by_hand(proton_client):
    """The `list_environment_template_versions` paginator with page size 2, and
    maxResults/nextToken by hand, see each version once in order, for minors and for
    majors; the last page has no token."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")
    for _ in range(4):
        new_version(c, "web", major=1)  # 1.0..1.4
    for _ in range(4):
        new_version(c, "web")  # 2.0..5.0
    paginator = c.get_paginator("list_environment_template_versions")
    pages = list(paginator.paginate(templateName="web", majorVersion="1", PaginationConfig={"PageSize": 2}))
    assert [[number(s) for s in p["templateVersions"]] for p in pages] == [["1.0", "1.1"], ["1.2", "1.3"], ["1.4"]]
    assert all(re.fullmatch(TOKEN_PATTERN, p["nextToken"]) for p in pages[:-1])
    assert "nextToken" not in pages[-1]
    pages = list(paginator.paginate(templateName="web", PaginationConfig={"PageSize": 2}))
    assert [[number(s) for s in p["templateVersions"]] for p in pages] == [["1.4", "2.0"], ["3.0", "4.0"], ["5.0"]]

    for kw, expected in (({"majorVersion": "1"}, [f"1.{m}" for m in range(5)]), ({}, ["1.4", "2.0", "3.0", "4.0", "5.0"])):
        seen, token = [], None
        while True:
            more = {"nextToken": token} if token else {}
            resp = ok(c.list_environment_template_versions(templateName="web", maxResults=3, **kw, **more), 200)
            seen += [number(s) for s in resp["templateVersions"]]
            token = resp.get("nextToken")
            if not token:
                break
        assert seen == expected


def test_list_versions_default_page_is_100(proton_client):
    """Without maxResults a page holds 100 versions; the 101st is on the next page."""
    c = proton_client
    new_template(c, "big")
    new_version(c, "big")
    for _ in range(100):
        c.create_environment_template_version(templateName="big", majorVersion="1", source=s3())
    first = ok(c.list_environment_template_versions(templateName="big", majorVersion="1"), 200)
    assert [number(s) for s in first["templateVersions"]] == [f"1.{m}" for m in range(100)]
    assert first["nextToken"]
    second = ok(
        c.list_environment_template_versions(templateName="big", majorVersion="1", nextToken=first["nextToken"]), 200
    )
    assert [number(s) for s in second["templateVersions"]] == ["1.100"]
    assert "nextToken" not in second


def test_list_versions_bounds_and_bad_tokens_are_validation(proton_client, loose_proton_client):
    """maxResults outside 1..100 (0 with the loose client) and a nextToken the server did
    not hand out are ValidationException; 1 and 100 are fine."""
    c = proton_client
    new_template(c, "web")
    new_version(c, "web")
    new_version(c, "web", major=1)
    for n in (0, 101):
        with validation(loose_proton_client):
            loose_proton_client.list_environment_template_versions(templateName="web", maxResults=n)
    for token in ("zzzz", "not a token!"):
        for kw in ({}, {"majorVersion": "1"}):
            with validation(c):
                c.list_environment_template_versions(templateName="web", nextToken=token, **kw)
    one = ok(c.list_environment_template_versions(templateName="web", majorVersion="1", maxResults=1), 200)
    assert [number(s) for s in one["templateVersions"]] == ["1.0"] and one["nextToken"]
    full = ok(c.list_environment_template_versions(templateName="web", majorVersion="1", maxResults=100), 200)
    assert [number(s) for s in full["templateVersions"]] == ["1.0", "1.1"]


# -- any operation ---------------------------------------------------------------------


def test_every_operation_on_an_unknown_template_is_not_found_or_an_empty_delete(proton_client):
    """Every read or write naming a template that does not exist is
    ResourceNotFoundException (404); both deletes answer 200 with no members."""
    c = proton_client
    for call in (
        lambda: c.get_environment_template(name="nosuch"),
        lambda: c.create_environment_template_version(templateName="nosuch", source=s3()),
        lambda: c.create_environment_template_version(templateName="nosuch", majorVersion="1", source=s3()),
        lambda: c.get_environment_template_version(templateName="nosuch", majorVersion="1", minorVersion="0"),
        lambda: c.list_environment_template_versions(templateName="nosuch"),
        lambda: c.update_environment_template_version(
            templateName="nosuch", majorVersion="1", minorVersion="0", description="x"
        ),
    ):
        with not_found(c):
            call()
    assert delete_template(c, "nosuch") == {}
    assert delete_version(c, "nosuch", 1, 0) == {}
    assert template_names(c) == []


# -- wire ------------------------------------------------------------------------------


def test_responses_are_aws_json_with_camel_case_members_and_epoch_second_timestamps(server, proton_client):
    """A raw `POST /` with the target is 200 `application/x-amz-json-1.0`, its members
    camelCase, createdAt and lastModifiedAt JSON numbers of epoch seconds near now; the
    request body is parsed whatever its Content-Type."""
    created = post(server.endpoint, "CreateEnvironmentTemplate", {"name": "raw", "displayName": "Raw"})
    assert created.status == 200, created.data
    assert created.headers.get("content-type", "").startswith(AMZ_JSON), created.headers
    assert created.headers.get("x-amzn-requestid")
    doc = created.json()["environmentTemplate"]
    assert set(doc) == {"arn", "name", "displayName", "createdAt", "lastModifiedAt"}, doc
    for member in ("createdAt", "lastModifiedAt"):
        value = doc[member]
        assert isinstance(value, (int, float)) and not isinstance(value, bool), doc
        assert abs(value - time.time()) < 60, value
    got = post(server.endpoint, "GetEnvironmentTemplate", {"name": "raw"}, content_type="application/json")
    assert got.status == 200, got.data
    assert got.json()["environmentTemplate"] == doc
    version = post(
        server.endpoint,
        "CreateEnvironmentTemplateVersion",
        {"templateName": "raw", "source": s3(), "clientToken": "raw-token"},
    )
    assert version.status == 200, version.data
    v = version.json()["environmentTemplateVersion"]
    assert (v["majorVersion"], v["minorVersion"]) == ("1", "0")
    assert isinstance(v["createdAt"], (int, float)), v
    listing = post(server.endpoint, "ListEnvironmentTemplates")
    assert listing.status == 200 and [t["name"] for t in listing.json()["templates"]] == ["raw"]
    assert get_template(proton_client, "raw")["displayName"] == "Raw"


def test_errors_are_aws_json_with_the_shape_name_and_a_message(server, proton_client):
    """Errors are `{"__type": "<Shape>", "message": "..."}` with `X-Amzn-ErrorType` and a
    request id, for 400, 404 and 409; boto3 raises the modelled exception class with
    `Error.Code` the shape name and the message. A body that is not a JSON object is
    ValidationException and creates nothing."""
    assert_aws_json_error(
        post(server.endpoint, "GetEnvironmentTemplate", {"name": "nosuch"}), "ResourceNotFoundException", 404
    )
    assert_aws_json_error(
        post(server.endpoint, "CreateEnvironmentTemplate", {"name": "-x"}), "ValidationException", 400
    )
    new_template(proton_client, "busy")
    new_version(proton_client, "busy")
    assert_aws_json_error(post(server.endpoint, "DeleteEnvironmentTemplate", {"name": "busy"}), "ConflictException", 409)
    with not_found(proton_client) as info:
        proton_client.get_environment_template(name="nosuch")
    assert isinstance(info.value, proton_client.exceptions.ResourceNotFoundException)
    assert info.value.response["Error"]["Code"] == "ResourceNotFoundException"
    assert info.value.response["Error"]["Message"]
    with conflict(proton_client) as info:
        proton_client.delete_environment_template(name="busy")
    assert isinstance(info.value, proton_client.exceptions.ConflictException)
    for data in (b"{not json", b"[1, 2]", b'"text"'):
        assert_aws_json_error(post(server.endpoint, "CreateEnvironmentTemplate", data=data), "ValidationException", 400)
    assert template_names(proton_client) == ["busy"]


def test_an_unknown_or_missing_target_is_unknown_operation_400(server, proton_client):
    """`POST /` whose X-Amz-Target names no served operation (UpdateEnvironmentTemplate,
    an unknown Proton name, an empty one, another service's prefix, no dot), or has no
    X-Amz-Target at all, is 400 with `__type` UnknownOperationException in the awsJson
    format; nothing is created."""
    for target in (
        f"{TARGET}.UpdateEnvironmentTemplate",
        f"{TARGET}.NoSuchOperation",
        f"{TARGET}.",
        "AmazonSSM.ListEnvironmentTemplates",
        f"{TARGET}ListEnvironmentTemplates",
    ):
        resp = raw(
            server.endpoint,
            "POST",
            "/",
            data=b'{"name": "x"}',
            headers={"Content-Type": AMZ_JSON, "X-Amz-Target": target},
        )
        assert_aws_json_error(resp, "UnknownOperationException", 400)
    assert_aws_json_error(post(server.endpoint, None, {"name": "x"}), "UnknownOperationException", 400)
    assert template_names(proton_client) == []


def test_another_method_on_the_root_is_unknown_operation_400(server):
    """`/` serves only POST, and another method is 400 UnknownOperationException in the
    awsJson format, with or without a Proton target (docs/design/connect-proton.md,
    Wire: "An unknown or missing target, or another method on `/`, is 400")."""
    for method in ("GET", "PUT", "DELETE"):
        for headers in ({}, {"X-Amz-Target": f"{TARGET}.ListEnvironmentTemplates"}):
            resp = raw(server.endpoint, method, "/", headers=headers)
            assert_aws_json_error(resp, "UnknownOperationException", 400)


def test_update_environment_template_and_other_proton_operations_are_unknown_operations(proton_client):
    """UpdateEnvironmentTemplate and every other Proton operation are not served: boto3
    gets a ClientError with code UnknownOperationException (not modelled, so the plain
    class), HTTP 400 and a request id; the template is unchanged."""
    c = proton_client
    t = new_template(c, "kept", description="d")
    for call in (
        lambda: c.update_environment_template(name="kept", description="changed"),
        lambda: c.list_environments(),
        lambda: c.list_service_templates(),
        lambda: c.get_account_settings(),
        lambda: c.tag_resource(resourceArn=t["arn"], tags=[{"key": "k", "value": "v"}]),
    ):
        with pytest.raises(ClientError) as info:
            call()
        resp = info.value.response
        assert resp["Error"]["Code"] == "UnknownOperationException", resp
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 400
        assert resp["ResponseMetadata"]["RequestId"]
        assert resp["Error"]["Message"]
    assert get_template(c, "kept") == t


# -- durability ------------------------------------------------------------------------


def snapshot(client) -> dict:
    """Every template, version, status and recommendation a client can read."""
    out = {}
    for name in template_names(client):
        entry = {
            "template": get_template(client, name),
            "summary": [s for p in client.get_paginator("list_environment_templates").paginate() for s in p["templates"] if s["name"] == name],
            "majors": summaries(client, name),
            "versions": {},
        }
        for major in entry["majors"]:
            minors = summaries(client, name, major["majorVersion"])
            entry["versions"][major["majorVersion"]] = {
                "listed": minors,
                "got": [get_version(client, name, s["majorVersion"], s["minorVersion"]) for s in minors],
            }
        out[name] = entry
    return out


def test_templates_versions_statuses_and_recommendations_survive_a_restart(server, proton_client):
    """A SIGTERM and a new server on the same data directory: every template, version,
    status, description, timestamp and recommended version is back unchanged; a
    deleted template stays deleted; numbering continues after the highest numbers ever
    handed out; idempotent creates still answer the first template."""
    c = proton_client
    alpha = dict(displayName="Alpha", description="first", encryptionKey=KMS_KEY, provisioning="CUSTOMER_MANAGED")
    new_template(c, "alpha", **alpha)
    new_version(c, "alpha", description="one")  # 1.0
    new_version(c, "alpha", major=1, description="one one")  # 1.1
    new_version(c, "alpha", major=1)  # 1.2, deleted
    new_version(c, "alpha")  # 2.0
    new_version(c, "alpha", major=2)  # 2.1
    new_version(c, "alpha")  # 3.0, deleted
    publish(c, "alpha", 1, 0)
    publish(c, "alpha", 2, 1)
    update_version(c, "alpha", 1, 1, description="edited")
    delete_version(c, "alpha", 1, 2)
    delete_version(c, "alpha", 3, 0)
    new_template(c, "bravo")
    new_version(c, "bravo")
    new_template(c, "gone")
    delete_template(c, "gone")

    before = snapshot(c)
    assert set(before) == {"alpha", "bravo"}
    assert before["alpha"]["template"]["recommendedVersion"] == "2.1"
    assert [number(s) for s in before["alpha"]["majors"]] == ["1.0", "2.1"]

    server.restart()
    c2 = server.proton_client()
    assert snapshot(c2) == before
    with not_found(c2):
        c2.get_environment_template(name="gone")
    assert new_template(c2, "alpha", **alpha) == before["alpha"]["template"]
    assert number(new_version(c2, "alpha", major=1)) == "1.3"
    assert number(new_version(c2, "alpha")) == "4.0"
    with not_found(c2):
        c2.create_environment_template_version(templateName="alpha", majorVersion="3", source=s3())
    assert get_version(c2, "alpha", 1, 1)["description"] == "edited"
    assert get_version(c2, "alpha", 2, 1)["status"] == "PUBLISHED"


# -- concurrency -------------------------------------------------------------------------


def test_8_clients_creating_minors_of_one_major_get_dense_numbers(server, proton_client):
    """8 clients, each in its own thread, create 5 minors each of major 1 of one template
    at once (1.0 made first, distinct descriptions): all 40 succeed, the minors are
    exactly 1..40 with no duplicates, each thread's minors increase, and each listed
    minor carries the description of the call that got it."""
    c = proton_client
    new_template(c, "busy")
    new_version(c, "busy", description="first")
    clients = [server.proton_client() for _ in range(THREADS)]

    def create_minors(index, client):
        made = []
        for r in range(ROUNDS):
            resp = client.create_environment_template_version(
                templateName="busy",
                majorVersion="1",
                source=s3(key=f"thread{index}/round{r}.yaml"),
                description=f"thread {index} round {r}",
            )
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
            v = resp["environmentTemplateVersion"]
            assert v["majorVersion"] == "1"
            assert v["description"] == f"thread {index} round {r}"
            made.append((v["minorVersion"], v["description"]))
        minors = [int(m) for m, _ in made]
        assert minors == sorted(minors) and len(set(minors)) == ROUNDS, minors
        return made

    made = [m for per in run_together(clients, create_minors) for m in per]
    assert len(made) == THREADS * ROUNDS
    assert sorted(int(m) for m, _ in made) == list(range(1, THREADS * ROUNDS + 1))
    listed_minors = summaries(c, "busy", 1)
    assert [int(s["minorVersion"]) for s in listed_minors] == list(range(0, THREADS * ROUNDS + 1))
    assert {s["minorVersion"]: s["description"] for s in listed_minors[1:]} == dict(made)
    assert listed_minors[0]["description"] == "first"
    assert listed(c, "busy") == ["1.40"]
