"""wasio's `error` variant as the exceptions asyncio raises.

One table maps each case to the exception CPython's asyncio (or the socket
underneath it) raises in the same situation, so `except` clauses written
for CPython catch them unchanged.
"""

import asyncio
import errno
import os
import socket

from . import _wit


class WouldBlock(Exception):
    """Internal: a non-blocking call answered `would-block`."""


def _oserror(code, fallback):
    return OSError(code, os.strerror(code) if code else fallback)


def to_exception(error, *, readline=False):
    """The Python exception for the WIT `error` value `error`.

    `readline` selects asyncio's `readline` translation of a limit overrun
    (`ValueError`) instead of `LimitOverrunError`.
    """
    types = _wit.interface("types")
    if isinstance(error, types.Error_IncompleteRead):
        value = error.value
        return asyncio.IncompleteReadError(bytes(value.partial), value.expected)
    if isinstance(error, types.Error_LimitOverrun):
        value = error.value
        if value.separator_found:
            message = "Separator is found, but chunk is longer than limit"
        else:
            message = "Separator is not found, and chunk exceed the limit"
        if readline:
            return ValueError(message)
        return asyncio.LimitOverrunError(message, value.consumed)
    if isinstance(error, types.Error_ConcurrentRead):
        return RuntimeError(
            "read() called while another coroutine is already waiting for incoming data"
        )
    if isinstance(error, types.Error_InvalidArgument):
        return ValueError(error.value)
    if isinstance(error, types.Error_InvalidState):
        return RuntimeError(error.value)
    if isinstance(error, types.Error_Closed):
        return ConnectionResetError("Connection lost")
    if isinstance(error, types.Error_WouldBlock):
        return WouldBlock()
    if isinstance(error, types.Error_TimedOut):
        return TimeoutError(errno.ETIMEDOUT, os.strerror(errno.ETIMEDOUT))
    if isinstance(error, types.Error_ConnectionRefused):
        return ConnectionRefusedError(errno.ECONNREFUSED, "Connection refused")
    if isinstance(error, types.Error_ConnectionReset):
        return ConnectionResetError(errno.ECONNRESET, "Connection reset by peer")
    if isinstance(error, types.Error_ConnectionAborted):
        return ConnectionAbortedError(errno.ECONNABORTED, "Connection aborted")
    if isinstance(error, types.Error_BrokenPipe):
        return BrokenPipeError(errno.EPIPE, "Broken pipe")
    if isinstance(error, types.Error_AccessDenied):
        return PermissionError(errno.EACCES, "Permission denied")
    if isinstance(error, types.Error_AddressInUse):
        return _oserror(errno.EADDRINUSE, "Address already in use")
    if isinstance(error, types.Error_AddressNotAvailable):
        return _oserror(errno.EADDRNOTAVAIL, "Cannot assign requested address")
    if isinstance(error, types.Error_RemoteUnreachable):
        return _oserror(errno.EHOSTUNREACH, "No route to host")
    if isinstance(error, types.Error_NameUnresolvable):
        return socket.gaierror(
            getattr(socket, "EAI_NONAME", -2), "Name or service not known"
        )
    if isinstance(error, types.Error_NotConnected):
        return _oserror(errno.ENOTCONN, "Transport endpoint is not connected")
    if isinstance(error, types.Error_Other):
        return OSError(error.value)
    return OSError(repr(error))


def is_would_block(error):
    return isinstance(error, _wit.interface("types").Error_WouldBlock)


def is_closed(error):
    return isinstance(error, _wit.interface("types").Error_Closed)


def is_invalid_state(error):
    return isinstance(error, _wit.interface("types").Error_InvalidState)
