"""The component's imports, as componentize-py generated them.

componentize-py names an imported interface after its WIT name, qualified
with the package (`wasio_streams_streams`) only when another package uses
the same name (`wasi:io/streams`), so the module names depend on the world.
Each interface is found by trying the names it can have and checking for
a function or class only it has.
"""

import importlib

# interface -> (module names to try, an attribute that identifies it)
_INTERFACES = {
    "types": (
        ("wasio_streams_types", "types", "wasio_streams_types_0_1_0"),
        "Error_IncompleteRead",
    ),
    "streams": (
        ("wasio_streams_streams", "streams", "wasio_streams_streams_0_1_0"),
        "StreamReader",
    ),
    "tcp": (
        ("wasio_streams_tcp", "tcp", "wasio_streams_tcp_0_1_0"),
        "Connecting",
    ),
    "unix_streams": (
        (
            "wasio_streams_unix_streams",
            "unix_streams",
            "wasio_streams_unix_streams_0_1_0",
        ),
        "start_unix_server",
    ),
    "poll": (
        ("poll", "wasi_io_poll", "wasi_io_poll_0_2_12"),
        "poll",
    ),
    "monotonic_clock": (
        (
            "monotonic_clock",
            "wasi_clocks_monotonic_clock",
            "wasi_clocks_monotonic_clock_0_2_12",
        ),
        "subscribe_duration",
    ),
}

_found = {}


def interface(name):
    """The bindings module of the imported interface `name`.

    Raises `ImportError` naming the WIT interface the world must import.
    """
    module = _found.get(name)
    if module is not None:
        return module
    candidates, marker = _INTERFACES[name]
    for candidate in candidates:
        try:
            module = importlib.import_module("wit_world.imports." + candidate)
        except ImportError:
            continue
        if hasattr(module, marker):
            _found[name] = module
            return module
    wit = {
        "types": "wasio:streams/types@0.1.0",
        "streams": "wasio:streams/streams@0.1.0",
        "tcp": "wasio:streams/tcp@0.1.0",
        "unix_streams": "wasio:streams/unix-streams@0.1.0",
        "poll": "wasi:io/poll@0.2.12",
        "monotonic_clock": "wasi:clocks/monotonic-clock@0.2.12",
    }[name]
    raise ImportError(
        f"wasio needs the component to import {wit}; build it with a world "
        "from wasio's python/wit (for example wasio:python/asyncio)"
    )


def _resolve_all():
    """Find every interface now: componentize-py bundles the modules
    imported while it builds the component, and only those."""
    for name in _INTERFACES:
        try:
            interface(name)
        except ImportError:
            pass


def has_unix():
    """Whether the component imports `wasio:streams/unix-streams`."""
    try:
        interface("unix_streams")
    except ImportError:
        return False
    return True


def err_class():
    """componentize-py's `Err`, the exception a failed WIT call raises."""
    from componentize_py_types import Err

    return Err


_resolve_all()
