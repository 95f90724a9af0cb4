"""Choose MuJoCo's OpenGL backend before `import mujoco`, and bound the software renderer's threads.

MuJoCo fixes its backend when it is imported (it reads MUJOCO_GL then, and PyOpenGL reads
PYOPENGL_PLATFORM at its own import), so every module of the simulator gets mujoco through
`load_mujoco()`. Headless machines render on the CPU through Mesa's llvmpipe: EGL (Debian packages
libegl1, libgl1, libgl1-mesa-dri) is tried first, then OSMesa (libosmesa6); both rendered at the
same speed where measured. LP_NUM_THREADS bounds llvmpipe's threads so inference keeps a core;
it is read once, when the first GL context of the process is made.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import ctypes
import ctypes.util
import os
import sys
from types import ModuleType

from physical_ai.core.errors import ConfigError

BACKENDS = ('egl', 'osmesa')
CHOICES = ('auto', *BACKENDS)
# Debian packages that provide each headless backend (Mesa's software rasteriser included).
PACKAGES = {
    'egl': ('libegl1', 'libgl1', 'libgl1-mesa-dri'),
    'osmesa': ('libosmesa6',),
}
DEFAULT_RENDER_THREADS = 1
_EGL_PLATFORM_DEVICE_EXT = 0x313F

_chosen: str | None = None


def probe_egl() -> str | None:
    """Return None when a headless EGL device display initialises, else why not.

    Does what MuJoCo's EGL context does first (eglQueryDevicesEXT, eglGetPlatformDisplayEXT on a
    device, eglInitialize), with ctypes only, so nothing is fixed yet when it fails.
    """
    try:
        egl = ctypes.CDLL('libEGL.so.1')
    except OSError as err:
        return f'libEGL.so.1 cannot be loaded ({err})'
    if ctypes.util.find_library('OpenGL') is None and ctypes.util.find_library('GL') is None:
        return 'neither libOpenGL.so nor libGL.so is installed'
    get_proc = egl.eglGetProcAddress
    get_proc.restype = ctypes.c_void_p
    get_proc.argtypes = [ctypes.c_char_p]
    query_address = get_proc(b'eglQueryDevicesEXT')
    display_address = get_proc(b'eglGetPlatformDisplayEXT')
    if not query_address or not display_address:
        return 'EGL has no device platform (EGL_EXT_device_enumeration / EGL_EXT_platform_device)'
    query_devices = ctypes.CFUNCTYPE(ctypes.c_uint, ctypes.c_int, ctypes.POINTER(ctypes.c_void_p),
                                     ctypes.POINTER(ctypes.c_int))(query_address)
    platform_display = ctypes.CFUNCTYPE(ctypes.c_void_p, ctypes.c_uint, ctypes.c_void_p,
                                        ctypes.c_void_p)(display_address)
    egl.eglInitialize.argtypes = [ctypes.c_void_p, ctypes.POINTER(ctypes.c_int), ctypes.POINTER(ctypes.c_int)]
    devices = (ctypes.c_void_p * 16)()
    count = ctypes.c_int(0)
    if not query_devices(16, devices, ctypes.byref(count)) or count.value == 0:
        return 'EGL lists no device (is a Mesa EGL vendor library installed?)'
    for device in devices[:count.value]:
        display = platform_display(_EGL_PLATFORM_DEVICE_EXT, device, None)
        major, minor = ctypes.c_int(0), ctypes.c_int(0)
        # Left initialised: the display of a device is one per process, and terminating it here
        # would pull it from under a MuJoCo context already using it.
        if display and egl.eglInitialize(display, ctypes.byref(major), ctypes.byref(minor)):
            return None
    return f'none of the {count.value} EGL device(s) initialises (is libgl1-mesa-dri installed?)'


def probe_osmesa() -> str | None:
    """Return None when the OSMesa library loads and can make contexts, else why not."""
    name = ctypes.util.find_library('OSMesa')
    if name is None:
        return 'libOSMesa is not installed'
    try:
        lib = ctypes.CDLL(name)
    except OSError as err:
        return f'{name} cannot be loaded ({err})'
    if not hasattr(lib, 'OSMesaCreateContextExt'):
        return f'{name} has no OSMesaCreateContextExt'
    return None


PROBES: dict[str, Callable[[], str | None]] = {'egl': probe_egl, 'osmesa': probe_osmesa}


def install_hint(backends: tuple[str, ...] = BACKENDS) -> str:
    """Return the apt-get command line that installs what `backends` need."""
    packages = [p for b in backends for p in PACKAGES[b]]
    return 'sudo apt-get install ' + ' '.join(packages)


def choose_backend(requested: str = 'auto',
                   probes: Mapping[str, Callable[[], str | None]] | None = None) -> str:
    """Return the backend to use: `requested`, or with 'auto' the first of EGL, OSMesa that works.

    Raises ConfigError naming the Debian packages to install when none works.
    """
    if requested not in CHOICES:
        raise ConfigError(f'GL backend {requested!r} is not supported; accepted: {", ".join(CHOICES)}')
    probes = PROBES if probes is None else probes
    candidates = BACKENDS if requested == 'auto' else (requested,)
    reasons = []
    for backend in candidates:
        problem = probes[backend]()
        if problem is None:
            return backend
        reasons.append(f'{backend}: {problem}')
    if requested == 'auto':
        raise ConfigError(
            'no headless OpenGL backend for MuJoCo works (' + '; '.join(reasons) + '). Install EGL with '
            f'`{install_hint(("egl",))}` (or OSMesa with `{install_hint(("osmesa",))}`)')
    raise ConfigError(f'GL backend {requested} is not usable ({reasons[0]}); install it with '
                      f'`{install_hint((requested,))}` or use gl_backend auto')


def load_mujoco(backend: str = 'auto', render_threads: int = 0) -> ModuleType:
    """Choose the GL backend (once per process), bound llvmpipe's threads, import and return mujoco.

    `backend`: 'auto' (MUJOCO_GL from the environment if set, else EGL then OSMesa), 'egl' or
    'osmesa'. `render_threads`: LP_NUM_THREADS for Mesa's software renderer; 0 keeps the
    environment's value, else 1. Raises ConfigError when the backend cannot work or when mujoco
    was already imported with another one.
    """
    global _chosen
    if render_threads < 0:
        raise ConfigError(f'render_threads must be >= 0, got {render_threads}')
    if render_threads:
        os.environ['LP_NUM_THREADS'] = str(render_threads)
    else:
        os.environ.setdefault('LP_NUM_THREADS', str(DEFAULT_RENDER_THREADS))
    if _chosen is None and 'mujoco' in sys.modules:
        _chosen = os.environ.get('MUJOCO_GL', '').lower() or 'default'
    if _chosen is not None:
        if backend != 'auto' and backend != _chosen:
            raise ConfigError(f'GL backend {backend} requested, but MuJoCo was already loaded in this '
                              f'process with {_chosen}; the backend is fixed at import')
        import mujoco
        return mujoco
    from_env = os.environ.get('MUJOCO_GL', '').strip().lower()
    if backend == 'auto' and from_env and from_env not in BACKENDS:
        chosen = from_env  # a desktop setting (glfw, glx) the user chose: trust it
    else:
        chosen = choose_backend(from_env if backend == 'auto' and from_env else backend)
    platform = os.environ.get('PYOPENGL_PLATFORM', '').strip().lower()
    if chosen in BACKENDS and platform and platform != chosen:
        raise ConfigError(f'PYOPENGL_PLATFORM={platform} conflicts with MuJoCo backend {chosen}; '
                          'unset PYOPENGL_PLATFORM or set it to the same value')
    os.environ['MUJOCO_GL'] = chosen
    if chosen in BACKENDS:
        os.environ['PYOPENGL_PLATFORM'] = chosen
    try:
        import mujoco
    except Exception as err:  # PyOpenGL fails with AttributeError/OSError when a library is missing
        raise ConfigError(f'MuJoCo cannot load with MUJOCO_GL={chosen} ({type(err).__name__}: {err}); '
                          f'install `{install_hint()}`') from err
    _chosen = chosen
    return mujoco


def backend() -> str | None:
    """Return the backend chosen in this process, or None before `load_mujoco`."""
    return _chosen
