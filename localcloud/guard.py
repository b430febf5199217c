"""Keep the course off the network: only loopback is reachable, and AWS credentials are fake.

A student's laptop may hold real AWS credentials. Whatever a cell does, the course must not reach
real AWS (no bill, no surprise) nor anything else outside this machine, so the session installs a
process-wide guard on name resolution and socket connects that admits loopback only.
"""

from __future__ import annotations

import ipaddress
import os
import socket

from .errors import NetworkBlocked

FAKE_ENVIRONMENT = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_SESSION_TOKEN": "testing",
    "AWS_SECURITY_TOKEN": "testing",
    "AWS_EC2_METADATA_DISABLED": "true",
    "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    # Point boto3 away from a real ~/.aws: a profile could resolve SSO or assume-role credentials.
    "AWS_CONFIG_FILE": os.devnull,
    "AWS_SHARED_CREDENTIALS_FILE": os.devnull,
}
REMOVED_ENVIRONMENT = ("AWS_PROFILE", "AWS_DEFAULT_PROFILE", "AWS_ROLE_ARN", "AWS_WEB_IDENTITY_TOKEN_FILE",
                       "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")

_original_getaddrinfo = socket.getaddrinfo
_original_connect = socket.socket.connect
_original_connect_ex = socket.socket.connect_ex
_installed = False


def fake_credentials(region: str) -> None:
    """Replace whatever AWS identity the machine has with moto's fake one."""
    for name in REMOVED_ENVIRONMENT:
        os.environ.pop(name, None)
    os.environ.update(FAKE_ENVIRONMENT)
    os.environ["AWS_DEFAULT_REGION"] = region
    os.environ["AWS_REGION"] = region


def is_loopback(host: object) -> bool:
    if not isinstance(host, str):
        return False
    if host in ("localhost", "localhost.localdomain", "ip6-localhost"):
        return True
    try:
        return ipaddress.ip_address(host.split("%", 1)[0]).is_loopback
    except ValueError:
        return False


def _refuse(host: object) -> NetworkBlocked:
    hint = (
        "a boto3 client made before Cloud() started talks to real AWS: create clients after "
        "`cloud = Cloud()` (or use cloud.client(...))"
        if isinstance(host, str) and "amazonaws.com" in host
        else "the course runs offline: serve what you need on 127.0.0.1"
    )
    return NetworkBlocked(f"blocked a connection to {host!r}: only loopback is allowed here; {hint}")


def _guarded_getaddrinfo(host, *args, **kwargs):
    if host is not None and not is_loopback(host if isinstance(host, str) else host.decode()):
        raise _refuse(host)
    return _original_getaddrinfo(host, *args, **kwargs)


def _check_address(sock: socket.socket, address) -> None:
    if sock.family in (socket.AF_INET, socket.AF_INET6) and not is_loopback(address[0]):
        raise _refuse(address[0])


def _guarded_connect(self, address):
    _check_address(self, address)
    return _original_connect(self, address)


def _guarded_connect_ex(self, address):
    _check_address(self, address)
    return _original_connect_ex(self, address)


def install_network_guard() -> None:
    """Idempotent and process-wide: once a Cloud has started, the kernel stays offline."""
    global _installed
    if _installed:
        return
    socket.getaddrinfo = _guarded_getaddrinfo
    socket.socket.connect = _guarded_connect
    socket.socket.connect_ex = _guarded_connect_ex
    _installed = True
