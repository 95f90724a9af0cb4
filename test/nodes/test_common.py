"""Shared node helpers on real rclpy nodes: declared parameters, validation, diagnostics."""

import gc
import weakref

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus
import pytest
from rclpy.node import Node
from rclpy.parameter import Parameter

from physical_ai.core.errors import ConfigError
from physical_ai.nodes.common import Diagnostics, declare_params, freeze_start_up_objects
from physical_ai.params import ParamSpec

SPECS = (
    ParamSpec('rate', 20.0, 'Publish rate in Hz.', min_value=0.1, max_value=200.0),
    ParamSpec('mode', 'approach', 'Behaviour.', choices=('approach', 'follow')),
    ParamSpec('classes', [], 'Class filter; empty keeps all.', kind='string[]'),
    ParamSpec('model_path', '', 'Model file.', read_only=True),
    ParamSpec('threads', 2, 'Threads.', min_value=1, max_value=64),
)


def test_declared_with_descriptors_and_guarded_at_run_time(ros):
    node = ros.add(Node('common_params', context=ros.context))
    applied = []
    values = declare_params(node, SPECS, apply=applied.append)
    assert values == {'rate': 20.0, 'mode': 'approach', 'classes': [], 'model_path': '', 'threads': 2}
    desc = node.describe_parameter('rate')
    assert desc.description == 'Publish rate in Hz.'
    assert desc.floating_point_range[0].to_value == 200.0
    assert node.describe_parameter('threads').integer_range[0].from_value == 1
    assert node.describe_parameter('model_path').read_only

    ok = node.set_parameters([Parameter('rate', value=5.0)])[0]
    assert ok.successful and applied == [{'rate': 5.0}]
    bad = node.set_parameters([Parameter('mode', value='dance')])[0]
    assert not bad.successful and "'dance' is not accepted" in bad.reason
    assert node.get_parameter('mode').value == 'approach'
    bad = node.set_parameters([Parameter('rate', value=500.0)])[0]
    assert not bad.successful and 'out of range' in bad.reason
    assert node.set_parameters([Parameter('classes', value=['ball'])])[0].successful
    assert applied[-1] == {'classes': ['ball']}


def test_a_rule_across_parameters_sees_the_values_a_change_would_give(ros):
    node = ros.add(Node('common_together', context=ros.context))

    def together(values):
        if values['mode'] == 'follow' and values['rate'] < 10.0:
            raise ConfigError('mode follow needs rate >= 10 Hz')

    # The node keeps the returned values up to date in `apply`, as every node does.
    values = declare_params(node, SPECS, apply=lambda changed: values.update(changed),
                            check_together=together)
    refused = node.set_parameters_atomically(
        [Parameter('mode', value='follow'), Parameter('rate', value=5.0)])
    assert not refused.successful and 'rate >= 10 Hz' in refused.reason
    assert node.set_parameters([Parameter('mode', value='follow')])[0].successful
    assert values['mode'] == 'follow'
    refused = node.set_parameters([Parameter('rate', value=5.0)])[0]  # against the value kept
    assert not refused.successful and node.get_parameter('rate').value == 20.0


def test_start_up_value_out_of_spec_raises(ros):
    node = ros.add(Node('common_bad', context=ros.context,
                        parameter_overrides=[Parameter('mode', value='dance')]))
    with pytest.raises(ConfigError, match="parameter mode: 'dance' is not accepted"):
        declare_params(node, SPECS)


def test_diagnostics_published(ros):
    node = ros.add(Node('diag_node', context=ros.context))
    Diagnostics(node, 'health', lambda: ('warn', 'slow', {'rate_hz': 9.5, 'dropped': 3}), period=0.1)
    msg = ros.wait_for(DiagnosticArray, '/diagnostics', qos=10,
                       predicate=lambda m: m.status[0].name == 'diag_node: health')[0]
    status = msg.status[0]
    assert status.level == DiagnosticStatus.WARN and status.message == 'slow'
    assert {kv.key: kv.value for kv in status.values} == {'rate_hz': '9.5', 'dropped': '3'}


def test_start_up_objects_leave_the_collections():
    class Cycle:
        def __init__(self):
            self.me = self

    garbage = Cycle()
    dead = weakref.ref(garbage)
    del garbage  # a reference cycle: only a collection frees it
    kept = [[] for _ in range(1000)]  # alive at start-up: frozen
    try:
        freeze_start_up_objects()
        assert dead() is None  # collected before the freeze, not kept forever
        assert gc.get_freeze_count() >= len(kept)
    finally:
        gc.unfreeze()  # the rest of this test process collects as before
