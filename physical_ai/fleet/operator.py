"""`physical-ai operator`: an operator station for a fleet across hosts.

Follows every robot (namespace) it is told of or finds: image and detection rates, camera frames
delivered, diagnostics; engages or releases one robot's e-stop or all of them. Commands come on
standard input, one per line: `e_stop robot1`, `e_stop all`, `release robot1`, `release all`,
`report`, `quit`. Figures print every --period seconds (--json: one JSON object per line).
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
import time
from typing import Any

from physical_ai.core.errors import ConfigError
from physical_ai.fleet import network_options


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Declare the command-line options of `physical-ai operator`."""
    parser.add_argument('--robots', default='', metavar='NS[,NS...]',
                        help='namespaces of the robots to follow (default: every one found)')
    parser.add_argument('--e-stop', dest='e_stop', default=None, metavar='ROBOT|all',
                        help='engage this e-stop at start (held for robots that join later)')
    parser.add_argument('--period', type=float, default=2.0, help='seconds between reports (0: none)')
    parser.add_argument('--duration', type=float, default=0.0, help='stop after this many seconds (0: never)')
    parser.add_argument('--json', action='store_true', help='print reports and events as JSON lines')
    network_options.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    """Run the station until quit, end of input with --duration, Ctrl-C or --duration."""
    try:
        network = network_options.settings(args, role='SUPER_CLIENT')
    except ConfigError as err:
        print(f'physical-ai operator: {err}', file=sys.stderr)
        return 1
    network_options.ensure_environment(network, ['-m', 'physical_ai.cli', 'operator', *sys.argv[2:]])

    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from rclpy.parameter import Parameter

    from physical_ai.nodes.operator_node import OperatorNode

    robots = [r for r in args.robots.split(',') if r.strip()]
    rclpy.init()
    node = OperatorNode(parameter_overrides=[Parameter('robots', value=robots)] if robots else [])
    executor = SingleThreadedExecutor()
    executor.add_node(node)
    stop = threading.Event()
    out = Output(args.json)
    if args.e_stop:
        _command(node, out, f'e_stop {args.e_stop}')
    threading.Thread(target=_console, args=(node, out, stop), daemon=True).start()
    started = time.monotonic()
    next_report = started + args.period if args.period > 0 else float('inf')
    try:
        while rclpy.ok() and not stop.is_set():
            executor.spin_once(timeout_sec=0.05)
            out.events(node)
            now = time.monotonic()
            if now >= next_report:
                out.report(node.report(), node.graph())
                next_report = now + args.period
            if args.duration and now - started >= args.duration:
                break
    except KeyboardInterrupt:
        pass
    finally:
        out.events(node)
        node.destroy_node()
        rclpy.try_shutdown()
    return 0


class Output:
    """Prints reports and e-stop events, as text or JSON lines."""

    def __init__(self, as_json: bool) -> None:
        self.as_json = as_json
        self._sent = 0
        self._lock = threading.Lock()

    def line(self, fields: dict[str, Any], text: str) -> None:
        """Print one event."""
        with self._lock:
            print(json.dumps({**fields, 't': fields.get('t', time.monotonic())}) if self.as_json else text,
                  flush=True)

    def events(self, node: Any) -> None:
        """Print the e-stop commands sent since the last call."""
        new = node.events[self._sent:]
        self._sent += len(new)
        for event in new:
            how = 'ENGAGED' if event['engaged'] else 'released'
            self.line(event, f'e_stop {how}: {event["robot"]}')

    def report(self, robots: dict[str, Any], graph: dict[str, list[str]]) -> None:
        """Print the fleet's figures (and, as JSON, the nodes and topics seen)."""
        lines = [f'{ns}: images {r["image_hz"]:.1f} Hz {r["image_size"]}, detections '
                 f'{r["detections_hz"]:.1f} Hz, delivered {r["camera_delivered"]}, e_stop {r["e_stop"]} '
                 f'({r.get("e_stop_listeners", 0)} listening)'
                 for ns, r in robots.items()]
        self.line({'event': 'report', 'robots': robots, **graph}, '\n'.join(lines) or '(no robots yet)')


def _command(node: Any, out: Output, line: str) -> bool:
    from physical_ai.core.network.fleet import parse_command

    try:
        verb, target = parse_command(line)
        if verb == 'e_stop':
            node.engage(target)
        elif verb == 'release':
            node.release(target)
        elif verb == 'report':
            out.report(node.report(), node.graph())
        elif verb == 'quit':
            return False
    except ConfigError as err:
        out.line({'event': 'error', 'error': str(err)}, f'error: {err}')
    return True


def _console(node: Any, out: Output, stop: threading.Event) -> None:
    for line in sys.stdin:
        if not _command(node, out, line):
            break
    else:
        return  # end of input: keep running (a station started with < /dev/null)
    stop.set()
