"""Mail senders: a small protocol, a console sender for development and an in-memory one for tests.

Plait sends password-reset links and registration notices through ``Auth(mail=...)``. Anything
with an ``async send(message)`` method fits; a production sender wraps an SMTP client or a mail
API::

    class PostmarkSender:
        async def send(self, message: EmailMessage) -> None:
            await client.post("/email", json={"To": message.to, "Subject": message.subject,
                                              "TextBody": message.body})

    app.install(Auth(mail=PostmarkSender()))
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from typing import Protocol, TextIO, runtime_checkable

__all__ = ["ConsoleMailSender", "EmailMessage", "MailSender", "MemoryMailSender"]


@dataclass(frozen=True, slots=True)
class EmailMessage:
    """One plain-text email."""

    to: str
    subject: str
    body: str


@runtime_checkable
class MailSender(Protocol):
    """What ``Auth(mail=...)`` accepts: an object with ``async send(message)``."""

    async def send(self, message: EmailMessage) -> None: ...


class ConsoleMailSender:
    """Writes each message to ``stream`` (standard output): the default, for development.

    >>> import anyio, io
    >>> out = io.StringIO()
    >>> anyio.run(ConsoleMailSender(out).send, EmailMessage("ada@example.com", "Hello", "Hi Ada"))
    >>> print(out.getvalue().strip())
    To: ada@example.com
    Subject: Hello
    <BLANKLINE>
    Hi Ada
    ----------------------------------------
    """

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream

    async def send(self, message: EmailMessage) -> None:
        stream = self.stream or sys.stdout
        stream.write(f"To: {message.to}\nSubject: {message.subject}\n\n{message.body}\n{'-' * 40}\n")
        stream.flush()


class MemoryMailSender:
    """Keeps every message in ``outbox`` (tests read them there).

    >>> import anyio
    >>> sender = MemoryMailSender()
    >>> anyio.run(sender.send, EmailMessage("ada@example.com", "Hello", "Hi"))
    >>> [m.to for m in sender.outbox]
    ['ada@example.com']
    """

    def __init__(self) -> None:
        self.outbox: list[EmailMessage] = []

    async def send(self, message: EmailMessage) -> None:
        self.outbox.append(message)
