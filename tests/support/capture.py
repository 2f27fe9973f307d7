"""A capture service running for the length of an ``async with`` block."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from inspector.core.capture import CaptureConfig, CaptureService


@asynccontextmanager
async def running(config: CaptureConfig) -> AsyncIterator[CaptureService]:
    """Start a service for ``config``; stop it (writing everything queued) on the way out."""
    service = CaptureService(config)
    await service.start()
    try:
        yield service
    finally:
        await service.stop()
