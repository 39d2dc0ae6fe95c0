"""The relay the functions reach MySQL through: 127.0.0.1:MYSQL_RELAY_PORT → MYSQL_UPSTREAM (the
local stack points it at DATABASE_URL's server). It forwards each connection as it is, byte for
byte; it is here so that a `mysql` fault (see `faults`) can close every connection through it
and refuse new ones while the fault lasts.
"""

import contextlib
import select
import socket
import threading

from .faults import Faults


class MysqlRelay:
    """Forwards TCP connections to MySQL, so a `mysql` fault can cut the database off."""

    def __init__(self, faults: Faults, port: int, upstream: str) -> None:
        self.faults, self.upstream = faults, upstream
        self.open: set[socket.socket] = set()
        self.lock = threading.Lock()
        self.listener = socket.create_server(("127.0.0.1", port))
        faults.on_mysql_fault = self.cut

    def serve(self) -> None:
        while True:
            client, _ = self.listener.accept()
            if self.faults.strike("mysql", None):
                client.close()
                continue
            threading.Thread(target=self.pipe, args=(client,), daemon=True).start()

    def pipe(self, client: socket.socket) -> None:
        host, port = self.upstream.rsplit(":", 1)
        try:
            server = socket.create_connection((host, int(port)), timeout=5)
        except OSError:
            client.close()
            return
        server.settimeout(None)
        with self.lock:
            self.open.update((client, server))
        try:
            while True:
                readable, _, _ = select.select([client, server], [], [])
                for source in readable:
                    data = source.recv(65536)
                    if not data:
                        return
                    (server if source is client else client).sendall(data)
        except OSError:
            pass
        finally:
            with self.lock:
                self.open.difference_update((client, server))
            client.close()
            server.close()

    def cut(self) -> None:
        with self.lock:
            for connection in self.open:
                with contextlib.suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)
