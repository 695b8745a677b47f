"""The exceptions gstpipe raises."""

from __future__ import annotations

import builtins
from typing import Optional


class Error(Exception):
    """Base class of every error gstpipe raises."""


class ParseError(Error, ValueError):
    """The pipeline description is not valid: bad syntax or an unknown element (missing plugin)."""


class PipelineError(Error):
    """An element failed (or the pipeline could not change state).

    Attributes:
        element: the name of the element that failed (``filesrc0``), or ``None``.
        domain: GStreamer's error domain (``gst-resource-error-quark``), when known.
        code: the error code within the domain, when known.
        debug: GStreamer's debug string (source location, element path, OS error).
        path: the element's path in the pipeline.
    """

    def __init__(
        self,
        message: str,
        element: Optional[str] = None,
        domain: Optional[str] = None,
        code: Optional[int] = None,
        debug: Optional[str] = None,
        path: Optional[str] = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.element = element
        self.domain = domain
        self.code = code
        self.debug = debug
        self.path = path


class GaveUpError(PipelineError):
    """A live source (``gstpipe.Live``) stopped reconnecting: ``max_reconnects`` attempts in a
    row delivered no frame. Raised by the iterator once every item before it was taken.

    Attributes (besides those of ``PipelineError``, taken from the last error when an element
    failed):
        attempts: how many reconnection attempts were made.
        last_error: the exception of the error that ended the last attempt (also the
            ``__cause__``).
    """

    def __init__(
        self,
        message: str,
        attempts: int = 0,
        last_error: Optional[BaseException] = None,
        element: Optional[str] = None,
        domain: Optional[str] = None,
        code: Optional[int] = None,
        debug: Optional[str] = None,
        path: Optional[str] = None,
    ) -> None:
        super().__init__(message, element, domain, code, debug, path)
        self.attempts = attempts
        self.last_error = last_error


class TimeoutError(Error, builtins.TimeoutError):  # noqa: A001 - the module's own name
    """A bounded wait ran out: no frame came, or the pipeline did not end in time.

    Also a builtin ``TimeoutError``.
    """


class OpenError(Error, OSError):
    """A file cannot be opened: the path does not exist or cannot be read, or the URI is not
    one GStreamer can read. Also an ``OSError``."""


class FrameError(Error, ValueError):
    """An array does not fit the frame or the caps (shape, dtype, layout), or a format is
    not representable as the array asked for. Also a ``ValueError``."""


__all__ = [
    "Error",
    "ParseError",
    "PipelineError",
    "GaveUpError",
    "TimeoutError",
    "FrameError",
    "OpenError",
]
