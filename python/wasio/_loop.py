"""An asyncio event loop that waits on `wasi:io/poll` pollables.

CPython's `BaseEventLoop` keeps the ready queue, timers, tasks and the
exception handler; its `_run_once` asks `self._selector.select(timeout)`
what became ready. Here that selector is `wasi:io/poll.poll` over the
pollables that waiting tasks registered (from wasio's `subscribe`
functions) plus a monotonic-clock pollable for the next timer, so
`asyncio.sleep`, `wait_for` and `timeout` work as on CPython.

Before each wait the loop sends what writers buffered, as asyncio's
transports do: a `write` only buffers (wasio coalesces writes), and a
writer whose bytes do not all fit in the socket is watched until they do.

componentize-py's `poll_loop.PollLoop` (for `wasi:http` worlds) keeps its
own list of `(pollable, future)` pairs in `loop.wakers`; `wait` uses it
when it runs on that loop instead.
"""

import asyncio
from asyncio import base_events, events

from . import _wit


class Deadlock(RuntimeError):
    """Every task waits and nothing (no pollable, no timer) can wake one."""


class _PollSelector:
    """The part of a selector `BaseEventLoop._run_once` uses: `select`."""

    def __init__(self):
        # id -> `_Wait` of each task waiting in `wait`
        self.waiters = {}
        self._next_id = 0
        # writers with bytes buffered since the loop last flushed
        self.dirty = set()
        # writers whose buffer did not fit into the socket: watched
        self.flushing = set()
        # writers half-closed (`write_eof`) whose end of file may still
        # wait inside wasio for the socket: pushed on a timer until the
        # connection ends (wasio's background flush waits on pollables
        # that only its blocking calls poll)
        self.half_closed = set()
        self._pump_interval = 0.001

    def add(self, waiting):
        self._next_id += 1
        self.waiters[self._next_id] = waiting
        return self._next_id

    def remove(self, key):
        self.waiters.pop(key, None)

    def _flush(self):
        """Send buffered writes; the writers that still hold bytes."""
        if self.dirty:
            self.flushing |= self.dirty
            self.dirty.clear()
        pending = []
        for writer in list(self.flushing):
            if writer._flush():
                pending.append(writer)
            else:
                self.flushing.discard(writer)
        return pending

    def select(self, timeout):
        poll = _wit.interface("poll")
        for writer in list(self.half_closed):
            if writer._done():
                self.half_closed.discard(writer)
        pumping = bool(self.half_closed)
        # Calls into wasio first (they may drop pollables, see `release`),
        # then the list of pollables to wait on.
        writers = self._flush()
        for writer in self.half_closed:
            writer._push_eof()
        writer_pollables = [writer._subscribe() for writer in writers]
        pollables = []
        owners = []
        for waiting in self.waiters.values():
            if waiting.future.done():
                # woken by `release`: its task must run first
                timeout = 0
                continue
            for pollable in waiting.pollables:
                pollables.append(pollable)
                owners.append(waiting.future)
        if pumping:
            # From 1 ms up to 100 ms between looks while nothing else wakes.
            interval = self._pump_interval
            self._pump_interval = min(0.1, interval * 2)
            timeout = interval if timeout is None else min(timeout, interval)
        else:
            self._pump_interval = 0.001
        try:
            pollables.extend(writer_pollables)
            if not pollables:
                if timeout is None:
                    raise Deadlock(
                        "every task waits and nothing can wake one "
                        "(no stream, server or timer is pending)"
                    )
                if timeout <= 0:
                    return []
            timer = None
            if timeout is not None:
                clock = _wit.interface("monotonic_clock")
                timer = clock.subscribe_duration(max(0, int(timeout * 1e9)))
                pollables.append(timer)
            try:
                ready = poll.poll(pollables)
            finally:
                if timer is not None:
                    timer.__exit__(None, None, None)
        finally:
            for pollable in writer_pollables:
                pollable.__exit__(None, None, None)
        events_ = []
        for index in ready:
            if index < len(owners):
                events_.append(owners[index])
        return events_

    def close(self):
        self.waiters.clear()
        self.half_closed.clear()
        self.dirty.clear()
        self.flushing.clear()


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


def _selector_for(writer):
    loop = writer._loop
    if loop is None:
        try:
            loop = events.get_running_loop()
        except RuntimeError:
            return None
    return _selector_of(loop)


def mark_dirty(writer):
    """Note that `writer` buffered bytes the loop must send."""
    selector = _selector_for(writer)
    if selector is not None:
        selector.dirty.add(writer)
    else:
        writer._flush()


def half_closed(writer):
    """Note that `writer` half-closed: its end of file may wait in wasio."""
    selector = _selector_for(writer)
    if selector is not None:
        selector.half_closed.add(writer)
        selector._pump_interval = 0.001


def forget(writer):
    """Stop sending for `writer` (it was aborted or dropped)."""
    selector = _selector_for(writer)
    if selector is not None:
        selector.dirty.discard(writer)
        selector.flushing.discard(writer)


class _Wait:
    """One task's wait on pollables; `drop` ends it early (the task wakes
    and calls again)."""

    __slots__ = ("pollables", "future", "owner")

    def __init__(self, pollables, future, owner):
        self.pollables = pollables
        self.future = future
        self.owner = owner

    def drop(self):
        if self.pollables is not None:
            _drop(self.pollables)
            self.pollables = None
        if not self.future.done():
            self.future.set_result(None)


# owner -> the waits on its pollables (see `release`)
_waits_by_owner = {}


def release(owner):
    """Drop every pollable that tasks wait on for `owner` (a connection or
    server) and wake those tasks: wasio traps when it drops a socket whose
    stream still has a pollable out, so this must precede `close`,
    `abort` and the like."""
    for waiting in list(_waits_by_owner.pop(owner, ())):
        waiting.drop()


async def wait(pollables, owner=None):
    """Wait until any of `pollables` is ready, then drop them all.

    The pollables are dropped when the wait ends in any way (ready,
    cancelled, `release(owner)`), before the resources they belong to
    can be.
    """
    loop = events.get_running_loop()
    selector = _selector_of(loop)
    if selector is None:
        wakers = getattr(loop, "wakers", None)
        if isinstance(wakers, list):
            await _wait_on_poll_loop(loop, wakers, pollables)
            return
        _drop(pollables)
        raise RuntimeError(
            f"wasio's streams need wasio's event loop, not {type(loop).__name__}: "
            "call wasio.install() before asyncio.run(), or use wasio.run()"
        )
    future = loop.create_future()
    waiting = _Wait(pollables, future, owner)
    key = selector.add(waiting)
    if owner is not None:
        _waits_by_owner.setdefault(owner, set()).add(waiting)
    try:
        await future
    finally:
        selector.remove(key)
        if owner is not None:
            waits = _waits_by_owner.get(owner)
            if waits is not None:
                waits.discard(waiting)
                if not waits:
                    del _waits_by_owner[owner]
        waiting.drop()


async def _wait_on_poll_loop(loop, wakers, pollables):
    """componentize-py's `PollLoop`: it drops a pollable once ready."""
    if len(pollables) == 1:
        future = loop.create_future()
        entry = (pollables[0], future)
        wakers.append(entry)
        try:
            await future
        except BaseException:
            if entry in wakers:
                wakers.remove(entry)
                _drop(pollables)
            raise
        return
    futures = []
    for pollable in pollables:
        future = loop.create_future()
        wakers.append((pollable, future))
        futures.append(future)
    try:
        await asyncio.wait(futures, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for entry in list(zip(pollables, futures)):
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
