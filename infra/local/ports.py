"""The local stack's ports: all checked before anything starts; a busy one is one line and exit 1.

A port counts as busy when something answers on it (macOS's AirPlay receiver holds *:5000, and
a bind to 127.0.0.1:5000 may still succeed there) or when it cannot be bound.
"""
from __future__ import annotations

import errno
import socket
from dataclasses import dataclass

HOST = "127.0.0.1"


@dataclass(frozen=True)
class Port:
    what: str        # "API", "AWS emulator", "Stripe"
    number: int
    flag: str        # --api-port
    make_var: str    # API_PORT

    def busy_message(self) -> str:
        other = self.number + 1 if self.number < 65535 else 1024
        return (f"port {self.number} ({self.what}) is in use: choose another with `make run {self.make_var}={other}` "
                f"or `python -m infra.local run {self.flag} {other}`")


class PortBusy(Exception):
    def __init__(self, port: Port) -> None:
        super().__init__(port.busy_message())
        self.port = port


def in_use(number: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.settimeout(0.5)
        try:
            probe.connect((HOST, number))
            return True           # someone answers there
        except OSError:
            pass
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        # As the servers bind: SO_REUSEADDR lets a port in TIME_WAIT be reused, not a listening one.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, number))
        except OSError:
            return True
    return False


def check(ports: list[Port]) -> None:
    """Raise PortBusy (or ValueError for a bad choice) for the first port the stack cannot have."""
    seen: dict[int, Port] = {}
    for port in ports:
        if not 1 <= port.number <= 65535:
            raise ValueError(f"{port.flag} {port.number} is not a TCP port (1-65535)")
        if port.number in seen:
            raise ValueError(f"{seen[port.number].flag} and {port.flag} are both {port.number}: "
                             "the API, the AWS emulator and Stripe need a port each")
        seen[port.number] = port
    for port in ports:
        if in_use(port.number):
            raise PortBusy(port)


def is_address_in_use(exc: BaseException) -> bool:
    return isinstance(exc, OSError) and exc.errno in (errno.EADDRINUSE, errno.EACCES)
