"""Network settings of a robot profile: which DDS profile, on which interfaces, which peers/server."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
import ipaddress
import re
from typing import Any

from physical_ai.core.errors import ConfigError

# name -> what it does (the shipped XML each one starts from is in environment.DDS_PROFILES)
NETWORK_PROFILES = {
    'local': 'shared memory + UDP on 127.0.0.1: nothing leaves the host (the default)',
    'robot': 'shared memory on the host, UDP to other hosts on the named interfaces only',
    'discovery_server': 'like robot, but discovery through a Fast DDS Discovery Server (no multicast)',
}
NETWORK_KEYS = ('interfaces', 'static_peers', 'discovery_server', 'start_server', 'discovery_role')
DISCOVERY_ROLES = ('CLIENT', 'SUPER_CLIENT')  # SUPER_CLIENT: sees the whole graph (operator stations)
DEFAULT_SERVER_PORT = 11811  # Fast DDS's default Discovery Server port

_INTERFACE = re.compile(r'[A-Za-z0-9_.:@-]{1,15}')  # Linux interface names: at most 15 characters
_HOST = re.compile(r'[A-Za-z0-9]([A-Za-z0-9.-]{0,252})')


@dataclass(frozen=True)
class NetworkSettings:
    """Resolved network settings; `interfaces` are names (eth0) or IPv4 addresses."""

    profile: str = 'local'
    interfaces: tuple[str, ...] = ()
    static_peers: tuple[str, ...] = ()
    discovery_server: tuple[str, int] | None = None  # (host, port)
    start_server: bool = False
    discovery_role: str = 'CLIENT'

    def server_address(self) -> str:
        """Return 'host:port' of the Discovery Server, or '' when there is none."""
        if self.discovery_server is None:
            return ''
        return f'{self.discovery_server[0]}:{self.discovery_server[1]}'

    def with_overrides(self, profile: str | None = None, interfaces: Iterable[str] | None = None,
                       static_peers: Iterable[str] | None = None, discovery_server: str | None = None,
                       start_server: bool | None = None, discovery_role: str | None = None,
                       where: str = 'command line') -> NetworkSettings:
        """Return these settings with the given values replaced, validated again."""
        changes: dict[str, Any] = {}
        if profile is not None:
            changes['profile'] = _profile(profile, where)
        if interfaces is not None:
            changes['interfaces'] = _interfaces(list(interfaces), where)
        if static_peers is not None:
            changes['static_peers'] = _peers(list(static_peers), where)
        if discovery_server is not None:
            changes['discovery_server'] = parse_server(discovery_server, where) if discovery_server else None
        if start_server is not None:
            changes['start_server'] = bool(start_server)
        if discovery_role is not None:
            changes['discovery_role'] = _role(discovery_role, where)
        settings = replace(self, **changes)
        settings.check(where)
        return settings

    def check(self, where: str) -> None:
        """Raise ConfigError when the settings do not make a usable network profile."""
        if self.profile == 'robot' and not self.interfaces:
            raise ConfigError(f'{where}: dds_profile robot sends UDP on named interfaces only: name them in '
                              'network.interfaces (e.g. [eth0]) or with --interface eth0')
        if self.profile == 'discovery_server' and self.discovery_server is None:
            raise ConfigError(f'{where}: dds_profile discovery_server needs network.discovery_server '
                              '(host:port of the server, e.g. 192.168.1.10:11811) or --discovery-server')
        if self.start_server and self.profile != 'discovery_server':
            raise ConfigError(f'{where}: network.start_server applies to dds_profile discovery_server only '
                              f'(this profile uses {self.profile})')


def parse_network(data: Any, profile: str, where: str) -> NetworkSettings:
    """Read a robot profile's `network:` mapping for DDS profile `profile`; raise ConfigError if invalid."""
    key = f'{where}: network'
    if data is None:
        data = {}
    if not isinstance(data, Mapping):
        raise ConfigError(f'{key}: expected a mapping with keys {", ".join(NETWORK_KEYS)}, got {data!r}')
    for name in data:
        if name not in NETWORK_KEYS:
            raise ConfigError(f'{key}.{name}: unknown key; accepted: {", ".join(NETWORK_KEYS)}')
    server = data.get('discovery_server')
    start = data.get('start_server', False)
    if not isinstance(start, bool):
        raise ConfigError(f'{key}.start_server: expected true or false, got {start!r}')
    settings = NetworkSettings(
        profile=_profile(profile, f'{where}: dds_profile'),
        interfaces=_interfaces(data.get('interfaces', []), f'{key}.interfaces'),
        static_peers=_peers(data.get('static_peers', []), f'{key}.static_peers'),
        discovery_server=parse_server(server, f'{key}.discovery_server') if server else None,
        start_server=start,
        discovery_role=_role(data.get('discovery_role', 'CLIENT'), f'{key}.discovery_role'))
    settings.check(where)
    return settings


def parse_server(text: Any, where: str) -> tuple[str, int]:
    """Split 'host[:port]' (port default 11811); raise ConfigError if invalid."""
    if not isinstance(text, str) or not text.strip():
        raise ConfigError(f'{where}: expected host:port of a Discovery Server, got {text!r}')
    host, sep, port_text = text.strip().rpartition(':')
    if not sep:
        host, port_text = port_text, str(DEFAULT_SERVER_PORT)
    try:
        port = int(port_text)
    except ValueError:
        port = -1
    if not 1 <= port <= 65535:
        raise ConfigError(f'{where}: {text!r}: the port must be a number from 1 to 65535')
    _host(host, where)
    return host, port


def _profile(name: Any, where: str) -> str:
    if name not in NETWORK_PROFILES:
        raise ConfigError(f'{where}: unknown DDS profile {name!r}; known: {", ".join(NETWORK_PROFILES)}')
    return str(name)


def _role(role: Any, where: str) -> str:
    text = str(role).upper()
    if text not in DISCOVERY_ROLES:
        raise ConfigError(f'{where}: {role!r} is not accepted; one of {", ".join(DISCOVERY_ROLES)}')
    return text


def _list(values: Any, where: str) -> list[str]:
    if isinstance(values, str):
        values = [v for v in re.split(r'[,;\s]+', values) if v]
    if not isinstance(values, list | tuple) or not all(isinstance(v, str) and v for v in values):
        raise ConfigError(f'{where}: expected a list of names, got {values!r}')
    return list(dict.fromkeys(values))


def _interfaces(values: Any, where: str) -> tuple[str, ...]:
    out = _list(values, where)
    for value in out:
        if _is_ipv4(value):
            continue
        if not _INTERFACE.fullmatch(value):
            raise ConfigError(f'{where}: {value!r} is neither a network interface name (eth0, wlan0) '
                              'nor an IPv4 address')
    return tuple(out)


def _peers(values: Any, where: str) -> tuple[str, ...]:
    out = _list(values, where)
    for value in out:
        _host(value, where)
    return tuple(out)


def _host(host: str, where: str) -> None:
    if not _is_ipv4(host) and not _HOST.fullmatch(host):
        raise ConfigError(f'{where}: {host!r} is not an IPv4 address or host name')


def _is_ipv4(text: str) -> bool:
    try:
        ipaddress.IPv4Address(text)
    except ValueError:
        return False
    return True
