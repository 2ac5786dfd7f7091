"""Django's PostgreSQL backend, with a connection's health checked without a round trip when it can be.

With CONN_HEALTH_CHECKS, Django checks a kept connection before its first use in each request by sending it
`SELECT 1`. That is a round trip to the server in every request that reads: about a tenth of a tracking look-up's
CPU, server and client together (P5, docs/PERFORMANCE.md). A server that ends a session (a restart, a
terminated backend, an idle session timeout) says so with an error and closes the socket, or the socket is
simply closed; either makes the socket readable while the session is idle, where a session in good health has
nothing to say. So an idle connection whose socket has nothing to read is taken as usable, and only one whose
socket has something to read, or that is not idle (in a transaction, or after an error), gets Django's
`SELECT 1`, which decides.
"""

import select

from django.db.backends.postgresql import base
from psycopg2.extensions import TRANSACTION_STATUS_IDLE


class DatabaseWrapper(base.DatabaseWrapper):
    def is_usable(self):
        connection = self.connection
        if connection is None or connection.closed:
            return False
        if connection.info.transaction_status == TRANSACTION_STATUS_IDLE:
            try:
                readable, _, _ = select.select([connection], [], [], 0)
            except (OSError, ValueError):  # the socket is gone
                return False
            if not readable:
                return True
        return super().is_usable()
