"""`physical-ai network` and the network options of `physical-ai up` (no namespaces needed)."""

import subprocess
import sys

import yaml


def cli(*args):
    return subprocess.run([sys.executable, '-m', 'physical_ai.cli', *args], capture_output=True, text=True,
                          timeout=60)


def test_up_prints_the_network_it_would_use():
    done = cli('up', '--robot', 'sim', '--dds-profile', 'discovery_server', '--interface', 'eth0',
               '--discovery-server', '192.168.1.10', '--start-discovery-server', 'true', '--print')
    assert done.returncode == 0, done.stderr
    summary = yaml.safe_load(done.stdout)
    assert summary['dds_profile'] == 'discovery_server'
    assert summary['network'] == {'interfaces': ['eth0'], 'static_peers': [],
                                  'discovery_server': '192.168.1.10:11811', 'start_server': True}
    assert 'network' not in yaml.safe_load(cli('up', '--robot', 'sim', '--print').stdout)  # local


def test_robot_without_interfaces_is_refused_with_the_fix():
    done = cli('up', '--robot', 'sim', '--dds-profile', 'robot', '--print')
    assert done.returncode == 1
    assert 'name them in network.interfaces' in done.stderr and 'Traceback' not in done.stderr


def test_network_env_and_xml():
    env = cli('network', 'env', '--dds-profile', 'robot', '--interface', 'eth1', '--static-peer', '10.0.0.2')
    assert env.returncode == 0, env.stderr
    lines = dict(line.removeprefix('export ').split('=', 1) for line in env.stdout.splitlines())
    assert lines['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SUBNET' and lines['ROS_STATIC_PEERS'] == '10.0.0.2'
    xml = cli('network', 'xml', '--dds-profile', 'robot', '--interface', 'eth1')
    assert '<interface>eth1</interface>' in xml.stdout
    assert open(lines['FASTDDS_DEFAULT_PROFILES_FILE']).read() == xml.stdout
