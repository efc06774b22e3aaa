"""An asyncio event loop that waits on `wasi:io/poll` pollables.

CPython's `BaseEventLoop` keeps the ready queue, timers, tasks and the
exception handler; its `_run_once` asks `self._selector.select(timeout)`
what became ready. Here that selector is `wasi:io/poll.poll` over the
pollables of what tasks wait for, plus a monotonic-clock pollable for the
next timer, so `asyncio.sleep`, `wait_for` and `timeout` work as on
CPython.

A waiting task leaves the selector a function that subscribes (a
resource's `subscribe`), not a pollable: the selector takes every
pollable right before it polls and drops them all right after. So no
pollable outlives the poll it was taken for (a resource can be dropped at
any time between two polls), and each reflects what wasio took in up to
that moment: any call into wasio may read a socket ahead, which a
pollable taken earlier would not see.

Before each wait the loop also has wasio send what writers buffered, as
asyncio's transports do: a `write` only buffers (wasio coalesces writes),
and a writer whose bytes or end of file did not all go out is watched
until they have.

componentize-py's `poll_loop.PollLoop` (for `wasi:http` worlds) keeps its
own list of `(pollable, future)` pairs in `loop.wakers`; `wait` uses it
when it runs on that loop instead.
"""

import asyncio
from asyncio import base_events, events

from . import _wit


class Deadlock(RuntimeError):
    """Every task waits and nothing (no pollable, no timer) can wake one."""


# How long a poll may last while a wait has no pollable (see `wait`): from
# the first value, doubling while nothing happens, up to the second.
_RECHECK_FIRST = 0.001
_RECHECK_MOST = 0.1


class _PollSelector:
    """The part of a selector `BaseEventLoop._run_once` uses: `select`."""

    def __init__(self):
        # future -> the function that subscribes for it (None: look again
        # after every poll, see `recheck`)
        self.waiters = {}
        # writers with something to send since the loop last looked
        self.writers = set()
        self._recheck_after = _RECHECK_FIRST

    def select(self, timeout):
        # Sending first: a writer's `drain` and `subscribe` make wasio send
        # (and read ahead), so the waiters' pollables are taken after them.
        pollables = []
        sending = []
        for writer in list(self.writers):
            pollable = writer._sending()
            if pollable is None:
                self.writers.discard(writer)
            else:
                pollables.append(pollable)
                sending.append(writer)
        owners = []
        rechecks = []
        for future, subscribe in list(self.waiters.items()):
            if future.done():
                continue
            if subscribe is None:
                rechecks.append(future)
                continue
            taken = subscribe()
            if not isinstance(taken, list):
                taken = [taken]
            pollables.extend(taken)
            owners.extend([future] * len(taken))
        # A later `subscribe` never empties a pollable taken before it
        # (wasio leaves a socket whose pollable is out to the read it
        # announces), so only a wait with no pollable is looked at again
        # after a short poll.
        capped = bool(rechecks)
        if capped:
            cap = self._recheck_after
            timeout = cap if timeout is None else min(timeout, cap)
        timer = None
        try:
            if not pollables:
                if timeout is None:
                    raise Deadlock(
                        "every task waits and nothing can wake one "
                        "(no stream, server or timer is pending)"
                    )
                if timeout <= 0:
                    return rechecks
            if timeout is not None:
                clock = _wit.interface("monotonic_clock")
                timer = clock.subscribe_duration(max(0, int(timeout * 1e9)))
                pollables.append(timer)
            ready = _wit.interface("poll").poll(pollables)
        finally:
            _drop(pollables)
        woken = []
        for index in ready:
            if index < len(sending):
                sending[index]._output_ready()
            elif index < len(sending) + len(owners):
                woken.append(owners[index - len(sending)])
        if capped:
            timer_index = len(pollables) - 1 if timer is not None else None
            if any(index != timer_index for index in ready):
                self._recheck_after = _RECHECK_FIRST
            else:
                self._recheck_after = min(
                    _RECHECK_MOST, max(_RECHECK_FIRST, 2 * self._recheck_after)
                )
        return woken + rechecks

    def changed(self):
        """Something a wait without a pollable looks for may have changed:
        look again at once."""
        self._recheck_after = 0

    def close(self):
        self.waiters.clear()
        self.writers.clear()


class EventLoop(base_events.BaseEventLoop):
    """asyncio's event loop for a component: everything `BaseEventLoop`
    offers (tasks, futures, `call_soon`, `call_later`, timeouts), waiting
    through `wasi:io/poll`. Streams come from `wasio.open_connection` and
    `wasio.start_server`; `create_connection` and other transport-level
    calls are not available.
    """

    def __init__(self):
        super().__init__()
        self._selector = _PollSelector()

    def _process_events(self, event_list):
        for future in event_list:
            if not future.done():
                future.set_result(None)

    def _write_to_self(self):
        # Only one thread runs in a component: nothing to wake.
        pass

    def close(self):
        super().close()
        self._selector.close()

    def _unsupported(self, what):
        raise NotImplementedError(
            f"{what} is not available in a component; use wasio's streams "
            "(asyncio.open_connection / asyncio.start_server after wasio.install())"
        )

    async def create_connection(self, *args, **kwargs):
        self._unsupported("loop.create_connection")

    async def create_server(self, *args, **kwargs):
        self._unsupported("loop.create_server")

    async def create_unix_connection(self, *args, **kwargs):
        self._unsupported("loop.create_unix_connection")

    async def create_unix_server(self, *args, **kwargs):
        self._unsupported("loop.create_unix_server")

    async def getaddrinfo(self, *args, **kwargs):
        self._unsupported("loop.getaddrinfo")

    def run_in_executor(self, executor, func, *args):
        self._unsupported("loop.run_in_executor")


def _selector_of(loop):
    selector = getattr(loop, "_selector", None)
    if isinstance(selector, _PollSelector):
        return selector
    return None


def _current_selector():
    try:
        return _selector_of(events.get_running_loop())
    except RuntimeError:
        return None


def sending(writer):
    """Note that `writer` has bytes or an end of file for wasio to send:
    the loop has them sent before it next waits (`writer._sending()`)."""
    selector = _selector_of(writer._loop) or _current_selector()
    if selector is not None:
        selector.writers.add(writer)
    else:
        pollable = writer._sending()
        if pollable is not None:
            _drop([pollable])


def forget(writer):
    """Stop sending for `writer` (it was aborted)."""
    selector = _selector_of(writer._loop) or _current_selector()
    if selector is not None:
        selector.writers.discard(writer)


def changed():
    """A stream was closed or aborted: pollable-less waits look again soon."""
    selector = _current_selector()
    if selector is not None:
        selector.changed()


async def wait(subscribe, future=None):
    """Wait until a pollable that `subscribe()` returns (one or a list) is
    ready, or `future` (if given) is done.

    `subscribe` is called right before each poll; with `None`, the wait
    ends after the next poll, however short (for conditions wasio has no
    pollable for).
    """
    loop = events.get_running_loop()
    selector = _selector_of(loop)
    if future is None:
        future = loop.create_future()
    if selector is None:
        wakers = getattr(loop, "wakers", None)
        if isinstance(wakers, list):
            if subscribe is None:
                await asyncio.sleep(_RECHECK_MOST)
            else:
                await _wait_on_poll_loop(loop, wakers, subscribe, future)
            return
        raise RuntimeError(
            f"wasio's streams need wasio's event loop, not {type(loop).__name__}: "
            "call wasio.install() before asyncio.run(), or use wasio.run()"
        )
    selector.waiters[future] = subscribe
    try:
        await future
    finally:
        selector.waiters.pop(future, None)


async def recheck():
    """Wait until the loop has polled once more (see `wait`)."""
    await wait(None)


async def _wait_on_poll_loop(loop, wakers, subscribe, future):
    """componentize-py's `PollLoop`: it polls each pollable in `wakers` and
    drops it once ready."""
    pollables = subscribe()
    if not isinstance(pollables, list):
        pollables = [pollables]
    entries = []
    for pollable in pollables:
        ready = loop.create_future()
        ready.add_done_callback(lambda _: future.done() or future.set_result(None))
        entries.append((pollable, ready))
        wakers.append(entries[-1])
    try:
        await future
    finally:
        for entry in entries:
            if entry in wakers:
                wakers.remove(entry)
                _drop([entry[0]])


def _drop(pollables):
    for pollable in pollables:
        pollable.__exit__(None, None, None)


# Python 3.14 renamed the base policy (policies are deprecated there).
_BasePolicy = getattr(events, "BaseDefaultEventLoopPolicy", None) or getattr(
    events, "_BaseDefaultEventLoopPolicy"
)


class EventLoopPolicy(_BasePolicy):
    """The policy `wasio.install()` sets: new loops are `EventLoop`s."""

    def new_event_loop(self):
        return EventLoop()
