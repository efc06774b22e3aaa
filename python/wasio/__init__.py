"""asyncio streams for Python components, over wasio.

In a component built with componentize-py that imports
`wasio:streams/consumer@0.1.0` (a world from wasio's `python/wit`),
`wasio.install()` makes `asyncio.run` use an event loop that waits on
`wasi:io/poll` pollables, and makes `asyncio.open_connection`,
`asyncio.start_server`, `asyncio.open_unix_connection`,
`asyncio.start_unix_server` and `asyncio.StreamReader` resolve to wasio's,
so asyncio code written for CPython runs unchanged::

    import asyncio, wasio

    wasio.install()
    asyncio.run(main())

or, without changing `asyncio`, `wasio.run(main())` with the functions of
this module. Exceptions are asyncio's own (`IncompleteReadError`,
`LimitOverrunError`) and the built-in `OSError` subclasses
(`ConnectionResetError`, `ConnectionRefusedError`, `TimeoutError`, ...).

Over WASI 0.3 (the world `wasio:python/asyncio-p3`, which imports
`wasio:streams@0.2.0`) there is no event loop to install: `wasio.p3`'s
`open_connection` and streams are awaited on componentize-py's own loop.
"""

import asyncio
import runpy
import sys
import types
import warnings

from ._loop import Deadlock, EventLoop, EventLoopPolicy
from .streams import (
    Server,
    StreamReader,
    StreamWriter,
    open_connection,
    open_unix_connection,
    start_server,
    start_unix_server,
)

__all__ = (
    "Deadlock",
    "EventLoop",
    "EventLoopPolicy",
    "Server",
    "StreamReader",
    "StreamWriter",
    "install",
    "open_connection",
    "open_unix_connection",
    "run",
    "run_main",
    "start_server",
    "start_unix_server",
)

# What `install` replaces in `asyncio` and `asyncio.streams`.
_PATCHED = {
    "open_connection": open_connection,
    "start_server": start_server,
    "open_unix_connection": open_unix_connection,
    "start_unix_server": start_unix_server,
    "StreamReader": StreamReader,
    "StreamWriter": StreamWriter,
}


def install():
    """Make `asyncio` use wasio: new event loops are `wasio.EventLoop`s
    and the stream functions and classes are wasio's. Idempotent."""
    with warnings.catch_warnings():
        # Python 3.14 deprecates event-loop policies; asyncio.run still
        # asks the policy for a new loop.
        warnings.simplefilter("ignore", DeprecationWarning)
        asyncio.set_event_loop_policy(EventLoopPolicy())
    for name, value in _PATCHED.items():
        setattr(asyncio, name, value)
        setattr(asyncio.streams, name, value)


def run(main, *, debug=None):
    """`asyncio.run(main)` on a `wasio.EventLoop`."""
    with asyncio.Runner(debug=debug, loop_factory=EventLoop) as runner:
        return runner.run(main)


def run_main(module, argv=None, *, source=None):
    """Run `module` as `python -m module` would, with wasio installed: for
    a component's `wasi:cli/run` export. `source`, when given, is the
    module's code (a component holds modules, not their files). Returns
    the exit status: `sys.exit`'s argument, 0 when the module returns."""
    install()
    if argv is not None:
        sys.argv = list(argv)
    try:
        if source is None:
            runpy.run_module(module, run_name="__main__", alter_sys=True)
        else:
            # As runpy's alter_sys: the program is `sys.modules["__main__"]`.
            main = types.ModuleType("__main__")
            main.__file__ = f"{module}.py"
            saved = sys.modules.get("__main__")
            sys.modules["__main__"] = main
            try:
                exec(compile(source, main.__file__, "exec"), main.__dict__)
            finally:
                if saved is not None:
                    sys.modules["__main__"] = saved
    except SystemExit as exit_:
        code = exit_.code
        if code is None:
            return 0
        if isinstance(code, int):
            return code
        print(code, file=sys.stderr)
        return 1
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
    return 0
