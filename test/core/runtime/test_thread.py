"""The model thread: every call on one thread, results and errors back to the caller."""

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
