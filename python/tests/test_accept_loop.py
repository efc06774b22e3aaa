"""wasio's `Server` accept loop against a fake listener, under CPython: an
accept that fails waits asyncio's retry delay before trying again, one that
would block waits for the listener.

    python3 test_accept_loop.py
"""

import asyncio
import errno
import sys
import unittest
from pathlib import Path
from unittest import mock

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from wasio import _errors, _loop, _wit, streams  # noqa: E402


class Err(Exception):
    """componentize-py's `Err`: a failed WIT call, its error in `value`."""

    def __init__(self, value):
        super().__init__(value)
        self.value = value


# The WIT errors the accept loop tells apart.
WOULD_BLOCK, CLOSED, OUT_OF_DESCRIPTORS = "would-block", "closed", "emfile"


class Listener:
    """A listening resource whose accepts fail with `errors`, in turn; the
    last one repeats."""

    def __init__(self, *errors):
        self.errors = list(errors)
        self.accepts = 0
        self.waits = 0

    def accept(self):
        self.accepts += 1
        error = self.errors.pop(0) if len(self.errors) > 1 else self.errors[0]
        raise Err(error)

    def subscribe(self):
        self.waits += 1

    def close(self):
        pass

    def __exit__(self, *exc_info):
        pass


async def ready_at_once(subscribe, future=None):
    """`_loop.wait` on a listener with a client in its queue: it subscribes
    and is ready at once."""
    subscribe()
    await asyncio.sleep(0)


class AcceptLoopTests(unittest.TestCase):
    def setUp(self):
        for target, name, value in [
            (_wit, "err_class", lambda: Err),
            (_errors, "is_would_block", lambda error: error == WOULD_BLOCK),
            (_errors, "is_closed", lambda error: error == CLOSED),
            (_errors, "to_exception", lambda error: OSError(errno.EMFILE, error)),
            (_loop, "wait", ready_at_once),
        ]:
            patch = mock.patch.object(target, name, value)
            patch.start()
            self.addCleanup(patch.stop)
        self.loop = asyncio.new_event_loop()
        self.addCleanup(self.loop.close)
        self.messages = []
        self.loop.set_exception_handler(lambda loop, ctx: self.messages.append(ctx))

    def serve(self, listener):
        server = streams.Server([listener], lambda reader, writer: None, 2**16, self.loop)
        self.loop.run_until_complete(server.start_serving())
        return server

    def run_for(self, seconds):
        self.loop.run_until_complete(asyncio.sleep(seconds))

    def test_the_retry_delay_is_asyncios(self):
        self.assertEqual(streams.ACCEPT_RETRY_DELAY, asyncio.constants.ACCEPT_RETRY_DELAY)

    def test_a_failed_accept_is_reported_and_retried_after_the_delay(self):
        listener = Listener(OUT_OF_DESCRIPTORS)
        with mock.patch.object(streams, "ACCEPT_RETRY_DELAY", 0.2):
            server = self.serve(listener)
            self.run_for(0.1)
            self.assertEqual(listener.accepts, 1, "retried before the delay")
            self.assertEqual([m["exception"].errno for m in self.messages], [errno.EMFILE])
            self.run_for(0.2)
            self.assertEqual(listener.accepts, 2)
            self.assertEqual(listener.waits, 0)
            server.close()
            self.run_for(0)

    def test_an_accept_that_would_block_waits_for_the_listener_only(self):
        listener = Listener(WOULD_BLOCK, WOULD_BLOCK, CLOSED)
        server = self.serve(listener)
        self.run_for(0.05)
        self.assertEqual((listener.accepts, listener.waits), (3, 2))
        self.assertEqual(self.messages, [])
        self.assertFalse(server._accepting[0].cancelled())
        self.assertTrue(server._accepting[0].done(), "the closed listener ends the loop")
        server.close()


if __name__ == "__main__":
    unittest.main(verbosity=2)
