"""The HTTP/1.1 protocol ``eligibility serve`` runs: httptools, with a bound on the head.

uvicorn parses HTTP/1.1 with h11 (pure Python) or httptools (llhttp, in C). httptools
costs about a fifth of h11's CPU per request (on loopback, ~0.025 against ~0.12 ms
for a small answer; ~10 % of a full single evaluation), but uvicorn offers no limit on
the size of a request's head with it, where h11 has ``h11_max_incomplete_event_size``.
:class:`BoundedHttpToolsProtocol` is uvicorn's httptools protocol with that limit:
a request whose request line and headers exceed ``max_head_bytes``
(:data:`~eligibility.limits.HTTP_MAX_HEADER_BYTES`) is answered with a 431 problem
and the connection is closed, whether the head arrives whole or a few bytes at a
time; memory held for a head stays within the limit plus one read. The count never
under-estimates a head: while a head is incomplete every byte received counts, except
the bytes of the same read that provably belonged to earlier messages (their bodies,
and their heads when those began in that read). ``eligibility serve`` uses it when
httptools is installed (the ``api`` extra) and h11 otherwise.
"""

from __future__ import annotations

from typing import Any

import httptools
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from eligibility.api.problems import ProblemError, build_problem
from eligibility.limits import HTTP_MAX_HEADER_BYTES


class HeadTooLarge(Exception):
    """Raised from a parser callback when a complete head is over the limit."""


def _refusal(limit: int) -> bytes:
    problem = build_problem(ProblemError(
        "header-too-large",
        f"the request line and headers are larger than the limit of {limit} bytes"),
        None, None)
    body = problem.model_dump_json(exclude_none=True).encode()
    return b"".join([STATUS_LINE[problem.status],
                     b"content-type: application/problem+json\r\n",
                     b"content-length: ", str(len(body)).encode(), b"\r\n",
                     b"connection: close\r\n\r\n", body])


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """See module docstring."""

    max_head_bytes: int = HTTP_MAX_HEADER_BYTES

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._in_head = False  # a message began and its headers are not complete
        self._head = 0  # an upper bound of the bytes of the incomplete head
        self._parsed = 0  # url and header bytes of the current head seen by callbacks
        self._began_here = False  # the current head began in the read being parsed
        self._elsewhere = 0  # bytes of this read that belong to earlier messages
        self._refused = False

    def data_received(self, data: bytes) -> None:
        if self._refused:
            return
        self._unset_keepalive_if_required()
        self._began_here = False
        self._elsewhere = 0
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserCallbackError as exc:
            if isinstance(exc.__context__, HeadTooLarge):
                self._refuse()
            else:
                self._invalid()
            return
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
            return
        except httptools.HttpParserError:
            self._invalid()
            return
        if self._in_head:
            self._head = (len(data) - self._elsewhere if self._began_here
                          else self._head + len(data))
            if self._head > self.max_head_bytes:
                self._refuse()

    def _invalid(self) -> None:
        msg = "Invalid HTTP request received."
        self.logger.warning(msg)
        self.send_400_response(msg)

    def _refuse(self) -> None:
        self._refused = True
        self.logger.warning("Request head over the limit of %d bytes.", self.max_head_bytes)
        self.transport.write(_refusal(self.max_head_bytes))
        self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._began_here = True
        self._parsed = 0

    def on_url(self, url: bytes) -> None:
        self._parsed += len(url)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._parsed += len(name) + len(value)
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        if self._parsed > self.max_head_bytes:
            raise HeadTooLarge
        self._in_head = False
        if self._began_here:  # every byte of this head came in this read
            self._elsewhere += self._parsed
        super().on_headers_complete()

    def on_body(self, body: bytes) -> None:
        self._elsewhere += len(body)
        super().on_body(body)
