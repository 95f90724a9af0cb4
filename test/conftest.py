"""Fixtures: an isolated rclpy context per test and real node processes, all on loopback DDS."""

from __future__ import annotations

from collections.abc import Iterator
import os
from pathlib import Path

import pytest

from physical_ai.testing import NodeProcess, RosTest, isolate_environment

# Before any participant exists: loopback-only DDS, a domain id of this run's own, logs in /tmp.
DOMAIN_ID = isolate_environment()


def pytest_report_header(config: pytest.Config) -> str:
    return (f'ROS_DOMAIN_ID={DOMAIN_ID} (held for this run), DDS profile '
            f'{os.environ["FASTDDS_DEFAULT_PROFILES_FILE"]}, ROS logs in {os.environ["ROS_LOG_DIR"]}')


@pytest.fixture
def ros() -> Iterator[RosTest]:
    """Yield an rclpy context of its own with a spinning executor; torn down after the test."""
    harness = RosTest()
    try:
        yield harness
    finally:
        harness.shutdown()


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[list[NodeProcess]]:
    """Yield a list for processes the test starts; each is stopped with SIGINT afterwards."""
    started: list[NodeProcess] = []
    yield started
    for proc in started:
        proc.stop()


@pytest.fixture
def spawn(processes: list[NodeProcess], tmp_path: Path):
    """Start a command as a real process in this run's ROS environment; stopped after the test."""

    def start(args: list[str], name: str = 'node', env: dict[str, str] | None = None) -> NodeProcess:
        proc = NodeProcess(args, tmp_path, env=env, name=name)
        processes.append(proc)
        return proc

    return start
