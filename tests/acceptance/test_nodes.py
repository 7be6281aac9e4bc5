"""Two Asterisk nodes, a callrec beside each, one PostgreSQL, one object store, one staff
web app (issue 14 §3).

Node A is the session's sandbox; node B a second Asterisk on its own addresses and ports,
with ``systemname = pbx-b`` in asterisk.conf so that its uniqueids (``pbx-b-1796….12``) never
meet node A's in the shared table or the bucket, as the README asks of every node but one.
Each node's ``callrec run`` is a process of its own with its own journal, outbox and
``[service] node``; both write to one PostgreSQL database, seal with one master key and
upload to one bucket (SeaweedFS). Calls on both nodes are recorded and uploaded, each row
says which node recorded it, the staff app's search lists them together or by node, one web
app plays a recording of either node from the store, and erasing a number removes its calls'
objects whichever node recorded them.
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import select

from callrec_ari.__main__ import main
from callrec_ari.access import Actor, Role
from callrec_ari.calls.search import SearchFilters, search_calls
from callrec_ari.config import parse
from callrec_ari.db.models import Call
from callrec_ari.db.session import open_sessions
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import PROJECT_DIR, SandboxSession
from callrec_ari.sandbox.sipp import CallerScript, place_calls
from callrec_ari.storage.recordings import opened_offsite, recording_keys
from callrec_ari.web.app import build_web_app
from tests.acceptance.conftest import (
    CACHE,
    QUICK_DID,
    acceptance_config,
    add_supervisor,
    recordings_of,
    sandbox_settings,
    until,
)
from tests.support.passwords import CHEAP_TABLE
from tests.support.postgres import PostgresServer
from tests.support.seaweedfs import ACCESS_KEY, SECRET_KEY, TEST_BUCKET, SeaweedServer
from tests.web.conftest import Person, sign_in
from tests.web.test_calls import listen

pytestmark = [pytest.mark.asterisk, pytest.mark.postgres]

CALLS_PER_NODE = 2
SUPERVISOR = Actor.of("supervisor-nodes", Role.SUPERVISOR)


@dataclass
class Node:
    """One PBX node: its Asterisk, its callrec, and the name on its rows."""

    name: str
    asterisk: AsteriskSandbox
    service: ServiceProcess


@pytest.fixture
def second_node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SandboxSession]:
    """A second Asterisk (with its own staff phone) named pbx-b, on a slot of its own."""
    session = SandboxSession.claim(
        CACHE,
        command="pytest (two nodes)",
        workdir=tmp_path_factory.mktemp("node-b"),
        system_name="pbx-b",
    )
    session.start()
    try:
        yield session
    finally:
        session.stop()


@pytest.fixture
def shared_database(postgres_server: PostgresServer, migrated_postgres: str) -> Iterator[str]:
    """One PostgreSQL database both nodes write to."""
    name = f"nodes_{secrets.token_hex(6)}"
    yield postgres_server.create_database(name, template=migrated_postgres)
    postgres_server.drop_database(name)


def node_config(
    asterisk: AsteriskSandbox, tmp_path: Path, name: str, url: str, seaweed: SeaweedServer
) -> dict[str, Any]:
    """The acceptance config as node ``name`` runs it: the shared database, master key and
    bucket; its own journal and outbox."""
    config = copy.deepcopy(acceptance_config(asterisk, tmp_path / name))
    config["database"]["url"] = url
    config["database"]["journal_dir"] = str(tmp_path / name / "journal")
    config["service"]["node"] = name
    config["encryption"] = {"enabled": True, "key_file": str(tmp_path / "master.key")}
    config["storage"] = {
        "kind": "s3",
        "location": "PL",
        "bucket": TEST_BUCKET,
        "prefix": tmp_path.name[-40:],
        "endpoint_url": seaweed.endpoint_url,
        "access_key_id": ACCESS_KEY,
        "secret_access_key": SECRET_KEY,
        "outbox_dir": str(tmp_path / name / "outbox"),
        "retry_min_seconds": 0.2,
    }
    config["passwords"] = CHEAP_TABLE
    return config


@pytest.fixture
async def nodes(
    asterisk: AsteriskSandbox,
    second_node: SandboxSession,
    shared_database: str,
    seaweed: SeaweedServer,
    tmp_path: Path,
) -> AsyncIterator[list[Node]]:
    """Both nodes running, each with its callrec."""
    assert second_node.asterisk is not None
    pairs = (("pbx-a", asterisk), ("pbx-b", second_node.asterisk))
    running: list[Node] = []
    try:
        for name, pbx in pairs:
            (tmp_path / name).mkdir()
            config = node_config(pbx, tmp_path, name, shared_database, seaweed)
            service = ServiceProcess(config, tmp_path / name / "service")
            await asyncio.to_thread(service.migrate)
            await asyncio.to_thread(service.start)
            running.append(Node(name=name, asterisk=pbx, service=service))
        yield running
    finally:
        for node in running:
            node.service.stop()


async def test_two_nodes_record_into_one_database_and_one_bucket(
    nodes: list[Node], shared_database: str, tmp_path: Path
):
    """Each node records its own calls into the one database and bucket; the rows say which
    node, a search lists both nodes' calls or one node's, one web app plays either node's
    recording from the store, and erasing a number reaches its calls on both nodes."""
    runs = []
    for node in nodes:
        node_settings = sandbox_settings(node.asterisk, tmp_path / node.name)
        listen_ms = int(announcement_seconds(node_settings, QUICK_DID) * 1000) + 1500
        # The same callers on both nodes: 4833300001 calls pbx-a and pbx-b.
        script = CallerScript(
            did=QUICK_DID, caller="483330000[call_number]", wait_ms=listen_ms, talk_ms=2000
        )
        runs.append(
            place_calls(
                node.asterisk.settings,
                script,
                tmp_path / node.name / "caller",
                calls=CALLS_PER_NODE,
                rate=2,
            )
        )
    results = await asyncio.gather(*runs)
    assert all(result.ok for result in results), [result.errors for result in results]
    for node in nodes:
        await asyncio.to_thread(node.service.wait_idle, 60)
        await until(lambda node=node: node.service.health().get("uploads_pending") == 0, 60)

    async with open_sessions(shared_database) as sessions, sessions() as session:
        rows = (await session.scalars(select(Call))).all()
    by_node = {node.name: [row for row in rows if row.node == node.name] for node in nodes}
    assert {name: len(found) for name, found in by_node.items()} == {
        "pbx-a": CALLS_PER_NODE,
        "pbx-b": CALLS_PER_NODE,
    }
    assert all(row.uniqueid.startswith("pbx-b-") for row in by_node["pbx-b"])
    assert not any(row.uniqueid.startswith("pbx-") for row in by_node["pbx-a"])
    settings = parse(nodes[0].service.config, {}, base_dir=PROJECT_DIR)
    async with opened_offsite(settings) as offsite:
        assert offsite is not None
        stored = {info.key async for info in offsite.store.objects()}
    for node in nodes:
        for row in by_node[node.name]:
            assert (row.consent, row.recording_status) == (
                Consent.GIVEN.value,
                RecordingStatus.COMPLETE.value,
            )
            assert row.recording_path is not None
            # Mix and both legs in the one bucket, nothing left on the node's disk.
            assert set(recording_keys(row.recording_path)) <= stored
            assert recordings_of(node.asterisk, row.uniqueid) == []

    async with open_sessions(shared_database) as sessions:
        for node_name, expected in ((None, 2 * CALLS_PER_NODE), ("pbx-b", CALLS_PER_NODE)):
            async with sessions() as session, session.begin():
                page = await search_calls(
                    session,
                    actor=SUPERVISOR,
                    filters=SearchFilters(node=node_name),
                    region="PL",
                    page_size=50,
                    cursor=None,
                    now=rows[0].started_at,
                    client="pytest",
                )
            assert len(page.calls) == expected
            assert {call.node for call in page.calls} == (
                {"pbx-a", "pbx-b"} if node_name is None else {node_name}
            )

    # One web app (node A's settings) plays node B's recording from the store.
    played = by_node["pbx-b"][0]
    await add_supervisor(shared_database)
    async with TestClient(TestServer(build_web_app(settings), host="127.0.0.1")) as client:
        await sign_in(client, Person("sue", frozenset({Role.SUPERVISOR}), None, None), clock=None)
        assert (await listen(client, played.uniqueid)).status == 303
        audio = await (await client.get(f"/calls/{played.uniqueid}/audio")).read()
    assert hashlib.sha256(audio).hexdigest() == played.sha256

    # Erasing 4833300001 from node A's command line reaches its call on node B too.
    keys = {row.uniqueid: set(recording_keys(str(row.recording_path))) for row in rows}
    config_a = nodes[0].service.config_path
    erase = ["erase", "4833300001", "-c", str(config_a), "--actor", "dpo"]
    assert await asyncio.to_thread(main, erase) == 0
    async with open_sessions(shared_database) as sessions, sessions() as session:
        erased = (await session.scalars(select(Call).where(Call.purge_reason == "erasure"))).all()
    assert {row.node for row in erased} == {"pbx-a", "pbx-b"}
    assert all(row.caller_number is None for row in erased)
    async with opened_offsite(settings) as offsite:
        assert offsite is not None
        left = {info.key async for info in offsite.store.objects()}
    gone = {row.uniqueid for row in erased}
    for uniqueid, its_keys in keys.items():
        assert (its_keys & left) == (set() if uniqueid in gone else its_keys)
