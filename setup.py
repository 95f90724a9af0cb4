"""Package setup: ament_python conventions, so colcon and pip install the same files."""

from glob import glob
import os

from setuptools import find_packages, setup

PACKAGE = 'physical_ai'

# Executables that ROS 2 tools find in lib/physical_ai (ros2 run, launch_ros Node actions).
NODE_EXECUTABLES = {
    'camera_node': 'physical_ai.nodes.entry:camera_node',
    'inference_node': 'physical_ai.nodes.entry:inference_node',
    'planner_node': 'physical_ai.nodes.entry:planner_node',
    'safety_node': 'physical_ai.nodes.entry:safety_node',
    'sim_node': 'physical_ai.nodes.entry:sim_node',
    'camera_mount_node': 'physical_ai.nodes.entry:camera_mount_node',
    'depth_node': 'physical_ai.nodes.entry:depth_node',
}


def tree(src, dst):
    """Return data_files entries that install every file below src under dst, keeping folders."""
    entries = {}
    for path in glob(os.path.join(src, '**', '*'), recursive=True):
        if os.path.isfile(path):
            rel = os.path.relpath(os.path.dirname(path), src)
            target = os.path.normpath(os.path.join(dst, rel))
            entries.setdefault(target, []).append(path)
    return sorted(entries.items())


setup(
    name=PACKAGE,
    version='0.1.0',
    packages=find_packages(exclude=['test', 'test.*']),
    package_data={PACKAGE: ['py.typed']},
    data_files=[
        ('share/ament_index/resource_index/packages', [f'resource/{PACKAGE}']),
        (f'share/{PACKAGE}', ['package.xml']),
        *tree('launch', f'share/{PACKAGE}/launch'),
        *tree('config', f'share/{PACKAGE}/config'),
        *tree('models', f'share/{PACKAGE}/models'),
    ],
    install_requires=['setuptools'],
    zip_safe=False,
    maintainer='physical_ai maintainers',
    maintainer_email='maintainers@physical-ai.dev',
    description='Perception-to-actuation ROS 2 stack: camera, TorchScript detection, planner, simulator.',
    license='Apache-2.0',
    tests_require=['pytest'],
    entry_points={
        'console_scripts': [
            'physical-ai = physical_ai.cli:main',
            *(f'{name} = {target}' for name, target in NODE_EXECUTABLES.items()),
        ],
    },
)
