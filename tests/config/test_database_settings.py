"""The production database connection gives up quickly when PostgreSQL does not answer."""

import socket
import time

import psycopg
import pytest

from django.db import connection

pytestmark = [pytest.mark.django_db, pytest.mark.postgresql]


def test_postgresql_connections_have_a_connect_timeout_and_health_checks():
    assert connection.settings_dict["OPTIONS"]["connect_timeout"] == 3
    assert connection.settings_dict["CONN_HEALTH_CHECKS"] is True


def test_a_server_that_never_answers_fails_the_connection_instead_of_hanging():
    # A socket that takes the TCP connection and then says nothing, like a database
    # host that is up but stuck.
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(1)
    host, port = silent.getsockname()
    # The parameters Django hands to libpq, pointed at the silent socket.
    params = {**connection.get_connection_params(), "host": host, "port": port}
    assert params["connect_timeout"] == 3
    params["connect_timeout"] = 1
    started = time.monotonic()
    try:
        with pytest.raises(psycopg.OperationalError):
            psycopg.connect(**params)
    finally:
        silent.close()
    # Without the timeout libpq waits for the server for as long as the socket stays open.
    assert time.monotonic() - started < 20
