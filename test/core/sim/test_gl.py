"""Choice of MuJoCo's OpenGL backend, and its errors when the system libraries are missing."""

import subprocess
import sys

import pytest

from physical_ai.core.errors import ConfigError
from physical_ai.core.sim import gl


def test_no_backend_names_the_packages_to_install():
    probes = {'egl': lambda: 'libEGL.so.1 cannot be loaded', 'osmesa': lambda: 'libOSMesa is not installed'}
    with pytest.raises(ConfigError) as err:
        gl.choose_backend('auto', probes)
    message = str(err.value)
    for package in ('libegl1', 'libgl1-mesa-dri', 'libosmesa6'):
        assert package in message
    assert 'libEGL.so.1 cannot be loaded' in message


def test_auto_falls_back_to_osmesa():
    probes = {'egl': lambda: 'no device', 'osmesa': lambda: None}
    assert gl.choose_backend('auto', probes) == 'osmesa'
    assert gl.choose_backend('egl', {'egl': lambda: None}) == 'egl'


def test_unknown_backend_is_rejected():
    with pytest.raises(ConfigError, match='accepted: auto, egl, osmesa'):
        gl.choose_backend('vulkan')


def test_this_machine_has_a_backend():
    mujoco = gl.load_mujoco()
    assert gl.backend() is not None
    assert mujoco.MjModel.from_xml_string('<mujoco/>').ngeom == 0


def test_unusable_backend_fails_before_mujoco_loads():
    """A fresh process asked for a backend this machine lacks gets one clear line, not a traceback."""
    missing = next((b for b in gl.BACKENDS if gl.PROBES[b]() is not None), None)
    if missing is None:
        pytest.skip('both EGL and OSMesa work here')
    code = ('from physical_ai.core.sim import gl\n'
            f'try:\n    gl.load_mujoco({missing!r})\n'
            'except Exception as err:\n    print(type(err).__name__, err)\n'
            'import sys\nprint("mujoco loaded:", "mujoco" in sys.modules)\n')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, timeout=60).stdout
    assert out.startswith('ConfigError')
    assert ' '.join(gl.PACKAGES[missing]) in out
    assert 'mujoco loaded: False' in out
