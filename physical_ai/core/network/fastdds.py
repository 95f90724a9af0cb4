"""Fast DDS XML profiles and environment for the network settings; the Discovery Server command.

The shipped files in config/dds/ are the templates: `local` is used as it is; `robot` and
`discovery_server` get the profile's interface allow-list (and server address) written into a
copy, kept under the temporary folder by content hash (the same settings reuse the same file).
"""

from __future__ import annotations

from collections.abc import Mapping
import hashlib
import os
from pathlib import Path
import shutil
import sys
import tempfile
import xml.etree.ElementTree as ET

from physical_ai.core.network.settings import NetworkSettings

NS = 'http://www.eprosima.com'
_Q = f'{{{NS}}}'
TEMPLATES = {
    'local': 'dds/fastdds_loopback.xml',
    'robot': 'dds/fastdds_robot.xml',
    'discovery_server': 'dds/fastdds_discovery_server.xml',
}
# What rmw_fastrtps does with its XML profile for each range (rmw_fastrtps_shared_cpp participant.cpp):
# SYSTEM_DEFAULT leaves it alone; SUBNET leaves it alone and adds ROS_STATIC_PEERS as initial peers;
# LOCALHOST replaces the transports with stock ones (a 512 KiB shared-memory segment).
DISCOVERY_RANGE = {'local': 'SYSTEM_DEFAULT', 'robot': 'SUBNET', 'discovery_server': 'SYSTEM_DEFAULT'}


def template_path(profile: str) -> Path:
    """Return the shipped Fast DDS XML file a network profile starts from."""
    from physical_ai.core.environment import config_dir

    return config_dir() / TEMPLATES[profile]


def render_profile_xml(settings: NetworkSettings) -> str:
    """Return the Fast DDS XML for `settings`: the template with allow-list and server filled in."""
    ET.register_namespace('', NS)
    tree = ET.parse(template_path(settings.profile))
    root = tree.getroot()
    if settings.profile in ('robot', 'discovery_server'):
        for descriptor in root.iter(f'{_Q}transport_descriptor'):
            if descriptor.findtext(f'{_Q}type') != 'UDPv4':
                continue
            allow = descriptor.find(f'{_Q}interfaceWhiteList')
            if allow is None:
                allow = ET.SubElement(descriptor, f'{_Q}interfaceWhiteList')
            for name in settings.interfaces:
                tag = 'address' if _is_address(name) else 'interface'
                ET.SubElement(allow, f'{_Q}{tag}').text = name
    if settings.profile == 'discovery_server':
        config = next(root.iter(f'{_Q}discovery_config'))
        config.find(f'{_Q}discoveryProtocol').text = settings.discovery_role
        servers = config.find(f'{_Q}discoveryServersList')
        for locator in list(servers):
            servers.remove(locator)
        host, port = settings.discovery_server
        udp = ET.SubElement(ET.SubElement(servers, f'{_Q}locator'), f'{_Q}udpv4')
        ET.SubElement(udp, f'{_Q}address').text = host
        ET.SubElement(udp, f'{_Q}port').text = str(port)
    ET.indent(tree, space='  ')
    return '<?xml version="1.0" encoding="UTF-8" ?>\n' + ET.tostring(root, encoding='unicode') + '\n'


def profile_file(settings: NetworkSettings) -> Path:
    """Return the Fast DDS XML file for `settings`: the shipped one, or a generated copy."""
    if settings.profile == 'local':
        return template_path('local')
    text = render_profile_xml(settings)
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f'physical_ai_dds_{os.getuid()}'
    folder.mkdir(mode=0o700, exist_ok=True)
    path = folder / f'fastdds_{settings.profile}_{digest}.xml'
    if not path.is_file() or path.read_text() != text:
        partial = path.with_suffix(f'.{os.getpid()}.tmp')
        partial.write_text(text)
        partial.replace(path)  # atomic: a process starting meanwhile reads the old or the new file
    return path


def network_environment(settings: NetworkSettings) -> dict[str, str]:
    """Return the variables that give a process these network settings."""
    env = {
        'FASTDDS_DEFAULT_PROFILES_FILE': str(profile_file(settings)),
        'ROS_AUTOMATIC_DISCOVERY_RANGE': DISCOVERY_RANGE[settings.profile],
    }
    if settings.profile == 'robot' and settings.static_peers:
        env['ROS_STATIC_PEERS'] = ';'.join(settings.static_peers)  # the separator ROS 2 documents
    return env


def discovery_server_command(settings: NetworkSettings, env: Mapping[str, str] | None = None) -> list[str]:
    """Return the command that runs the Fast DDS Discovery Server of `settings` (`fastdds discovery`).

    The Fast DDS CLI of this interpreter's prefix (a pip install ships it under tools/fastdds) or
    the `fastdds` command on PATH (a ROS 2 distribution).
    """
    if settings.discovery_server is None:
        raise ValueError('the settings name no discovery server')
    host, port = settings.discovery_server
    args = ['discovery', '-l', host, '-p', str(port)]
    script = Path(sys.prefix) / 'tools' / 'fastdds' / 'fastdds.py'
    if script.is_file():
        return [sys.executable, str(script), *args]
    path = (env or os.environ).get('PATH')
    found = shutil.which('fastdds', path=path)
    if found is None:
        raise FileNotFoundError('the Fast DDS CLI (fastdds) is not installed: it comes with '
                                'ros-<distro>-fastdds '
                                '(apt) or the ros-kilted-fastdds wheel')
    return [found, *args]


def _is_address(text: str) -> bool:
    parts = text.split('.')
    return len(parts) == 4 and all(p.isdigit() for p in parts)
