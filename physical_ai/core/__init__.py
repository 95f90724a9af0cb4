"""Core logic with no rclpy: image conversion, camera sources, detectors, planning, simulation."""
