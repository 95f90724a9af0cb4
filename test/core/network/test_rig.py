"""The netns rig cleans up after itself, also when the code inside fails (root only)."""

import subprocess

import pytest

from physical_ai.core.network.rig import SHM_ROOT, Rig, unavailable_reason

REASON = unavailable_reason()
pytestmark = pytest.mark.skipif(bool(REASON), reason=f'multi-host rig unavailable: {REASON}')


def namespaces():
    return set(subprocess.run(['ip', 'netns', 'list'], capture_output=True, text=True).stdout.split())


def test_hosts_are_separate_and_everything_goes_on_failure(tmp_path):
    before = namespaces()
    with pytest.raises(RuntimeError, match='inside the rig'):
        with Rig(['a', 'b', 'c'], log_dir=tmp_path) as rig:  # three hosts: a bridge in a switch namespace
            made = namespaces() - before
            assert len(made) == 4
            shell = ['sh', '-c', 'cat /etc/machine-id; ls /dev/shm; touch /dev/shm/mark; ip -o -4 addr show']
            out = {}
            for name in 'ab':
                proc = rig.start(name, shell, {'PATH': '/usr/sbin:/usr/bin:/sbin:/bin'}, name='look')
                proc.proc.wait(10)
                out[name] = proc.output().splitlines()
            assert out['a'][0] != out['b'][0]  # machine ids differ
            assert 'mark' not in out['b']  # a's /dev/shm is not b's
            assert any('10.231.0.1/24' in line for line in out['a'])
            assert any('10.231.0.2/24' in line for line in out['b'])
            raise RuntimeError('inside the rig')
    assert not namespaces() & made
    assert not list(SHM_ROOT.glob(f'{rig.tag}*'))
