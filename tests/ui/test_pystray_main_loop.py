"""The pystray tray's main-thread loop: calls run in order on the main thread, before and after
the hand-over to Qt's invoker, and the loop wakes for them at once (not at its next tick)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from traycred.ui.pystray_app import MainLoop


def test_calls_from_threads_run_in_order_on_the_main_thread_then_go_to_the_forward() -> None:
    loop = MainLoop()
    ran: list[tuple[str, bool]] = []
    forwarded: list[Callable[[], Any]] = []

    def worker() -> None:
        for name in ("a", "b"):
            loop.call(lambda n=name: ran.append((n, loop.on_gui_thread())))
        answer = loop.call_and_wait(lambda: "c" if loop.on_gui_thread() else "wrong thread")
        ran.append((answer, True))
        loop.call(lambda: ran.append(("queued before the hand-over", loop.on_gui_thread())))
        loop.call(lambda: loop.forward_to(forwarded.append))

    thread = threading.Thread(target=worker)
    thread.start()
    ticks: list[int] = []
    loop.run(lambda: ticks.append(1), every=3600)  # returns once the calls hand over
    thread.join(5)

    assert ran == [("a", True), ("b", True), ("c", True), ("queued before the hand-over", True)]
    assert ticks == []  # woken by each call, never by the hour-long tick

    loop.call(lambda: ran.append(("after", True)))
    assert len(forwarded) == 1
    forwarded[0]()
    assert ran[-1] == ("after", True)


def test_stop_ends_the_loop_and_call_and_wait_on_the_main_thread_runs_directly() -> None:
    loop = MainLoop()
    assert loop.call_and_wait(lambda: 42) == 42
    threading.Timer(0.05, loop.stop).start()
    loop.run(lambda: None, every=3600)
    assert not loop.forwarding
