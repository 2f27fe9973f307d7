"""The capture endpoint: Segment's HTTP Tracking API served on this machine."""

from inspector.core.capture.service import (
    CaptureConfig,
    CaptureError,
    CaptureService,
    CaptureThread,
    PortInUseError,
)

__all__ = ["CaptureConfig", "CaptureError", "CaptureService", "CaptureThread", "PortInUseError"]
