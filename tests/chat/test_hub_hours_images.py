"""Pure pieces of chat: the local fan-out hub, business-hour arithmetic, image checks."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, time

import pytest
from PIL import Image

from shopdesk.chat.attachments import AttachmentError, check_image
from shopdesk.chat.broker import InProcessBroker, LocalHub
from shopdesk.chat.hours import Hours, Window, validate_windows


class FakeSocket:
    def __init__(self, fail: bool = False) -> None:
        self.frames: list[str] = []
        self.fail = fail

    async def send_text(self, data: str) -> None:
        if self.fail:
            raise RuntimeError("closed")
        self.frames.append(data)


def test_hub_delivers_to_addressed_users_and_staff_once() -> None:
    hub = LocalHub()
    a1, a2, other, staff, broken = (FakeSocket(), FakeSocket(), FakeSocket(), FakeSocket(),
                                    FakeSocket(fail=True))
    hub.add(1, a1)
    hub.add(1, a2)
    hub.add(2, other)
    hub.add(9, staff, staff=True)
    hub.add(3, broken)
    asyncio.run(hub.deliver([1, 3, 9], "f1", staff=True))
    assert (a1.frames, a2.frames, other.frames, staff.frames) == (["f1"], ["f1"], [], ["f1"])
    assert hub.remove(1, a1) == 1 and hub.remove(1, a2) == 0 and not hub.connected(1)
    assert hub.remove(42, FakeSocket()) == 0


def test_in_process_broker_sends_json() -> None:
    broker = InProcessBroker()
    s = FakeSocket()
    broker.hub.add(5, s)
    asyncio.run(broker.publish([5], {"type": "message", "conversation": 1}))
    assert s.frames == ['{"type": "message", "conversation": 1}']


def test_hours_across_dst_change() -> None:
    # Europe/London leaves summer time on 25 October 2026.
    hours = Hours("Europe/London", (Window(6, time(9), time(17)), Window(0, time(9), time(17))))
    sat = datetime(2026, 10, 24, 18, 0, tzinfo=UTC)
    assert hours.next_opening(sat) == datetime(2026, 10, 25, 9, 0, tzinfo=UTC)
    assert hours.is_open(datetime(2026, 10, 25, 16, 59, tzinfo=UTC))
    assert not hours.is_open(datetime(2026, 10, 25, 17, 0, tzinfo=UTC))
    assert Hours("UTC", ()).next_opening(sat) is None


def test_validate_windows() -> None:
    validate_windows([Window(0, time(9), time(12)), Window(0, time(12), time(0))])
    with pytest.raises(ValueError, match="overlap"):
        validate_windows([Window(0, time(20), time(0)), Window(0, time(21), time(22))])
    with pytest.raises(ValueError, match="before it opens"):
        validate_windows([Window(0, time(12), time(12))])


def image(fmt: str, size: tuple[int, int] = (8, 8)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size).save(buf, format=fmt)
    return buf.getvalue()


@pytest.mark.parametrize(("fmt", "ctype"), [("PNG", "image/png"), ("JPEG", "image/jpeg"),
                                            ("GIF", "image/gif"), ("WEBP", "image/webp")])
def test_check_image_accepts_the_four_formats(fmt: str, ctype: str) -> None:
    checked = check_image(image(fmt), 100_000, 1_000)
    assert (checked.content_type, checked.width, checked.height) == (ctype, 8, 8)


@pytest.mark.parametrize(("data", "code"), [
    (b"", "empty_file"),
    (b"GIF89a" + b"\0" * 10, "unsupported_type"),
    (image("PNG")[:40], "unsupported_type"),
    (image("PNG", (50, 50)), "image_too_large"),
    (image("TIFF"), "unsupported_type"),
])
def test_check_image_refusals(data: bytes, code: str) -> None:
    with pytest.raises(AttachmentError) as exc:
        check_image(data, 100_000, 1_000)
    assert exc.value.code == code
