"""The safety gate's logic, with no rclpy: the persistent e-stop latch and the command gate.

The gate is the last stage before a base (as Nav2's collision monitor and twist_mux sit in front
of a controller): it picks the command of the highest-priority fresh source, holds zero while the
e-stop is engaged or nothing fresh arrives, and applies the final speed and acceleration limits.
Every time here is on a steady clock given by the caller, never on ROS time.
"""

from physical_ai.core.safety.gate import Command, CommandGate, GateConfig, GateOutput, Source
from physical_ai.core.safety.latch import EStopLatch, LatchState, LatchStore, SampleOrder

__all__ = ['Command', 'CommandGate', 'EStopLatch', 'GateConfig', 'GateOutput', 'LatchState', 'LatchStore',
           'SampleOrder', 'Source']
