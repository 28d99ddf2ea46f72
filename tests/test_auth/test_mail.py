"""The mail senders."""

from __future__ import annotations

import io

import pytest

from plait.auth.mail import ConsoleMailSender, EmailMessage, MailSender, MemoryMailSender

pytestmark = pytest.mark.anyio


async def test_console_sender_writes_the_message(capsys: pytest.CaptureFixture[str]) -> None:
    await ConsoleMailSender().send(EmailMessage("ada@example.com", "Hi", "Body text"))
    out = capsys.readouterr().out
    assert out.startswith("To: ada@example.com\nSubject: Hi\n\nBody text\n")
    stream = io.StringIO()
    await ConsoleMailSender(stream).send(EmailMessage("b@example.com", "S", "B"))
    assert "To: b@example.com" in stream.getvalue()


async def test_memory_sender_and_the_protocol() -> None:
    sender = MemoryMailSender()
    await sender.send(EmailMessage("ada@example.com", "Hi", "Body"))
    assert sender.outbox == [EmailMessage("ada@example.com", "Hi", "Body")]
    assert isinstance(sender, MailSender)
    assert isinstance(ConsoleMailSender(), MailSender)
