"""Fleets across hosts: the operator console, the `network` command and the rig's probes (rclpy side).

The plain-Python parts (network profiles, the netns rig, fleet figures) are in
physical_ai.core.network; see docs/network.md.
"""
