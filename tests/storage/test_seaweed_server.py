"""The tests' own S3 server: a port someone takes before SeaweedFS binds it is replaced."""

from __future__ import annotations

import socket

from tests.support.seaweedfs import SeaweedServer


def test_a_port_taken_before_the_server_binds_it_is_replaced_by_a_free_one():
    """Ports are free when chosen and may be taken a moment later (another test's server):
    the first start then tries new ones instead of failing the tests that need a store."""
    server = SeaweedServer()
    first = server.ports["s3.port"]
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", first))
        taken.listen()
        with server:  # starts it, and stops it and removes its folder after
            assert server.ports["s3.port"] != first
            assert "Buckets" in server.client().list_buckets()
