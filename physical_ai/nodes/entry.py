"""Console-script entry points of the nodes: signals handled before the heavy imports.

Importing a node module takes seconds (torch, MuJoCo). A Ctrl-C or SIGTERM in that time (a
launch file stopped early, a runner shutting down) ends the process quietly with exit code 0
instead of a KeyboardInterrupt traceback. `spin_nodes` installs its own handlers once nodes exist.
"""

from __future__ import annotations

import importlib
import os
import signal
import sys
from typing import NoReturn


def _early_stop(signum: int, _frame: object) -> NoReturn:
    print(f'{signal.Signals(signum).name} during start-up: stopped before any node was created',
          file=sys.stderr, flush=True)
    sys.stdout.flush()
    # Exit without unwinding: the signal may land while an import runs inside a C++ (pybind11)
    # call, where a SystemExit becomes a C++ exception and aborts the process. Nothing exists yet
    # that needs cleaning up.
    os._exit(0)


def _run(module: str) -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _early_stop)
    return importlib.import_module(module).main()


def camera_node() -> int:
    """Run the camera ingest node."""
    return _run('physical_ai.nodes.camera_node')


def inference_node() -> int:
    """Run the TorchScript inference node."""
    return _run('physical_ai.nodes.inference_node')


def planner_node() -> int:
    """Run the planner node."""
    return _run('physical_ai.nodes.planner_node')


def safety_node() -> int:
    """Run the safety gate node."""
    return _run('physical_ai.nodes.safety_node')


def sim_node() -> int:
    """Run the embedded simulator node."""
    return _run('physical_ai.nodes.sim_node')


def camera_mount_node() -> int:
    """Run the camera mount publisher (a static transform for robots without a URDF)."""
    return _run('physical_ai.nodes.camera_mount_node')


def depth_node() -> int:
    """Run the 3D stage (detections and depth to 3D detections)."""
    return _run('physical_ai.nodes.depth_node')
