"""Model threads: each stream's calls on its one thread, results and errors back to the caller."""

import threading

import pytest
import torch

from physical_ai.core.runtime import thread as model_thread


def test_calls_from_any_thread_run_on_one_thread_and_return_their_result():
    seen = []

    def work(x):
        seen.append(threading.get_ident())
        return torch.ones(4).mul(x).sum().item()

    results = []
    callers = [threading.Thread(target=lambda i=i: results.append(model_thread.run(work, i)))
               for i in range(4)]
    for t in callers:
        t.start()
    for t in callers:
        t.join(10.0)
    assert sorted(results) == [0.0, 4.0, 8.0, 12.0]
    assert model_thread.run(work, 1) == 4.0  # and from this thread
    assert len(set(seen)) == 1 and seen[0] != threading.get_ident()
    assert not model_thread.on_model_thread()
    assert model_thread.run(model_thread.on_model_thread)


def test_an_error_reaches_the_caller_and_a_nested_call_runs_at_once():
    def fails():
        raise ValueError('bad frame')

    with pytest.raises(ValueError, match='bad frame'):
        model_thread.run(fails)
    # From the model thread itself a call must not wait for that thread (it would deadlock).
    assert model_thread.run(lambda: model_thread.run(lambda: 7)) == 7


def test_each_stream_has_one_thread_of_its_own():
    def ident():
        return threading.get_ident()

    first = {stream: model_thread.run(ident, stream=stream) for stream in range(3)}
    assert len(set(first.values())) == 3 and threading.get_ident() not in first.values()
    assert {stream: model_thread.run(ident, stream=stream) for stream in range(3)} == first
    assert model_thread.run(ident) == first[0]  # stream 0 is the process's model thread
    # A call made on one stream's thread for another stream goes to that stream's thread.
    assert model_thread.run(lambda: model_thread.run(ident, stream=1), stream=2) == first[1]
    with pytest.raises(ValueError, match='out of range'):
        model_thread.run(ident, stream=model_thread.MAX_STREAMS)


def test_nodes_claim_distinct_streams_and_a_loop_runs_on_its_stream():
    first = model_thread.claim(2)
    second = model_thread.claim(1)
    try:
        assert len(set(first + second)) == 3
        stop = threading.Event()

        def loop():
            stop.wait(10.0)
            elsewhere = model_thread.run(model_thread.current_stream, stream=second[0])
            return model_thread.current_stream(), elsewhere

        running = model_thread.start(loop, stream=first[1])
        assert not running.done()
        # The other streams answer while the loop holds its own.
        assert model_thread.run(model_thread.current_stream, stream=first[0]) == first[0]
        stop.set()
        assert running.result(10.0) == (first[1], second[0])
    finally:
        model_thread.release(first + second)
    assert model_thread.claim(3) == tuple(sorted(first + second))  # the lowest free ones again
    model_thread.release(tuple(sorted(first + second)))
