"""Concurrent clients on one profile (architecture.md section 3: versions increase by
exactly one, never handed out twice; the lock lets exactly one racer win). Each thread
has its own boto3 client and its own connection."""

from botocore.exceptions import ClientError

from support import new_hosted, new_profile, new_version, ok, run_together, version_numbers

THREADS = 8
PER_THREAD = 10


def test_8_clients_creating_10_versions_each_on_one_profile_get_1_to_80_without_gaps_or_duplicates(
    client, make_client
):
    app_id, profile_id = new_hosted(client)
    clients = [make_client() for _ in range(THREADS)]

    def create_all(index, c):
        numbers = []
        for i in range(PER_THREAD):
            resp = c.create_hosted_configuration_version(
                ApplicationId=app_id,
                ConfigurationProfileId=profile_id,
                Content=f"thread {index} version {i}".encode(),
                ContentType="text/plain",
                VersionLabel=f"t{index}",
            )
            assert resp["ResponseMetadata"]["HTTPStatusCode"] == 201
            assert resp["Content"].read() == f"thread {index} version {i}".encode()
            numbers.append(resp["VersionNumber"])
        return numbers

    per_thread = run_together(clients, create_all)
    returned = [n for numbers in per_thread for n in numbers]
    total = THREADS * PER_THREAD
    assert len(set(returned)) == total, "a version number was handed out twice"
    assert sorted(returned) == list(range(1, total + 1))
    for numbers in per_thread:
        assert numbers == sorted(numbers), "one client's sequential creates went backwards"
    assert version_numbers(client, app_id, profile_id) == list(range(total, 0, -1))

    # Every number holds the content and label of the create that was told that number.
    for index, numbers in enumerate(per_thread):
        for i, n in enumerate(numbers):
            got = client.get_hosted_configuration_version(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=n
            )
            assert got["Content"].read() == f"thread {index} version {i}".encode()
            assert got["VersionLabel"] == f"t{index}"
    for index, numbers in enumerate(per_thread):
        assert version_numbers(client, app_id, profile_id, VersionLabel=f"t{index}") == numbers[::-1]

    # The next version continues after the last one handed out.
    assert new_version(client, app_id, profile_id)["VersionNumber"] == total + 1


def test_8_clients_racing_with_the_same_latest_version_number_leave_exactly_one_winner(
    client, make_client
):
    app_id, profile_id = new_hosted(client)
    new_version(client, app_id, profile_id)
    clients = [make_client() for _ in range(THREADS)]
    rounds = 5

    for r in range(rounds):
        latest = 1 + r

        def race(index, c):
            try:
                resp = c.create_hosted_configuration_version(
                    ApplicationId=app_id,
                    ConfigurationProfileId=profile_id,
                    Content=f"round {r} racer {index}".encode(),
                    ContentType="text/plain",
                    LatestVersionNumber=latest,
                )
                return ("won", resp["ResponseMetadata"]["HTTPStatusCode"], resp["VersionNumber"], index)
            except ClientError as e:
                meta = e.response["ResponseMetadata"]
                assert meta.get("RequestId")
                return (e.response["Error"]["Code"], meta["HTTPStatusCode"], None, index)

        outcomes = run_together(clients, race)
        winners = [o for o in outcomes if o[0] == "won"]
        losers = [o for o in outcomes if o[0] != "won"]
        assert len(winners) == 1, f"round {r}: {outcomes}"
        assert winners[0][1:3] == (201, latest + 1)
        assert len(losers) == THREADS - 1
        assert all(o[:2] == ("ConflictException", 409) for o in losers), outcomes
        got = ok(
            client.get_hosted_configuration_version(
                ApplicationId=app_id, ConfigurationProfileId=profile_id, VersionNumber=latest + 1
            ),
            200,
        )
        assert got["Content"].read() == f"round {r} racer {winners[0][3]}".encode()

    assert version_numbers(client, app_id, profile_id) == list(range(rounds + 1, 0, -1))


def test_concurrent_creates_on_different_profiles_number_each_profile_from_1(client, make_client):
    app_id, _ = new_hosted(client)
    profiles = [new_profile(client, app_id, f"p{i}") for i in range(THREADS)]
    clients = [make_client() for _ in range(THREADS)]

    def create_all(index, c):
        return [
            c.create_hosted_configuration_version(
                ApplicationId=app_id,
                ConfigurationProfileId=profiles[index],
                Content=b"x",
                ContentType="text/plain",
            )["VersionNumber"]
            for _ in range(5)
        ]

    assert run_together(clients, create_all) == [[1, 2, 3, 4, 5]] * THREADS


def test_8_clients_racing_for_the_last_application_slots_never_exceed_the_quota(client, make_client):
    for i in range(90):
        client.create_application(Name=f"before{i}")
    clients = [make_client() for _ in range(THREADS)]

    def create_some(index, c):
        outcomes = []
        for i in range(3):
            try:
                c.create_application(Name=f"t{index}-{i}")
                outcomes.append("created")
            except ClientError as e:
                outcomes.append((e.response["Error"]["Code"], e.response["ResponseMetadata"]["HTTPStatusCode"]))
        return outcomes

    outcomes = [o for per in run_together(clients, create_some) for o in per]
    assert outcomes.count("created") == 10, outcomes
    assert [o for o in outcomes if o != "created"] == [("ServiceQuotaExceededException", 402)] * 14
    pages = client.get_paginator("list_applications").paginate()
    assert len([item for page in pages for item in page["Items"]]) == 100
