"""Two Asterisk nodes, a callrec beside each, one PostgreSQL (issue 14 §3).

Node A is the session's sandbox; node B a second Asterisk on its own addresses and ports,
with ``systemname = pbx-b`` in asterisk.conf so that its uniqueids (``pbx-b-1796….12``) never
meet node A's in the shared table, as the README asks of every node but one. Each node's
``callrec run`` is a process of its own with its own journal and ``[service] node``; both
write to one PostgreSQL database. Calls on both nodes are recorded, each row says which node
recorded it, and the staff app's search lists them together or by node.
"""

from __future__ import annotations

import asyncio
import copy
import secrets
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from callrec_ari.access import Actor, Role
from callrec_ari.calls.search import SearchFilters, search_calls
from callrec_ari.db.models import Call
from callrec_ari.db.session import open_sessions
from callrec_ari.recording.paths import service_path
from callrec_ari.records import Consent, RecordingStatus
from callrec_ari.sandbox.asterisk import AsteriskSandbox
from callrec_ari.sandbox.demo import announcement_seconds
from callrec_ari.sandbox.service import ServiceProcess
from callrec_ari.sandbox.session import SandboxSession
from callrec_ari.sandbox.sipp import CallerScript, place_calls
from tests.acceptance.conftest import CACHE, QUICK_DID, acceptance_config, sandbox_settings
from tests.support.postgres import PostgresServer

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


def node_config(asterisk: AsteriskSandbox, tmp_path: Path, name: str, url: str) -> dict[str, Any]:
    """The acceptance config as node ``name`` runs it: the shared database, its own journal."""
    config = copy.deepcopy(acceptance_config(asterisk, tmp_path / name))
    config["database"]["url"] = url
    config["database"]["journal_dir"] = str(tmp_path / name / "journal")
    config["service"]["node"] = name
    return config


@pytest.fixture
async def nodes(
    asterisk: AsteriskSandbox, second_node: SandboxSession, shared_database: str, tmp_path: Path
) -> AsyncIterator[list[Node]]:
    """Both nodes running, each with its callrec."""
    assert second_node.asterisk is not None
    pairs = (("pbx-a", asterisk), ("pbx-b", second_node.asterisk))
    running: list[Node] = []
    try:
        for name, pbx in pairs:
            (tmp_path / name).mkdir()
            config = node_config(pbx, tmp_path, name, shared_database)
            service = ServiceProcess(config, tmp_path / name / "service")
            await asyncio.to_thread(service.migrate)
            await asyncio.to_thread(service.start)
            running.append(Node(name=name, asterisk=pbx, service=service))
        yield running
    finally:
        for node in running:
            node.service.stop()


async def test_calls_on_two_nodes_are_recorded_and_listed_together(
    nodes: list[Node], shared_database: str, tmp_path: Path
):
    """Each node records its own calls into the one database; the rows say which node, and
    a search lists both nodes' calls, or one node's."""
    runs = []
    for index, node in enumerate(nodes):
        settings = sandbox_settings(node.asterisk, tmp_path / node.name)
        listen = int(announcement_seconds(settings, QUICK_DID) * 1000) + 1500
        script = CallerScript(
            did=QUICK_DID, caller=f"4833{index}[call_number]", wait_ms=listen, talk_ms=2000
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

    async with open_sessions(shared_database) as sessions, sessions() as session:
        rows = (await session.scalars(select(Call))).all()
    by_node = {node.name: [row for row in rows if row.node == node.name] for node in nodes}
    assert {name: len(found) for name, found in by_node.items()} == {
        "pbx-a": CALLS_PER_NODE,
        "pbx-b": CALLS_PER_NODE,
    }
    assert all(row.uniqueid.startswith("pbx-b-") for row in by_node["pbx-b"])
    assert not any(row.uniqueid.startswith("pbx-") for row in by_node["pbx-a"])
    for node in nodes:
        recordings = sandbox_settings(node.asterisk, tmp_path / node.name).recording.service_dir
        for row in by_node[node.name]:
            assert (row.consent, row.recording_status) == (
                Consent.GIVEN.value,
                RecordingStatus.COMPLETE.value,
            )
            assert row.recording_path is not None
            assert service_path(recordings, row.recording_path).is_file()

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
