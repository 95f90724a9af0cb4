"""physical_ai: a ROS 2 perception-to-actuation stack (camera, TorchScript detection, planner, simulator).

`physical_ai.core` holds the logic and imports no rclpy; `physical_ai.nodes` holds thin rclpy adapters.
"""

__version__ = '0.1.0'
