"""Amazon Connect views: CreateView, CreateViewVersion, DescribeView, ListViews,
ListViewVersions, UpdateViewContent, UpdateViewMetadata, DeleteView, DeleteViewVersion
(reference section 5, with sections 2.1, 2.3 and 2.4 for the wire), and where AWS is
silent docs/design/connect-proton.md ("Connect views", "Wire").

An instance is only a namespace: each test names its own (`"inst-" + uuid`), nothing
creates it. Every success is 200; errors are rest-json with the exception name as the
code and a `Message`."""

from __future__ import annotations

import hashlib
import json
import re
import uuid

import pytest
from botocore.exceptions import ClientError, ParamValidationError

from support import assert_raw_error, assert_recent, body, ok, raw, refused, run_together

REGION = "us-east-1"
ACCOUNT = "000000000000"
LIMIT = 400 * 1024  # canonical content bytes a view may hold
THREADS = 8
ROUNDS = 5

VIEW_MEMBERS = {
    "Id",
    "Arn",
    "Name",
    "Status",
    "Type",
    "Description",
    "Version",
    "VersionDescription",
    "Content",
    "Tags",
    "CreatedTime",
    "LastModifiedTime",
    "ViewContentSha256",
}

# The worked example of docs/design/connect-proton.md ("ViewContentSha256 covers").
CAFE = '{"Head":{"Title":"Café"},"Body":[]}'
CAFE_SHA = {
    ("Submit", "Cancel"): "d08d1f7a0f6dbe7908c8825f80bc7e5fb168ed031dcdbdb35c88c358092f385b",
    ("Cancel", "Submit"): "3659e93d921a2ac3f0f20af54d8840b6b7e5537d8383f62a81ca484db90ca67f",
    (): "5b830d9264fab25acf5074e48e4736d672bda75abc4005341a370c0d062d6f69",
}

TEMPLATE_A = '{"Head":{"Title":"$.Customer.Name"},"Body":["$.Items[0]","plain"]}'
TEMPLATE_B = '{"Body":[{"Text":"$.Order.Total"}]}'
TEMPLATE_C = '{"Body":[{"Text":"third"}]}'
SCHEMA_A = '{"properties":{"Customer":{},"Items":{}},"type":"object"}'
EMPTY_SCHEMA = '{"properties":{},"type":"object"}'


# -- helpers ---------------------------------------------------------------------------


def instance() -> str:
    """A fresh instance id of the model's shape; nothing needs to create it."""
    return f"inst-{uuid.uuid4()}"


def canonical(template: str, actions=()) -> bytes:
    """RFC 8785 (JCS) of {"Actions", "Template"}: for this strings-only shape, exactly
    Python's sorted, compact, non-ASCII-escaping json.dumps, in UTF-8."""
    return json.dumps(
        {"Actions": list(actions), "Template": template},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    ).encode("utf-8")


def sha(template: str, actions=()) -> str:
    return hashlib.sha256(canonical(template, actions)).hexdigest()


def input_schema(template: str) -> str:
    """The InputSchema the rule gives: one empty schema per distinct X such that some
    string value of the parsed Template starts with `$.X` (X up to the first `.`, `[`
    or the end), as JCS text."""
    names = set()

    def walk(value):
        if isinstance(value, str):
            if value.startswith("$."):
                names.add(re.match(r"\$\.([^.\[]*)", value).group(1))
        elif isinstance(value, list):
            for item in value:
                walk(item)
        elif isinstance(value, dict):
            for item in value.values():
                walk(item)

    walk(json.loads(template))
    return json.dumps(
        {"properties": {n: {} for n in names}, "type": "object"},
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )


def view_arn(instance_id: str, view_id: str) -> str:
    return f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{instance_id}/view/{view_id}"


def content(template: str, actions=None) -> dict:
    c = {"Template": template}
    if actions is not None:
        c["Actions"] = list(actions)
    return c


def new_view(
    client,
    instance_id: str,
    name: str = "view",
    status: str = "PUBLISHED",
    template: str = TEMPLATE_A,
    actions=None,
    **kw,
) -> dict:
    """CreateView; asserts 200 and returns the `View`."""
    resp = ok(
        client.create_view(
            InstanceId=instance_id,
            Name=name,
            Status=status,
            Content=content(template, actions),
            **kw,
        ),
        200,
    )
    assert set(body(resp)) == {"View"}, body(resp)
    return resp["View"]


def describe(client, instance_id: str, view_id: str) -> dict:
    resp = ok(client.describe_view(InstanceId=instance_id, ViewId=view_id), 200)
    assert set(body(resp)) == {"View"}, body(resp)
    return resp["View"]


def publish(client, instance_id: str, view_id: str, template: str, actions=None, status="PUBLISHED") -> dict:
    """UpdateViewContent; asserts 200 and returns the `View`."""
    resp = ok(
        client.update_view_content(
            InstanceId=instance_id, ViewId=view_id, Status=status, Content=content(template, actions)
        ),
        200,
    )
    assert set(body(resp)) == {"View"}, body(resp)
    return resp["View"]


def new_version(client, instance_id: str, view_id: str, **kw) -> dict:
    """CreateViewVersion; asserts 200 and returns the `View`."""
    resp = ok(client.create_view_version(InstanceId=instance_id, ViewId=view_id, **kw), 200)
    assert set(body(resp)) == {"View"}, body(resp)
    return resp["View"]


def version_numbers(client, instance_id: str, view_id: str) -> list[int]:
    """Every listed version number, through the paginator, in the order listed."""
    pages = client.get_paginator("list_view_versions").paginate(InstanceId=instance_id, ViewId=view_id)
    return [item["Version"] for page in pages for item in page["ViewVersionSummaryList"]]


def view_names(client, instance_id: str, **kw) -> list[str]:
    pages = client.get_paginator("list_views").paginate(InstanceId=instance_id, **kw)
    return [item["Name"] for page in pages for item in page["ViewsSummaryList"]]


def assert_content(view: dict, template: str, actions=(), schema: str | None = None) -> None:
    """`Content` holds Template, Actions and the derived InputSchema; the hash is of the
    content shown."""
    assert view["Content"]["Template"] == template
    assert view["Content"]["Actions"] == list(actions)
    assert view["Content"]["InputSchema"] == (schema if schema is not None else input_schema(template))
    assert view["ViewContentSha256"] == sha(template, actions)


def invalid_parameter(client):
    return refused(client, "InvalidParameterException", 400)


def invalid_request(client):
    return refused(client, "InvalidRequestException", 400)


def not_found(client):
    return refused(client, "ResourceNotFoundException", 404)


def duplicate(client):
    return refused(client, "DuplicateResourceException", 409)


def in_use(client):
    return refused(client, "ResourceInUseException", 409)


# -- CreateView ------------------------------------------------------------------------


def test_create_view_answers_200_with_the_view_as_written(connect_client):
    """CreateView is 200 with a `View`: a lowercase UUIDv4 `Id`, the view ARN of the
    client's region and account 000000000000, the given Name, Description and Status,
    `Type` CUSTOMER_MANAGED, the content just written with its InputSchema and hash,
    timestamps close to now, and no `Version`."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "Customer card", Description="shows the customer", actions=["Submit", "Cancel"])
    assert set(view) <= VIEW_MEMBERS, set(view) - VIEW_MEMBERS
    assert str(uuid.UUID(view["Id"])) == view["Id"]
    assert uuid.UUID(view["Id"]).version == 4
    assert view["Arn"] == view_arn(inst, view["Id"])
    assert view["Name"] == "Customer card"
    assert view["Description"] == "shows the customer"
    assert view["Status"] == "PUBLISHED"
    assert view["Type"] == "CUSTOMER_MANAGED"
    assert_content(view, TEMPLATE_A, ["Submit", "Cancel"], SCHEMA_A)
    assert re.fullmatch(r"[0-9a-f]{64}", view["ViewContentSha256"])
    assert_recent(view["CreatedTime"])
    assert_recent(view["LastModifiedTime"])
    assert "Version" not in view
    assert "VersionDescription" not in view


def test_create_view_gives_each_view_its_own_uuid4_and_omits_absent_members(connect_client):
    """Ids are fresh lowercase UUIDv4s, distinct for every view; an absent Description
    (and absent Tags) are omitted from the View, not sent as null."""
    c = connect_client
    inst = instance()
    views = [new_view(c, inst, f"v{i}") for i in range(5)]
    assert len({v["Id"] for v in views}) == 5
    for view in views:
        assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", view["Id"])
        assert "Description" not in view
        assert "Tags" not in view


def test_create_view_saved_moves_only_saved(connect_client):
    """CreateView with Status SAVED sets `$SAVED` only: the answer shows the content with
    Status SAVED; `$SAVED` reads it back; unqualified and `$LATEST` are not found,
    since nothing was ever published."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "draft", status="SAVED")
    assert view["Status"] == "SAVED"
    assert_content(view, TEMPLATE_A, [], SCHEMA_A)
    assert "Version" not in view

    saved = describe(c, inst, f"{view['Id']}:$SAVED")
    assert saved["Status"] == "SAVED"
    assert_content(saved, TEMPLATE_A, [], SCHEMA_A)
    publish(c, inst, view["Id"], TEMPLATE_B, status="SAVED")
    for qualified in (view["Id"], f"{view['Id']}:$LATEST", view["Arn"], f"{view['Arn']}:$LATEST"):
        with not_found(c):
            c.describe_view(InstanceId=inst, ViewId=qualified)
    assert describe(c, inst, f"{view['Arn']}:$SAVED")["Content"]["Template"] == TEMPLATE_B


def test_create_view_published_moves_saved_and_latest(connect_client):
    """CreateView with Status PUBLISHED sets both `$SAVED` and `$LATEST`: both read back
    the content with Status PUBLISHED."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "live", template=TEMPLATE_B, actions=["Ok"])
    for qualified in (view["Id"], f"{view['Id']}:$LATEST", f"{view['Id']}:$SAVED"):
        got = describe(c, inst, qualified)
        assert got["Status"] == "PUBLISHED"
        assert_content(got, TEMPLATE_B, ["Ok"])
        assert "Version" not in got


def test_create_view_with_a_taken_name_is_duplicate_resource_409(connect_client):
    """Names are unique among an instance's live views: a second CreateView with the
    name is DuplicateResourceException (409) and creates nothing; so is the very same
    request repeated without a ClientToken (the model has no idempotency token, so
    botocore adds none)."""
    c = connect_client
    inst = instance()
    first = new_view(c, inst, "same")
    with duplicate(c):
        c.create_view(InstanceId=inst, Name="same", Status="SAVED", Content=content(TEMPLATE_B))
    with duplicate(c):
        new_view(c, inst, "same")
    resp = ok(c.list_views(InstanceId=inst), 200)
    assert [s["Id"] for s in resp["ViewsSummaryList"]] == [first["Id"]]


def test_a_name_is_free_again_after_delete_view(connect_client):
    """After DeleteView its name can be used again, by a new view with a new id."""
    c = connect_client
    inst = instance()
    first = new_view(c, inst, "reused")
    ok(c.delete_view(InstanceId=inst, ViewId=first["Id"]), 200)
    second = new_view(c, inst, "reused")
    assert second["Id"] != first["Id"]
    assert view_names(c, inst) == ["reused"]


def test_two_instances_are_independent_namespaces(connect_client):
    """The same name, and the same ClientToken (its scope is the instance), may be used
    in two instances; each instance lists only its own views, and a view is not found
    under another instance, by id or by ARN."""
    c = connect_client
    one, two = instance(), instance()
    a = new_view(c, one, "same", template=TEMPLATE_A, ClientToken="shared")
    b = new_view(c, two, "same", template=TEMPLATE_B, ClientToken="shared")
    assert a["Id"] != b["Id"]
    assert [s["Id"] for s in c.list_views(InstanceId=one)["ViewsSummaryList"]] == [a["Id"]]
    assert [s["Id"] for s in c.list_views(InstanceId=two)["ViewsSummaryList"]] == [b["Id"]]
    assert describe(c, one, a["Id"])["Content"]["Template"] == TEMPLATE_A
    for view_id in (a["Id"], a["Arn"]):
        with not_found(c):
            c.describe_view(InstanceId=two, ViewId=view_id)


def test_an_instance_arn_names_the_instance(connect_client):
    """An instance ARN as InstanceId names the instance at its end
    (docs/design/connect-proton.md, Definitions): the views created under the bare id
    are the ones listed, and emitted ARNs use the bare id."""
    c = connect_client
    inst = "instance-1"
    inst_arn = f"arn:aws:connect:{REGION}:{ACCOUNT}:instance/{inst}"
    view = new_view(c, inst, "by id")
    listed = ok(c.list_views(InstanceId=inst_arn), 200)["ViewsSummaryList"]
    assert [s["Id"] for s in listed] == [view["Id"]]
    got = describe(c, inst_arn, view["Id"])
    assert got["Arn"] == view_arn(inst, view["Id"])


def test_create_view_stores_and_returns_its_tags(connect_client):
    """Tags given to CreateView are returned in the View, by CreateView and DescribeView."""
    c = connect_client
    inst = instance()
    tags = {"team": "care", "cost centre": "42", "a.b:c/d=e+f-g@h": ""}
    view = new_view(c, inst, "tagged", Tags=tags)
    assert view["Tags"] == tags
    assert describe(c, inst, view["Id"])["Tags"] == tags


def test_create_view_with_51_tags_is_invalid_parameter(connect_client):
    """At most 50 tags: 51 is InvalidParameterException (botocore does not check the
    map's maximum), 50 is accepted."""
    c = connect_client
    inst = instance()
    with invalid_parameter(c):
        new_view(c, inst, "many", Tags={f"k{i}": "v" for i in range(51)})
    assert view_names(c, inst) == []
    assert len(new_view(c, inst, "fifty", Tags={f"k{i}": "v" for i in range(50)})["Tags"]) == 50


def test_create_view_with_an_aws_prefixed_tag_key_is_invalid_parameter(connect_client):
    """A tag key starting with `aws:` is InvalidParameterException (the key pattern's
    negative look-ahead); `aws` without the colon, or `xaws:` are fine."""
    c = connect_client
    inst = instance()
    with invalid_parameter(c):
        new_view(c, inst, "reserved", Tags={"aws:owner": "me"})
    assert view_names(c, inst) == []
    assert new_view(c, inst, "fine", Tags={"aws": "1", "xaws:k": "2"})["Tags"] == {"aws": "1", "xaws:k": "2"}


def test_create_view_with_a_256_character_name_is_invalid_parameter(connect_client):
    """Name length is 1..255: 256 characters is InvalidParameterException (botocore does
    not check maximum lengths), 255 is accepted."""
    c = connect_client
    inst = instance()
    with invalid_parameter(c):
        new_view(c, inst, "n" * 256)
    assert new_view(c, inst, "n" * 255)["Name"] == "n" * 255


def test_create_view_with_a_name_breaking_its_pattern_is_invalid_parameter(connect_client, loose_connect_client):
    """The Name pattern: it must start with a letter, digit or one of `_.:/=+-@()'`,
    spaces only after the first character; `#` is never allowed. An empty Name (which
    botocore refuses itself, hence the loose client) is refused too."""
    c = connect_client
    inst = instance()
    with invalid_parameter(loose_connect_client):
        loose_connect_client.create_view(InstanceId=inst, Name="", Status="SAVED", Content=content(TEMPLATE_A))
    for name in (" leading space", "hash#tag", "semi;colon", "\ttab"):
        with invalid_parameter(c):
            new_view(c, inst, name)
    assert view_names(c, inst) == []
    for name in ("Café 1", "(a)_b.c:d/e=f+g-h@i'", "x  y"):
        new_view(c, inst, name)


def test_create_view_with_a_description_breaking_its_pattern_or_length_is_invalid_parameter(connect_client):
    """Description: 1..4096 characters of its pattern (commas allowed, no leading space,
    no `#`); violations are InvalidParameterException."""
    c = connect_client
    inst = instance()
    for description in (" leading space", "hash#tag", "d" * 4097):
        with invalid_parameter(c):
            new_view(c, inst, "v", Description=description)
    assert view_names(c, inst) == []
    assert new_view(c, inst, "v", Description="d" * 4096)["Description"] == "d" * 4096
    assert new_view(c, inst, "w", Description="one, two (three)")["Description"] == "one, two (three)"


def test_create_view_with_an_unknown_status_is_invalid_parameter(connect_client):
    """A Status outside PUBLISHED | SAVED (botocore does not check enums) is
    InvalidParameterException."""
    c = connect_client
    inst = instance()
    with invalid_parameter(c):
        c.create_view(InstanceId=inst, Name="v", Status="DRAFT", Content=content(TEMPLATE_A))
    assert view_names(c, inst) == []


def test_published_content_needs_a_template_that_is_a_json_object(connect_client):
    """PUBLISHED content requires Template to parse as a JSON object: text that is not
    JSON, a JSON array, string or number is InvalidParameterException, nothing created."""
    c = connect_client
    inst = instance()
    for template in ("not json", '{"open": ', "[1, 2]", '"text"', "42", ""):
        with invalid_parameter(c):
            new_view(c, inst, "v", template=template)
    assert view_names(c, inst) == []


def test_saved_content_accepts_any_template_string(connect_client):
    """SAVED accepts any Template string. Its hash covers the text as given; a Template
    that is not JSON has no InputSchema (docs/design/connect-proton.md, Reads)."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "draft", status="SAVED", template="not json {", actions=["Go"])
    assert view["Status"] == "SAVED"
    assert view["Content"]["Template"] == "not json {"
    assert view["Content"]["Actions"] == ["Go"]
    assert "InputSchema" not in view["Content"]
    assert view["ViewContentSha256"] == sha("not json {", ["Go"])
    saved = describe(c, inst, f"{view['Id']}:$SAVED")
    assert saved["Content"]["Template"] == "not json {"
    assert saved["ViewContentSha256"] == sha("not json {", ["Go"])
    # A JSON array is not an object, but SAVED takes it.
    arr = new_view(c, inst, "array", status="SAVED", template='["$.Field"]')
    assert arr["ViewContentSha256"] == sha('["$.Field"]')


def test_content_without_template_is_invalid_parameter(connect_client, loose_connect_client):
    """A Content without Template is InvalidParameterException, for SAVED and PUBLISHED
    (the model marks no member of ViewInputContent required, so botocore sends `{}`);
    without Content at all (the loose client) likewise."""
    inst = instance()
    for status in ("SAVED", "PUBLISHED"):
        with invalid_parameter(connect_client):
            connect_client.create_view(InstanceId=inst, Name="v", Status=status, Content={"Actions": ["a"]})
    with invalid_parameter(loose_connect_client):
        loose_connect_client.create_view(InstanceId=inst, Name="v", Status="SAVED")
    with pytest.raises(ParamValidationError):  # botocore itself checks required members
        connect_client.create_view(InstanceId=inst, Name="v", Status="SAVED")
    assert view_names(connect_client, inst) == []


def test_content_without_actions_has_no_actions(connect_client):
    """`Actions` absent means `[]`: the View shows `[]` and the hash is that of `[]`."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "no actions", template=CAFE)
    assert view["Content"]["Actions"] == []
    assert view["ViewContentSha256"] == CAFE_SHA[()]
    assert describe(c, inst, view["Id"])["Content"]["Actions"] == []


def test_content_of_400_kib_is_accepted_and_one_byte_more_is_invalid_parameter(connect_client):
    """Canonical content is at most 400 KiB (409,600 bytes of the JCS text), for SAVED
    and PUBLISHED alike: one byte more is InvalidParameterException."""
    c = connect_client
    inst = instance()

    def template_of(size: int) -> str:
        base = len(canonical('{"a":""}'))
        t = '{"a":"' + "x" * (size - base) + '"}'
        assert len(canonical(t)) == size
        return t

    at_limit, over = template_of(LIMIT), template_of(LIMIT + 1)
    for status in ("PUBLISHED", "SAVED"):
        with invalid_parameter(c):
            new_view(c, inst, "big", status=status, template=over)
    view = new_view(c, inst, "big", template=at_limit)
    assert view["ViewContentSha256"] == sha(at_limit)
    for status in ("PUBLISHED", "SAVED"):
        with invalid_parameter(c):
            publish(c, inst, view["Id"], over, status=status)
    assert describe(c, inst, f"{view['Id']}:$SAVED")["ViewContentSha256"] == sha(at_limit)


# -- ViewContentSha256 and InputSchema ---------------------------------------------


def test_view_content_sha256_of_the_worked_example(connect_client):
    """The design's worked example: Template `{"Head":{"Title":"Café"},"Body":[]}` with
    Actions [Submit, Cancel], [Cancel, Submit] and [] hashes to the three values given,
    which hashlib over the canonical JSON also gives; CreateView and DescribeView agree."""
    c = connect_client
    inst = instance()
    assert len(canonical(CAFE, ["Submit", "Cancel"])) == 89
    for i, (actions, expected) in enumerate(CAFE_SHA.items()):
        assert sha(CAFE, actions) == expected
        view = new_view(c, inst, f"cafe{i}", template=CAFE, actions=list(actions))
        assert view["ViewContentSha256"] == expected
        assert describe(c, inst, view["Id"])["ViewContentSha256"] == expected


def test_view_content_sha256_is_the_sha256_of_the_canonical_json(connect_client):
    """The hash covers the JCS text of {"Actions", "Template"} in UTF-8, whatever the
    client's escaping (boto3 sends `\\u00e9`): non-ASCII, U+2028, quotes, backslashes
    and control characters in Template and Actions all hash as hashlib says. Template
    is not re-canonicalized: the same JSON with other whitespace hashes differently."""
    c = connect_client
    inst = instance()
    cases = [
        (json.dumps({"t": "naïve – 日本語 😀"}, ensure_ascii=False), ["Ärger", "日本"]),
        (json.dumps({"t": "naïve"}), []),  # the same text as \u escapes: other content
        (json.dumps({"t": "line\u2028sep", "q": 'say "hi" \\ back'}, ensure_ascii=False), ["a'b"]),
        (json.dumps({"nested": {"deep": ["$.X", 1, True, None]}}, indent=2), []),
    ]
    for i, (template, actions) in enumerate(cases):
        view = new_view(c, inst, f"u{i}", template=template, actions=actions)
        assert view["ViewContentSha256"] == sha(template, actions), template
        assert view["Content"]["Template"] == template
        assert view["Content"]["Actions"] == actions
    # Control characters only fit a SAVED template (they are not JSON).
    raw_template = "tab\there\nnew\x01\x1f\x7f\b\f\r"
    view = new_view(c, inst, "control", status="SAVED", template=raw_template)
    assert view["ViewContentSha256"] == sha(raw_template)
    assert describe(c, inst, f"{view['Id']}:$SAVED")["Content"]["Template"] == raw_template
    # Template is one string, not re-canonicalized: other whitespace is other content.
    compact = new_view(c, inst, "compact", template='{"a":"$.B"}')
    spaced = new_view(c, inst, "spaced", template='{ "a" : "$.B" }')
    assert compact["ViewContentSha256"] != spaced["ViewContentSha256"]
    assert spaced["ViewContentSha256"] == sha('{ "a" : "$.B" }')
    assert compact["Content"]["InputSchema"] == spaced["Content"]["InputSchema"]


def test_input_schema_of_the_worked_example(connect_client):
    """InputSchema of `{"Head":{"Title":"$.Customer.Name"},"Body":["$.Items[0]","plain"]}`
    is exactly `{"properties":{"Customer":{},"Items":{}},"type":"object"}`."""
    view = new_view(connect_client, instance(), "schema", template=TEMPLATE_A)
    assert view["Content"]["InputSchema"] == SCHEMA_A
    assert input_schema(TEMPLATE_A) == SCHEMA_A


def test_input_schema_without_references_has_no_properties(connect_client):
    """A template with no string starting with `$.` has the schema
    `{"properties":{},"type":"object"}`."""
    c = connect_client
    inst = instance()
    for i, template in enumerate(('{"Body":["plain", 1, null]}', "{}", '{"a":"x $.NotAtStart","b":"$"}')):
        assert new_view(c, inst, f"s{i}", template=template)["Content"]["InputSchema"] == EMPTY_SCHEMA


def test_input_schema_lists_each_referenced_field_once_in_key_order(connect_client):
    """One empty schema per distinct `X` of `$.X` strings anywhere in the template
    (nested objects and arrays, X ending at `.`, `[` or the end), keys sorted, no
    whitespace; non-string values and strings not starting with `$.` add nothing."""
    template = json.dumps(
        {
            "z": "$.Zeta",
            "a": ["$.Alpha.b.c", {"deep": ["$.Alpha[2]", "$.Beta"]}],
            "n": 5,
            "t": True,
            "x": None,
            "m": "mid $.Gamma",
            "u": "$.Under_score",
        }
    )
    expected = '{"properties":{"Alpha":{},"Beta":{},"Under_score":{},"Zeta":{}},"type":"object"}'
    assert input_schema(template) == expected
    view = new_view(connect_client, instance(), "many", template=template)
    assert view["Content"]["InputSchema"] == expected


# -- DescribeView ----------------------------------------------------------------------


def test_describe_view_by_id_by_arn_and_with_each_qualifier(connect_client):
    """DescribeView takes the id or the view ARN, each optionally qualified `:$LATEST`,
    `:$SAVED` or `:<N>` (boto3 percent-encodes the label): unqualified and `$LATEST`
    show `$LATEST` (PUBLISHED, no Version), `$SAVED` the last write, `:1` version 1."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "card", Description="d", template=TEMPLATE_A)
    new_version(c, inst, view["Id"], VersionDescription="first")
    publish(c, inst, view["Id"], TEMPLATE_B, status="SAVED")
    for base in (view["Id"], view["Arn"]):
        for qualified in (base, f"{base}:$LATEST"):
            got = describe(c, inst, qualified)
            assert got["Id"] == view["Id"] or got["Id"].startswith(view["Id"]), got["Id"]
            assert got["Name"] == "card"
            assert got["Description"] == "d"
            assert got["Status"] == "PUBLISHED"
            assert got["Type"] == "CUSTOMER_MANAGED"
            assert_content(got, TEMPLATE_A)
            assert "Version" not in got
        saved = describe(c, inst, f"{base}:$SAVED")
        assert saved["Status"] == "SAVED"
        assert_content(saved, TEMPLATE_B)
        assert "Version" not in saved
        v1 = describe(c, inst, f"{base}:1")
        assert v1["Version"] == 1
        assert v1["VersionDescription"] == "first"
        assert v1["Status"] == "PUBLISHED"
        assert_content(v1, TEMPLATE_A)
    unqualified = describe(c, inst, view["Id"])
    assert unqualified["Id"] == view["Id"]
    assert unqualified["Arn"] == view["Arn"]
    assert unqualified["CreatedTime"] == view["CreatedTime"]
    assert_recent(unqualified["LastModifiedTime"])


def test_describe_saved_shows_the_last_content_write_with_its_status(connect_client):
    """`$SAVED` is the last content write, with that write's status: SAVED after a SAVED
    update (while `$LATEST` keeps the published content), PUBLISHED after a PUBLISHED one."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    publish(c, inst, view["Id"], TEMPLATE_B, status="SAVED")
    saved = describe(c, inst, f"{view['Id']}:$SAVED")
    assert (saved["Status"], saved["Content"]["Template"]) == ("SAVED", TEMPLATE_B)
    latest = describe(c, inst, view["Id"])
    assert (latest["Status"], latest["Content"]["Template"]) == ("PUBLISHED", TEMPLATE_A)
    publish(c, inst, view["Id"], TEMPLATE_C, status="PUBLISHED")
    for qualified in (f"{view['Id']}:$SAVED", view["Id"]):
        got = describe(c, inst, qualified)
        assert (got["Status"], got["Content"]["Template"]) == ("PUBLISHED", TEMPLATE_C)


def test_describe_an_unknown_view_version_or_another_instances_arn_is_not_found(connect_client):
    """An unknown id, an unknown version and the ARN of the view under another instance
    are ResourceNotFoundException (404)."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    new_version(c, inst, view["Id"])
    for view_id in (
        str(uuid.uuid4()),
        f"{uuid.uuid4()}:$SAVED",
        f"{view['Id']}:2",
        f"{view['Id']}:99",
        view_arn("other-instance", view["Id"]),
        f"{view_arn('other-instance', view['Id'])}:$LATEST",
    ):
        with not_found(c):
            c.describe_view(InstanceId=inst, ViewId=view_id)


# -- CreateViewVersion -----------------------------------------------------------------


def test_create_view_version_freezes_latest_into_versions_1_then_2(connect_client):
    """CreateViewVersion freezes `$LATEST` into version 1, then (after a new publish)
    version 2: PUBLISHED, with Version, VersionDescription and the frozen content."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A, actions=["Go"])
    v1 = new_version(c, inst, view["Id"], VersionDescription="first")
    assert v1["Version"] == 1
    assert v1["VersionDescription"] == "first"
    assert v1["Status"] == "PUBLISHED"
    assert v1["Name"] == "v"
    assert_content(v1, TEMPLATE_A, ["Go"])
    assert_recent(v1["LastModifiedTime"])
    publish(c, inst, view["Id"], TEMPLATE_B)
    v2 = new_version(c, inst, view["Id"])
    assert v2["Version"] == 2
    assert "VersionDescription" not in v2
    assert_content(v2, TEMPLATE_B)
    assert describe(c, inst, f"{view['Id']}:1")["Content"]["Template"] == TEMPLATE_A
    assert describe(c, inst, f"{view['Id']}:2")["Content"]["Template"] == TEMPLATE_B
    assert version_numbers(c, inst, view["Id"]) == [2, 1]


def test_create_view_version_with_unchanged_latest_returns_the_highest_version(connect_client):
    """If `$LATEST` equals the highest live version's content, that version is returned
    unchanged, with its own VersionDescription, and nothing is appended."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    v1 = new_version(c, inst, view["Id"], VersionDescription="first")
    again = new_version(c, inst, view["Id"], VersionDescription="second", ViewContentSha256=sha(TEMPLATE_A))
    assert again["Version"] == 1
    assert again["VersionDescription"] == "first"
    assert again["ViewContentSha256"] == v1["ViewContentSha256"]
    # Republishing the same content does not make it new either.
    publish(c, inst, view["Id"], TEMPLATE_A)
    assert new_version(c, inst, view["Id"])["Version"] == 1
    assert version_numbers(c, inst, view["Id"]) == [1]
    assert describe(c, inst, f"{view['Id']}:1")["VersionDescription"] == "first"


def test_create_view_version_compares_only_with_the_highest_live_version(connect_client):
    """The unchanged rule looks at the highest live version only: `$LATEST` equal to an
    older version makes a new one; after deleting the highest version, `$LATEST` equal
    to it is new again against the one below."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    new_version(c, inst, view["Id"])  # 1 = A
    publish(c, inst, view["Id"], TEMPLATE_B)
    new_version(c, inst, view["Id"])  # 2 = B
    publish(c, inst, view["Id"], TEMPLATE_A)
    v3 = new_version(c, inst, view["Id"])  # A again, but 2 (B) is the highest
    assert (v3["Version"], v3["Content"]["Template"]) == (3, TEMPLATE_A)
    ok(c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=3), 200)
    v4 = new_version(c, inst, view["Id"])  # highest live is 2 (B), $LATEST is A
    assert (v4["Version"], v4["Content"]["Template"]) == (4, TEMPLATE_A)
    assert version_numbers(c, inst, view["Id"]) == [4, 2, 1]


def test_version_numbers_of_deleted_versions_are_never_reused(connect_client):
    """Versions are numbered highest ever assigned + 1: deleting the highest (or every)
    version does not hand its number out again."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    new_version(c, inst, view["Id"])
    publish(c, inst, view["Id"], TEMPLATE_B)
    new_version(c, inst, view["Id"])
    for n in (2, 1):
        ok(c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=n), 200)
    assert version_numbers(c, inst, view["Id"]) == []
    # $LATEST is B, the content of deleted version 2: no live version, so a new one.
    v3 = new_version(c, inst, view["Id"])
    assert (v3["Version"], v3["Content"]["Template"]) == (3, TEMPLATE_B)
    publish(c, inst, view["Id"], TEMPLATE_C)
    assert new_version(c, inst, view["Id"])["Version"] == 4
    assert version_numbers(c, inst, view["Id"]) == [4, 3]


def test_create_view_version_without_latest_is_not_found(connect_client):
    """A view only ever SAVED has no `$LATEST`: CreateViewVersion is
    ResourceNotFoundException (404), nothing appended."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "draft", status="SAVED")
    with not_found(c):
        c.create_view_version(InstanceId=inst, ViewId=view["Id"])
    assert version_numbers(c, inst, view["Id"]) == []


def test_create_view_version_freezes_and_guards_latest_not_saved(connect_client):
    """A SAVED write after a publish changes `$SAVED` only: the hash of that draft is
    ResourceInUseException (409), and the version freezes the published content."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    publish(c, inst, view["Id"], TEMPLATE_B, status="SAVED")
    with in_use(c):
        c.create_view_version(InstanceId=inst, ViewId=view["Id"], ViewContentSha256=sha(TEMPLATE_B))
    assert version_numbers(c, inst, view["Id"]) == []
    v1 = new_version(c, inst, view["Id"])
    assert v1["Content"]["Template"] == TEMPLATE_A


def test_create_view_version_with_a_stale_sha256_is_resource_in_use_409(connect_client):
    """A ViewContentSha256 other than `$LATEST`'s hash is ResourceInUseException (409)
    and appends nothing; the current hash then succeeds."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    new_version(c, inst, view["Id"], ViewContentSha256=sha(TEMPLATE_A))
    publish(c, inst, view["Id"], TEMPLATE_B)
    for stale in (sha(TEMPLATE_A), "0" * 64):
        with in_use(c):
            c.create_view_version(InstanceId=inst, ViewId=view["Id"], ViewContentSha256=stale)
    assert version_numbers(c, inst, view["Id"]) == [1]
    assert new_version(c, inst, view["Id"], ViewContentSha256=sha(TEMPLATE_B))["Version"] == 2


def test_create_view_version_accepts_the_sha256_in_uppercase(connect_client):
    """The hash is compared as 64 hex digits of either case."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    v1 = new_version(c, inst, view["Id"], ViewContentSha256=sha(TEMPLATE_A).upper())
    assert v1["Version"] == 1
    assert v1["ViewContentSha256"] == sha(TEMPLATE_A)


def test_create_view_version_with_a_sha256_that_is_not_64_hex_digits_is_invalid_parameter(
    connect_client, loose_connect_client
):
    """A ViewContentSha256 that is not 64 hex digits is InvalidParameterException, not a
    mismatch (the model's one-character pattern is not enforced)."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    good = sha(TEMPLATE_A)
    for bad in ("a", good[:63], good + "0", "g" * 64, good[:32] + " " + good[33:]):
        with invalid_parameter(c):
            c.create_view_version(InstanceId=inst, ViewId=view["Id"], ViewContentSha256=bad)
    with invalid_parameter(loose_connect_client):
        loose_connect_client.create_view_version(InstanceId=inst, ViewId=view["Id"], ViewContentSha256="")
    assert version_numbers(c, inst, view["Id"]) == []


# -- ListViews -------------------------------------------------------------------------


def test_list_views_is_sorted_by_name_with_summaries(connect_client):
    """ListViews is 200 with ViewsSummaryList sorted by name; a summary has Id, Arn, Name,
    Type, Status (the last content write's) and Description; no NextToken on one page."""
    c = connect_client
    inst = instance()
    made = {}
    for name in ("delta", "alpha", "charlie", "bravo"):
        made[name] = new_view(c, inst, name, Description=f"about {name}")
    publish(c, inst, made["charlie"]["Id"], TEMPLATE_B, status="SAVED")
    resp = ok(c.list_views(InstanceId=inst), 200)
    assert "NextToken" not in resp
    summaries = resp["ViewsSummaryList"]
    assert [s["Name"] for s in summaries] == ["alpha", "bravo", "charlie", "delta"]
    for s in summaries:
        view = made[s["Name"]]
        assert s == {
            "Id": view["Id"],
            "Arn": view_arn(inst, view["Id"]),
            "Name": s["Name"],
            "Type": "CUSTOMER_MANAGED",
            "Status": "SAVED" if s["Name"] == "charlie" else "PUBLISHED",
            "Description": f"about {s['Name']}",
        }


def test_list_views_of_an_unused_instance_is_empty(connect_client):
    """An instance nobody wrote to lists no views (it is only a namespace)."""
    resp = ok(connect_client.list_views(InstanceId=instance()), 200)
    assert resp["ViewsSummaryList"] == []
    assert "NextToken" not in resp


def test_list_views_paginator_sees_every_view_once(connect_client):
    """The `list_views` paginator with page size 2 sees each view once, in name order,
    in full pages with a NextToken on every page but the last."""
    c = connect_client
    inst = instance()
    names = [f"v{i:02d}" for i in range(7)]
    for name in reversed(names):
        new_view(c, inst, name)
    pages = list(c.get_paginator("list_views").paginate(InstanceId=inst, PaginationConfig={"PageSize": 2}))
    assert [len(p["ViewsSummaryList"]) for p in pages] == [2, 2, 2, 1]
    for page in pages:
        ok(page, 200)
    for page in pages[:-1]:
        assert page.get("NextToken")
    assert "NextToken" not in pages[-1]
    assert [s["Name"] for p in pages for s in p["ViewsSummaryList"]] == names


def test_list_views_by_hand_with_max_results_and_next_token(connect_client):
    """MaxResults and NextToken by hand: pages of 3, each token leading on, the last
    page without a token."""
    c = connect_client
    inst = instance()
    names = [f"n{i}" for i in range(7)]
    for name in names:
        new_view(c, inst, name)
    seen, token, pages = [], None, 0
    while True:
        kw = {"NextToken": token} if token else {}
        resp = ok(c.list_views(InstanceId=inst, MaxResults=3, **kw), 200)
        pages += 1
        seen += [s["Name"] for s in resp["ViewsSummaryList"]]
        token = resp.get("NextToken")
        if not token:
            break
        assert len(resp["ViewsSummaryList"]) == 3
        assert re.fullmatch(r"[a-zA-Z0-9=/+_.-]{1,4096}", token)
    assert seen == names
    assert pages == 3


def test_list_views_default_page_is_100(connect_client):
    """Without MaxResults a page holds 100 views; the 101st is on the next page."""
    c = connect_client
    inst = instance()
    for i in range(101):
        c.create_view(InstanceId=inst, Name=f"v{i:03d}", Status="SAVED", Content={"Template": "t"})
    first = ok(c.list_views(InstanceId=inst), 200)
    assert len(first["ViewsSummaryList"]) == 100
    assert first["NextToken"]
    second = ok(c.list_views(InstanceId=inst, NextToken=first["NextToken"]), 200)
    assert [s["Name"] for s in second["ViewsSummaryList"]] == ["v100"]
    assert "NextToken" not in second
    assert len(ok(c.list_views(InstanceId=inst, MaxResults=100), 200)["ViewsSummaryList"]) == 100


def test_list_views_of_type_aws_managed_is_empty(connect_client):
    """Every view is CUSTOMER_MANAGED: `type=AWS_MANAGED` lists nothing,
    `type=CUSTOMER_MANAGED` lists them all; another `type` (botocore does not check
    enums) is InvalidParameterException."""
    c = connect_client
    inst = instance()
    new_view(c, inst, "a")
    new_view(c, inst, "b", status="SAVED")
    assert ok(c.list_views(InstanceId=inst, Type="AWS_MANAGED"), 200)["ViewsSummaryList"] == []
    assert view_names(c, inst, Type="CUSTOMER_MANAGED") == ["a", "b"]
    with invalid_parameter(c):
        c.list_views(InstanceId=inst, Type="SOMETIMES_MANAGED")


def test_list_views_max_results_outside_1_to_100_is_invalid_parameter(connect_client, loose_connect_client):
    """MaxResults is 1..100: 0 (botocore checks the minimum, so the loose client) and 101
    are InvalidParameterException; 1 and 100 are accepted."""
    inst = instance()
    new_view(connect_client, inst, "a")
    new_view(connect_client, inst, "b")
    for n in (0, 101, -1):
        with invalid_parameter(loose_connect_client):
            loose_connect_client.list_views(InstanceId=inst, MaxResults=n)
    one = ok(connect_client.list_views(InstanceId=inst, MaxResults=1), 200)
    assert len(one["ViewsSummaryList"]) == 1 and one["NextToken"]
    assert len(ok(connect_client.list_views(InstanceId=inst, MaxResults=100), 200)["ViewsSummaryList"]) == 2


def test_list_views_with_a_bad_next_token_is_invalid_parameter(connect_client):
    """A NextToken the server did not hand out (not its cursor, or outside the token
    pattern) is InvalidParameterException."""
    c = connect_client
    inst = instance()
    new_view(c, inst, "a")
    for token in ("zzzz", "not a token!", "x" * 4097):
        with invalid_parameter(c):
            c.list_views(InstanceId=inst, NextToken=token)


# -- ListViewVersions ------------------------------------------------------------------


def publish_versions(client, inst: str, view_id: str, count: int) -> None:
    """Versions 1..count, version n holding `{"n": n}`."""
    for n in range(1, count + 1):
        publish(client, inst, view_id, json.dumps({"n": n}))
        assert new_version(client, inst, view_id, VersionDescription=f"number {n}")["Version"] == n


def test_list_view_versions_is_highest_first_with_summaries(connect_client):
    """ListViewVersions is 200 with ViewVersionSummaryList highest version first; a
    summary has Id, Arn, Description, Name, Type, Version and VersionDescription."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "versioned", Description="has versions")
    publish_versions(c, inst, view["Id"], 3)
    resp = ok(c.list_view_versions(InstanceId=inst, ViewId=view["Id"]), 200)
    assert "NextToken" not in resp
    summaries = resp["ViewVersionSummaryList"]
    assert [s["Version"] for s in summaries] == [3, 2, 1]
    for s in summaries:
        assert set(s) <= {"Id", "Arn", "Description", "Name", "Type", "Version", "VersionDescription"}
        assert s["Id"].startswith(view["Id"])
        assert s["Arn"].startswith(view["Arn"])
        assert s["Name"] == "versioned"
        assert s["Description"] == "has versions"
        assert s["Type"] == "CUSTOMER_MANAGED"
        assert s["VersionDescription"] == f"number {s['Version']}"


def test_list_view_versions_pages_by_paginator_and_by_hand(connect_client):
    """The `list_view_versions` paginator with page size 2 and MaxResults/NextToken by
    hand see each version once, highest first, the last page without a token."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    publish_versions(c, inst, view["Id"], 5)
    pages = list(
        c.get_paginator("list_view_versions").paginate(
            InstanceId=inst, ViewId=view["Id"], PaginationConfig={"PageSize": 2}
        )
    )
    assert [[s["Version"] for s in p["ViewVersionSummaryList"]] for p in pages] == [[5, 4], [3, 2], [1]]
    assert all(p.get("NextToken") for p in pages[:-1])
    assert "NextToken" not in pages[-1]

    seen, token = [], None
    while True:
        kw = {"NextToken": token} if token else {}
        resp = ok(c.list_view_versions(InstanceId=inst, ViewId=view["Id"], MaxResults=3, **kw), 200)
        seen += [s["Version"] for s in resp["ViewVersionSummaryList"]]
        token = resp.get("NextToken")
        if not token:
            break
    assert seen == [5, 4, 3, 2, 1]


def test_list_view_versions_bounds_and_bad_tokens_are_invalid_parameter(connect_client, loose_connect_client):
    """MaxResults outside 1..100 and a NextToken not handed out are
    InvalidParameterException."""
    inst = instance()
    view = new_view(connect_client, inst, "v")
    new_version(connect_client, inst, view["Id"])
    for n in (0, 101):
        with invalid_parameter(loose_connect_client):
            loose_connect_client.list_view_versions(InstanceId=inst, ViewId=view["Id"], MaxResults=n)
    for token in ("zzzz", "not a token!"):
        with invalid_parameter(connect_client):
            connect_client.list_view_versions(InstanceId=inst, ViewId=view["Id"], NextToken=token)
    resp = ok(connect_client.list_view_versions(InstanceId=inst, ViewId=view["Id"], MaxResults=100), 200)
    assert [s["Version"] for s in resp["ViewVersionSummaryList"]] == [1]


# -- UpdateViewContent -----------------------------------------------------------------


def test_update_view_content_saved_moves_only_saved(connect_client):
    """UpdateViewContent SAVED is 200 with the View as written (the new content, Status
    SAVED, no Version); `$SAVED` moves, `$LATEST` keeps the published content; the
    creation time stays."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", Description="d", template=TEMPLATE_A)
    written = publish(c, inst, view["Id"], TEMPLATE_B, actions=["Next"], status="SAVED")
    assert set(written) <= VIEW_MEMBERS
    assert written["Id"] == view["Id"]
    assert written["Arn"] == view["Arn"]
    assert written["Name"] == "v"
    assert written["Status"] == "SAVED"
    assert written["Type"] == "CUSTOMER_MANAGED"
    assert "Version" not in written
    assert_content(written, TEMPLATE_B, ["Next"])
    assert written["CreatedTime"] == view["CreatedTime"]
    assert written["LastModifiedTime"] >= view["LastModifiedTime"]
    assert_recent(written["LastModifiedTime"])
    assert describe(c, inst, f"{view['Id']}:$SAVED")["Content"]["Template"] == TEMPLATE_B
    assert describe(c, inst, view["Id"])["Content"]["Template"] == TEMPLATE_A


def test_update_view_content_published_moves_saved_and_latest(connect_client):
    """UpdateViewContent PUBLISHED moves both aliases, also of a view that was only
    SAVED so far (its first publish)."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", status="SAVED", template="draft, not json")
    written = publish(c, inst, view["Id"], TEMPLATE_B)
    assert written["Status"] == "PUBLISHED"
    assert_content(written, TEMPLATE_B)
    for qualified in (view["Id"], f"{view['Id']}:$LATEST", f"{view['Id']}:$SAVED"):
        got = describe(c, inst, qualified)
        assert (got["Status"], got["Content"]["Template"]) == ("PUBLISHED", TEMPLATE_B)
    assert ok(c.list_views(InstanceId=inst), 200)["ViewsSummaryList"][0]["Status"] == "PUBLISHED"


def test_update_view_content_published_with_a_non_object_template_changes_nothing(connect_client):
    """A PUBLISHED update whose Template is not a JSON object is
    InvalidParameterException; both aliases keep their content."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    for template in ("not json", "[]"):
        with invalid_parameter(c):
            publish(c, inst, view["Id"], template)
    with invalid_parameter(c):
        c.update_view_content(InstanceId=inst, ViewId=view["Id"], Status="PUBLISHED", Content={})
    assert describe(c, inst, view["Id"])["Content"]["Template"] == TEMPLATE_A
    assert describe(c, inst, f"{view['Id']}:$SAVED")["Content"]["Template"] == TEMPLATE_A


# -- UpdateViewMetadata ----------------------------------------------------------------


def test_update_view_metadata_answers_200_empty_and_describe_shows_it(connect_client):
    """UpdateViewMetadata is 200 with no members; Name and Description change
    independently, and DescribeView and ListViews show the new metadata."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "old", Description="first")
    resp = ok(c.update_view_metadata(InstanceId=inst, ViewId=view["Id"], Name="new"), 200)
    assert body(resp) == {}
    got = describe(c, inst, view["Id"])
    assert (got["Name"], got["Description"]) == ("new", "first")
    ok(c.update_view_metadata(InstanceId=inst, ViewId=view["Id"], Description="second"), 200)
    got = describe(c, inst, view["Id"])
    assert (got["Name"], got["Description"]) == ("new", "second")
    ok(c.update_view_metadata(InstanceId=inst, ViewId=view["Arn"], Name="newer", Description="third"), 200)
    got = describe(c, inst, f"{view['Id']}:$SAVED")
    assert (got["Name"], got["Description"]) == ("newer", "third")
    assert got["Content"]["Template"] == TEMPLATE_A
    summary = ok(c.list_views(InstanceId=inst), 200)["ViewsSummaryList"]
    assert [(s["Name"], s["Description"]) for s in summary] == [("newer", "third")]


def test_update_view_metadata_without_name_or_description_is_invalid_parameter(connect_client):
    """Neither Name nor Description (botocore sends `{}`) is InvalidParameterException."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "kept")
    with invalid_parameter(c):
        c.update_view_metadata(InstanceId=inst, ViewId=view["Id"])
    assert describe(c, inst, view["Id"])["Name"] == "kept"


def test_update_view_metadata_to_a_taken_name_is_duplicate_resource_409(connect_client):
    """Renaming to another live view's name is DuplicateResourceException (409) and
    changes nothing; renaming a view to its own name is fine; the old name of a renamed
    view is free again."""
    c = connect_client
    inst = instance()
    a = new_view(c, inst, "a")
    new_view(c, inst, "b")
    with duplicate(c):
        c.update_view_metadata(InstanceId=inst, ViewId=a["Id"], Name="b", Description="never")
    got = describe(c, inst, a["Id"])
    assert got["Name"] == "a" and "Description" not in got
    ok(c.update_view_metadata(InstanceId=inst, ViewId=a["Id"], Name="a", Description="same name"), 200)
    assert describe(c, inst, a["Id"])["Description"] == "same name"
    ok(c.update_view_metadata(InstanceId=inst, ViewId=a["Id"], Name="c"), 200)
    new_view(c, inst, "a")
    assert view_names(c, inst) == ["a", "b", "c"]


def test_update_view_metadata_with_a_bad_name_or_description_is_invalid_parameter(connect_client):
    """UpdateViewMetadata checks Name and Description as CreateView does."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "kept")
    for kw in ({"Name": "n" * 256}, {"Name": " lead"}, {"Description": "hash#tag"}, {"Description": "d" * 4097}):
        with invalid_parameter(c):
            c.update_view_metadata(InstanceId=inst, ViewId=view["Id"], **kw)
    got = describe(c, inst, view["Id"])
    assert got["Name"] == "kept" and "Description" not in got


# -- ClientToken -------------------------------------------------------------------------


def test_create_view_with_the_same_client_token_and_request_returns_the_same_view(connect_client):
    """Same ClientToken and same request: the same view (same Id) is returned and
    nothing new is created."""
    c = connect_client
    inst = instance()
    kw = dict(Description="d", Tags={"k": "v"}, ClientToken="token-1")
    first = new_view(c, inst, "idem", **kw)
    again = new_view(c, inst, "idem", **kw)
    assert again["Id"] == first["Id"]
    assert again["Arn"] == first["Arn"]
    assert again["ViewContentSha256"] == first["ViewContentSha256"]
    assert view_names(c, inst) == ["idem"]


def test_the_same_client_token_with_another_request_is_invalid_request(connect_client):
    """Same ClientToken with another request (other Description, Name, Status, content
    or Tags) is InvalidRequestException (400), nothing created."""
    c = connect_client
    inst = instance()
    new_view(c, inst, "idem", Description="d", ClientToken="token-2")
    for changed in (
        dict(Name="idem", Description="other"),
        dict(Name="other", Description="d"),
        dict(Name="idem", Description="d", Status="SAVED"),
        dict(Name="idem", Description="d", Content=content(TEMPLATE_B)),
        dict(Name="idem", Description="d", Tags={"k": "v"}),
    ):
        args = dict(InstanceId=inst, Status="PUBLISHED", Content=content(TEMPLATE_A), ClientToken="token-2")
        args.update(changed)
        with invalid_request(c):
            c.create_view(**args)
    assert view_names(c, inst) == ["idem"]


def test_a_client_token_is_kept_across_a_restart(server, connect_client):
    """After `server.restart()`, the same call with the same ClientToken returns the
    same Id, and a changed call is still InvalidRequestException."""
    inst = instance()
    first = new_view(connect_client, inst, "durable", Description="d", ClientToken="restart-token")
    server.restart()
    c = server.connect_client()
    again = new_view(c, inst, "durable", Description="d", ClientToken="restart-token")
    assert again["Id"] == first["Id"]
    with invalid_request(c):
        new_view(c, inst, "durable", Description="changed", ClientToken="restart-token")
    assert view_names(c, inst) == ["durable"]


# -- DeleteView and DeleteViewVersion --------------------------------------------------


def test_delete_view_answers_200_empty_and_removes_the_view_with_its_versions(connect_client):
    """DeleteView is 200 with no members; afterwards every read and write of the view
    (any qualifier, its versions) is ResourceNotFoundException (404) and it is not
    listed."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "doomed")
    new_version(c, inst, view["Id"])
    keep = new_view(c, inst, "kept")
    resp = ok(c.delete_view(InstanceId=inst, ViewId=view["Id"]), 200)
    assert body(resp) == {}
    for qualified in (view["Id"], f"{view['Id']}:$SAVED", f"{view['Id']}:$LATEST", f"{view['Id']}:1", view["Arn"]):
        with not_found(c):
            c.describe_view(InstanceId=inst, ViewId=qualified)
    for call in (
        lambda: c.list_view_versions(InstanceId=inst, ViewId=view["Id"]),
        lambda: c.create_view_version(InstanceId=inst, ViewId=view["Id"]),
        lambda: publish(c, inst, view["Id"], TEMPLATE_B),
        lambda: c.update_view_metadata(InstanceId=inst, ViewId=view["Id"], Name="x"),
        lambda: c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=1),
    ):
        with not_found(c):
            call()
    assert [s["Id"] for s in c.list_views(InstanceId=inst)["ViewsSummaryList"]] == [keep["Id"]]


def test_delete_view_twice_or_of_an_unknown_view_is_not_found(connect_client):
    """Connect documents no idempotent delete: deleting a deleted view, or an id no view
    has, is ResourceNotFoundException (404)."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    ok(c.delete_view(InstanceId=inst, ViewId=view["Id"]), 200)
    for view_id in (view["Id"], str(uuid.uuid4())):
        with not_found(c):
            c.delete_view(InstanceId=inst, ViewId=view_id)


def test_delete_view_version_answers_200_empty_and_the_version_is_gone(connect_client):
    """DeleteViewVersion is 200 with no members; the version is no longer listed and `:N`
    is ResourceNotFoundException (404); other versions and both aliases stay."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    publish_versions(c, inst, view["Id"], 3)
    resp = ok(c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=2), 200)
    assert body(resp) == {}
    assert version_numbers(c, inst, view["Id"]) == [3, 1]
    with not_found(c):
        c.describe_view(InstanceId=inst, ViewId=f"{view['Id']}:2")
    assert describe(c, inst, f"{view['Id']}:1")["Content"]["Template"] == '{"n": 1}'
    assert describe(c, inst, view["Id"])["Content"]["Template"] == '{"n": 3}'
    assert describe(c, inst, f"{view['Id']}:$SAVED")["Content"]["Template"] == '{"n": 3}'


def test_delete_view_version_of_a_missing_or_deleted_version_is_not_found(connect_client):
    """A version never made, or already deleted, is ResourceNotFoundException (404), as
    is a version of an unknown view."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v")
    new_version(c, inst, view["Id"])
    ok(c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=1), 200)
    for n in (1, 2, 99):
        with not_found(c):
            c.delete_view_version(InstanceId=inst, ViewId=view["Id"], ViewVersion=n)
    with not_found(c):
        c.delete_view_version(InstanceId=inst, ViewId=str(uuid.uuid4()), ViewVersion=1)


# -- any operation ---------------------------------------------------------------------


def test_every_operation_on_a_view_takes_its_arn(connect_client):
    """Every operation with a `{ViewId}` takes the view ARN as well as the id."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", template=TEMPLATE_A)
    vid = view["Arn"]
    assert publish(c, inst, vid, TEMPLATE_B)["Id"] == view["Id"]
    assert new_version(c, inst, vid)["Content"]["Template"] == TEMPLATE_B
    listed = ok(c.list_view_versions(InstanceId=inst, ViewId=vid), 200)["ViewVersionSummaryList"]
    assert [s["Version"] for s in listed] == [1]
    ok(c.update_view_metadata(InstanceId=inst, ViewId=vid, Name="renamed"), 200)
    assert describe(c, inst, vid)["Name"] == "renamed"
    assert body(ok(c.delete_view_version(InstanceId=inst, ViewId=vid, ViewVersion=1), 200)) == {}
    assert body(ok(c.delete_view(InstanceId=inst, ViewId=vid), 200)) == {}
    assert view_names(c, inst) == []


def test_every_operation_on_an_unknown_view_is_not_found(connect_client):
    """Every operation with a `{ViewId}` no view of the instance has is
    ResourceNotFoundException (404)."""
    c = connect_client
    inst = instance()
    for view_id in (str(uuid.uuid4()), view_arn(inst, str(uuid.uuid4()))):
        for call in (
            lambda: c.describe_view(InstanceId=inst, ViewId=view_id),
            lambda: c.create_view_version(InstanceId=inst, ViewId=view_id),
            lambda: c.list_view_versions(InstanceId=inst, ViewId=view_id),
            lambda: publish(c, inst, view_id, TEMPLATE_A),
            lambda: c.update_view_metadata(InstanceId=inst, ViewId=view_id, Name="x"),
            lambda: c.delete_view_version(InstanceId=inst, ViewId=view_id, ViewVersion=1),
            lambda: c.delete_view(InstanceId=inst, ViewId=view_id),
        ):
            with not_found(c):
                call()


# -- wire ------------------------------------------------------------------------------


def test_errors_are_rest_json_with_the_exception_name_and_a_message(server, connect_client):
    """Errors carry `X-Amzn-ErrorType` with the shape name, a request id and a JSON
    body with `Message`: boto3 raises the modelled exception class."""
    inst = instance()
    missing = str(uuid.uuid4())
    assert_raw_error(raw(server.endpoint, "GET", f"/views/{inst}/{missing}"), "ResourceNotFoundException", 404)
    with not_found(connect_client) as info:
        connect_client.describe_view(InstanceId=inst, ViewId=missing)
    assert isinstance(info.value, connect_client.exceptions.ResourceNotFoundException)
    assert info.value.response["Error"]["Message"]


def test_a_malformed_json_body_is_invalid_request(server, connect_client):
    """A body that is not JSON, or not a JSON object, is InvalidRequestException (400)
    (docs/design/connect-proton.md, Wire), and creates nothing."""
    inst = instance()
    headers = {"Content-Type": "application/json"}
    for data in (b"{not json", b"[1, 2]"):
        resp = raw(server.endpoint, "PUT", f"/views/{inst}", data=data, headers=headers)
        assert_raw_error(resp, "InvalidRequestException", 400)
    assert view_names(connect_client, inst) == []


def test_the_qualifier_arrives_percent_encoded_and_is_decoded(server, connect_client):
    """A raw `GET /views/{i}/{id}%3A%24SAVED` is the `$SAVED` alias, as boto3 sends it;
    an ARN arrives with `%2F` and `%3A` and is one label."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "v", status="SAVED")
    resp = raw(server.endpoint, "GET", f"/views/{inst}/{view['Id']}%3A%24SAVED")
    assert resp.status == 200, resp.data
    doc = resp.json()["View"]
    assert doc["Status"] == "SAVED"
    assert isinstance(doc["CreatedTime"], (int, float)), doc["CreatedTime"]
    arn = view["Arn"].replace(":", "%3A").replace("/", "%2F")
    resp = raw(server.endpoint, "GET", f"/views/{inst}/{arn}%3A%24SAVED")
    assert resp.status == 200, resp.data
    assert resp.json()["View"]["Id"].startswith(view["Id"])


def test_search_views_and_other_connect_operations_are_unknown_operations(server, connect_client):
    """SearchViews and every other Connect operation answer UnknownOperationException
    (404), like any route Verso does not serve; so does a views route with a method it
    does not have."""
    for call in (
        lambda: connect_client.search_views(InstanceId="instance-1"),
        lambda: connect_client.list_instances(),
        lambda: connect_client.describe_instance(InstanceId="instance-1"),
    ):
        with pytest.raises(ClientError) as info:
            call()
        resp = info.value.response
        assert resp["Error"]["Code"] == "UnknownOperationException", resp
        assert resp["ResponseMetadata"]["HTTPStatusCode"] == 404
        assert resp["ResponseMetadata"]["RequestId"]
    for method, path in (("PATCH", "/views/instance-1"), ("POST", "/views/instance-1"), ("GET", "/views")):
        assert_raw_error(raw(server.endpoint, method, path), "UnknownOperationException", 404)


def test_connect_tag_operations_reach_appconfigs_tag_routes_and_are_refused(connect_client):
    """Connect's TagResource, UntagResource and ListTagsForResource have AppConfig's
    routes (`/tags/{arn}`), so they are not unknown operations: AppConfig's handlers
    refuse a view ARN (400 or 404) and the view's tags stay as created."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "tagged", Tags={"team": "care"})
    for call in (
        lambda: c.list_tags_for_resource(resourceArn=view["Arn"]),
        lambda: c.tag_resource(resourceArn=view["Arn"], tags={"more": "x"}),
        lambda: c.untag_resource(resourceArn=view["Arn"], tagKeys=["team"]),
    ):
        with pytest.raises(ClientError) as info:
            call()
        assert info.value.response["ResponseMetadata"]["HTTPStatusCode"] in (400, 404), info.value.response
    assert describe(c, inst, view["Id"])["Tags"] == {"team": "care"}


# -- durability ------------------------------------------------------------------------


def snapshot(client, instances) -> dict:
    """Every view, alias and version of `instances` a client can read, as plain data."""
    out = {}
    for inst in instances:
        views = {}
        for page in client.get_paginator("list_views").paginate(InstanceId=inst):
            for summary in page["ViewsSummaryList"]:
                view_id = summary["Id"]
                entry = {"summary": summary, "saved": describe(client, inst, f"{view_id}:$SAVED")}
                try:
                    entry["latest"] = describe(client, inst, view_id)
                except ClientError as e:
                    entry["latest"] = e.response["Error"]["Code"]
                entry["versions"] = {
                    n: describe(client, inst, f"{view_id}:{n}") for n in version_numbers(client, inst, view_id)
                }
                entry["version_list"] = [
                    s for p in client.get_paginator("list_view_versions").paginate(InstanceId=inst, ViewId=view_id)
                    for s in p["ViewVersionSummaryList"]
                ]
                views[view_id] = entry
        out[inst] = views
    return out


def test_views_versions_and_aliases_survive_a_restart(server, connect_client):
    """A SIGTERM and a new server on the same data directory: every view, alias, status,
    version, tag, timestamp and name is back unchanged; numbering continues after the
    highest number ever assigned, and names stay taken."""
    c = connect_client
    one, two = instance(), instance()
    a = new_view(c, one, "alpha", Description="first", Tags={"team": "care"}, actions=["Go"])
    new_version(c, one, a["Id"], VersionDescription="v one")
    publish(c, one, a["Id"], TEMPLATE_B)
    new_version(c, one, a["Id"])
    publish(c, one, a["Id"], TEMPLATE_C)
    new_version(c, one, a["Id"])
    ok(c.delete_view_version(InstanceId=one, ViewId=a["Id"], ViewVersion=3), 200)
    publish(c, one, a["Id"], "draft only", status="SAVED")
    b = new_view(c, one, "bravo", status="SAVED", template="never published")
    ok(c.update_view_metadata(InstanceId=one, ViewId=b["Id"], Name="bravo renamed"), 200)
    gone = new_view(c, two, "deleted")
    ok(c.delete_view(InstanceId=two, ViewId=gone["Id"]), 200)
    new_view(c, two, "alpha", template=TEMPLATE_B)

    before = snapshot(c, [one, two])
    assert before[one][a["Id"]]["version_list"][0]["Version"] == 2
    assert before[one][b["Id"]]["latest"] == "ResourceNotFoundException"

    server.restart()
    c2 = server.connect_client()
    assert snapshot(c2, [one, two]) == before

    assert new_version(c2, one, a["Id"])["Version"] == 4  # $LATEST is C, 3 was deleted
    with duplicate(c2):
        new_view(c2, one, "bravo renamed")
    new_view(c2, one, "bravo")
    with not_found(c2):
        c2.describe_view(InstanceId=two, ViewId=gone["Id"])


# -- concurrency -------------------------------------------------------------------------


def test_8_clients_publishing_to_one_view_get_their_own_content_or_a_409_and_dense_versions(
    server, connect_client
):
    """8 clients × 5 rounds on ONE view: each publishes its own content, then creates a
    version guarded by that content's hash. Each call either freezes the caller's own
    content or is ResourceInUseException (409); the versions listed at the end are
    exactly 1..N, one per success, and each differs from the version before it."""
    c = connect_client
    inst = instance()
    view = new_view(c, inst, "contended", template='{"start":true}')
    view_id = view["Id"]
    clients = [server.connect_client() for _ in range(THREADS)]

    def publish_rounds(index, client):
        outcomes = []
        for r in range(ROUNDS):
            template = json.dumps({"thread": index, "round": r, "field": f"$.T{index}"})
            client.update_view_content(
                InstanceId=inst, ViewId=view_id, Status="PUBLISHED", Content={"Template": template}
            )
            try:
                resp = client.create_view_version(InstanceId=inst, ViewId=view_id, ViewContentSha256=sha(template))
            except ClientError as e:
                code = e.response["Error"]["Code"]
                status = e.response["ResponseMetadata"]["HTTPStatusCode"]
                assert (code, status) == ("ResourceInUseException", 409), e.response
                outcomes.append(("409", None, template))
                continue
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
            got = resp["View"]
            assert got["Content"]["Template"] == template, (got, template)
            assert got["ViewContentSha256"] == sha(template)
            outcomes.append(("ok", got["Version"], template))
        return outcomes

    outcomes = [o for per in run_together(clients, publish_rounds) for o in per]
    assert len(outcomes) == THREADS * ROUNDS
    wins = {version: template for kind, version, template in outcomes if kind == "ok"}
    won = [version for kind, version, _ in outcomes if kind == "ok"]
    assert won, "no publish won a version"
    assert len(won) == len(wins), f"a version was handed to two callers: {sorted(won)}"
    n = len(won)
    assert version_numbers(c, inst, view_id) == list(range(n, 0, -1))
    previous = None
    for version in range(1, n + 1):
        got = describe(c, inst, f"{view_id}:{version}")
        assert got["Version"] == version
        assert got["Content"]["Template"] == wins[version]
        assert got["ViewContentSha256"] != previous
        previous = got["ViewContentSha256"]


def test_8_clients_creating_views_with_distinct_names_in_one_instance_all_succeed(server, connect_client):
    """8 clients creating 5 views each, all names distinct, in one instance at once: every
    create succeeds with its own id, and ListViews shows all 40."""
    inst = instance()
    clients = [server.connect_client() for _ in range(THREADS)]

    def create_all(index, client):
        made = []
        for i in range(ROUNDS):
            resp = client.create_view(
                InstanceId=inst,
                Name=f"t{index}-v{i}",
                Status="PUBLISHED",
                Content={"Template": json.dumps({"by": index, "n": i})},
            )
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 200
            made.append((resp["View"]["Name"], resp["View"]["Id"]))
        return made

    made = [m for per in run_together(clients, create_all) for m in per]
    ids = [view_id for _, view_id in made]
    assert len(set(ids)) == THREADS * ROUNDS
    listed = {
        s["Name"]: s["Id"]
        for page in connect_client.get_paginator("list_views").paginate(InstanceId=inst)
        for s in page["ViewsSummaryList"]
    }
    assert listed == dict(made)
    assert view_names(connect_client, inst) == sorted(listed)


def test_8_clients_creating_the_same_name_leave_exactly_one_view(server, connect_client):
    """8 clients racing to create one name in one instance: exactly one succeeds, seven
    are DuplicateResourceException (409), one view is listed."""
    inst = instance()
    clients = [server.connect_client() for _ in range(THREADS)]

    def race(index, client):
        try:
            resp = client.create_view(
                InstanceId=inst, Name="contested", Status="SAVED", Content={"Template": f"by {index}"}
            )
            return ("won", resp["View"]["Id"])
        except ClientError as e:
            return (e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"])

    outcomes = run_together(clients, race)
    winners = [o for o in outcomes if o[0] == "won"]
    assert len(winners) == 1, outcomes
    assert sorted(o for o in outcomes if o[0] != "won") == [("DuplicateResourceException", 409)] * (THREADS - 1)
    listed = connect_client.list_views(InstanceId=inst)["ViewsSummaryList"]
    assert [s["Id"] for s in listed] == [winners[0][1]]
