"""Network profiles: settings from a robot profile, generated Fast DDS XML, environment, fleet figures."""

from pathlib import Path
import xml.etree.ElementTree as ET

import pytest

from physical_ai.core.environment import dds_profile, ros_environment
from physical_ai.core.errors import ConfigError
from physical_ai.core.network import (
    NetworkSettings,
    discovery_server_command,
    network_environment,
    parse_network,
    render_profile_xml,
    with_network,
)
from physical_ai.core.network.fastdds import profile_file
from physical_ai.core.network.fleet import Fleet, RateMeter, parse_command
from physical_ai.core.profiles import load_profile

NS = '{http://www.eprosima.com}'


def udp_allow_list(text):
    root = ET.fromstring(text)
    for descriptor in root.iter(f'{NS}transport_descriptor'):
        if descriptor.findtext(f'{NS}type') == 'UDPv4':
            return [(e.tag.replace(NS, ''), e.text) for e in descriptor.find(f'{NS}interfaceWhiteList')]
    raise AssertionError('no UDPv4 transport')


def test_local_is_the_default_and_keeps_everything_on_the_host():
    settings = parse_network(None, 'local', 'bot.yaml')
    env = network_environment(settings)
    assert env['FASTDDS_DEFAULT_PROFILES_FILE'] == str(dds_profile('local'))
    # LOCALHOST would make rmw_fastrtps replace the XML's transports with stock ones.
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    text = Path(env['FASTDDS_DEFAULT_PROFILES_FILE']).read_text()
    assert udp_allow_list(text) == [('address', '127.0.0.1')]
    assert 'ROS_STATIC_PEERS' not in env


@pytest.mark.parametrize('profile,data', [
    ('local', None), ('robot', {'interfaces': ['eth0']}),
    ('discovery_server', {'interfaces': ['eth0'], 'discovery_server': '192.168.1.10:11888'})])
def test_every_profile_shares_memory_with_a_short_port_health_check(profile, data):
    """A 32 MiB segment for full-resolution images; a 300 ms health check (docs/performance.md)."""
    root = ET.fromstring(render_profile_xml(parse_network(data, profile, 'bot.yaml')))
    shm = [d for d in root.iter(f'{NS}transport_descriptor') if d.findtext(f'{NS}type') == 'SHM']
    assert len(shm) == 1
    assert shm[0].findtext(f'{NS}segment_size') == '33554432'
    assert shm[0].findtext(f'{NS}healthy_check_timeout_ms') == '300'


def test_robot_allows_udp_on_the_named_interfaces_only():
    settings = parse_network({'interfaces': ['eth0', '192.168.1.20'], 'static_peers': ['10.0.0.7', 'base']},
                             'robot', 'bot.yaml')
    text = render_profile_xml(settings)
    assert udp_allow_list(text) == [('address', '127.0.0.1'), ('interface', 'eth0'),
                                    ('address', '192.168.1.20')]
    assert 'SHM' in text and '33554432' in text  # shared memory on the host stays
    env = network_environment(settings)
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SUBNET'  # rmw adds ROS_STATIC_PEERS as initial peers
    assert env['ROS_STATIC_PEERS'] == '10.0.0.7;base'
    path = Path(env['FASTDDS_DEFAULT_PROFILES_FILE'])
    assert path.read_text() == text and profile_file(settings) == path  # same settings, same file


def test_discovery_server_points_clients_at_the_server():
    settings = parse_network({'interfaces': ['wlan0'], 'discovery_server': '192.168.1.10:11888',
                              'start_server': True, 'discovery_role': 'super_client'},
                             'discovery_server', 'x')
    root = ET.fromstring(render_profile_xml(settings))
    config = next(root.iter(f'{NS}discovery_config'))
    assert config.findtext(f'{NS}discoveryProtocol') == 'SUPER_CLIENT'
    udp = config.find(f'{NS}discoveryServersList/{NS}locator/{NS}udpv4')
    assert (udp.findtext(f'{NS}address'), udp.findtext(f'{NS}port')) == ('192.168.1.10', '11888')
    assert network_environment(settings)['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    command = discovery_server_command(settings)
    assert command[-5:] == ['discovery', '-l', '192.168.1.10', '-p', '11888']
    assert Path(command[1]).is_file()  # the Fast DDS CLI of this prefix


@pytest.mark.parametrize('profile, data, message', [
    ('robot', {}, 'name them in network.interfaces'),
    ('discovery_server', {'interfaces': ['eth0']}, 'needs network.discovery_server'),
    ('robot', {'interfaces': ['eth0'], 'start_server': True}, 'applies to dds_profile discovery_server'),
    ('robot', {'interfaces': ['not an interface']}, 'neither a network interface name'),
    ('robot', {'interfaces': ['eth0'], 'multicast': False}, r'network.multicast: unknown key'),
    ('discovery_server', {'discovery_server': 'host:99999'}, 'port must be a number'),
    ('discovery_server', {'discovery_server': 'h', 'discovery_role': 'SERVER'}, 'not accepted'),
    ('cyclone', {}, 'unknown DDS profile'),
])
def test_bad_network_settings_say_what_to_fix(profile, data, message):
    with pytest.raises(ConfigError, match=message):
        parse_network(data, profile, 'bot.yaml')


def test_robot_profile_carries_its_network_and_overrides_apply(tmp_path):
    path = tmp_path / 'bot.yaml'
    path.write_text('robot: bot\ndds_profile: robot\nnetwork: {interfaces: [eth0]}\n'
                    'nodes: {planner: {type: planner}}\n')
    profile = load_profile(path)
    assert profile.network.interfaces == ('eth0',) and profile.dds_profile == 'robot'
    env = profile.environment({})
    assert 'eth0' in Path(env['FASTDDS_DEFAULT_PROFILES_FILE']).read_text()
    server = with_network(profile, 'discovery_server', discovery_server='10.1.2.3', start_server=True)
    assert server.network.discovery_server == ('10.1.2.3', 11811) and server.network.interfaces == ('eth0',)
    assert {n.dds_profile for n in server.nodes} == {'discovery_server'}
    with pytest.raises(ConfigError, match='needs network.discovery_server'):
        with_network(profile, 'discovery_server')
    # A DDS file of the user's own still wins over the profile's choice.
    assert ros_environment('robot', {'FASTDDS_DEFAULT_PROFILES_FILE': '/etc/mine.xml'},
                           network=profile.network)['FASTDDS_DEFAULT_PROFILES_FILE'] == '/etc/mine.xml'


def test_rate_meter_and_fleet_commands():
    meter = RateMeter(window=2.0)
    for i in range(40):
        meter.add(100.0 + i * 0.1)
    assert meter.rate(104.0) == pytest.approx(10.0, abs=0.6) and meter.full(104.0)
    fleet = Fleet()
    fleet.add('robot1')
    fleet.add('/fleet/robot2')
    assert [r.namespace for r in fleet.targets('all')] == ['/robot1', '/fleet/robot2']
    assert fleet.owner('/fleet/robot2/camera').namespace == '/fleet/robot2'
    assert fleet.owner('/dev/video0') is None
    with pytest.raises(ConfigError, match='unknown robot'):
        fleet.targets('robot9')
    with pytest.raises(ConfigError, match='needs a namespace'):
        fleet.add('/')
    assert parse_command('E-STOP all') == ('e_stop', 'all')
    assert parse_command('release robot1') == ('release', 'robot1')
    for bad in ('e_stop', 'drive robot1'):
        with pytest.raises(ConfigError):
            parse_command(bad)


def test_delivered_share_of_camera_frames():
    fleet = Fleet()
    robot = fleet.add('robot1')
    assert robot.delivered() is None
    for published, received in ((10, 9), (20, 19), (30, 28)):
        robot.camera_samples.append((published, received))
    assert robot.delivered() == pytest.approx(19 / 20)
    assert NetworkSettings().profile == 'local'
