"""HDR to SDR: the pixels of a frame as keyframes, models and the browser-playable copy show them.

Phones record HDR as HLG or PQ (BT.2100). Read as if it were SDR, such a picture is washed
out (HLG) or dark and flat (PQ). FFmpeg's scaler converts it properly (reference white to
white, BT.709 out), but its colour path costs about half a second a 4K frame, so each
transfer's conversion is read once, on a ramp of every 10-bit code value, into a table, and
frames go through the table: a plain 16-bit scale and one lookup per pixel. The table is a
grey ramp's, so colours keep BT.2020's primaries read as BT.709's (a little paler than a full
gamut mapping would make them; never washed out).
"""

from __future__ import annotations

from fractions import Fraction
from functools import cache

import av
import av.filter
import numpy as np
from av.video.reformatter import ColorPrimaries, ColorRange, Colorspace, ColorTrc

HDR = (ColorTrc.ARIB_STD_B67, ColorTrc.SMPTE2084)  # HLG, PQ
CODES = 1024  # 10-bit code values, what phones record


def is_hdr(frame: av.VideoFrame) -> bool:
    return frame.color_trc in HDR


def sdr_pixels(
    frame: av.VideoFrame, width: int, height: int, format: str = "rgb24", interpolation: str | None = None
) -> np.ndarray:
    """``frame`` scaled to ``width``×``height`` as 8-bit ``rgb24`` or ``bgr24`` pixels, HDR converted to SDR."""
    if not is_hdr(frame):
        return frame.reformat(width=width, height=height, format=format, interpolation=interpolation).to_ndarray()
    deep = frame.reformat(width=width, height=height, format="rgb48le", interpolation=interpolation).to_ndarray()
    rgb = _table(int(frame.color_trc))[deep.astype(np.uint16, copy=False) >> 6]
    return rgb if format == "rgb24" else np.ascontiguousarray(rgb[..., ::-1])


@cache
def _table(transfer: int) -> np.ndarray:
    """8-bit SDR value of each 10-bit code value of ``transfer``, as FFmpeg's scaler converts a grey of it."""
    graph = av.filter.Graph()
    source = graph.add("buffer", f"video_size={CODES}x2:pix_fmt=gbrp10le:time_base=1/1:colorspace=bt2020nc:range=pc")
    scale = graph.add("scale", "out_transfer=bt709:out_primaries=bt709:out_color_matrix=bt709:out_range=pc")
    to_8 = graph.add("format", "gbrp")
    sink = graph.add("buffersink")
    source.link_to(scale)
    scale.link_to(to_8)
    to_8.link_to(sink)
    graph.configure()
    grey = np.repeat(np.arange(CODES, dtype=np.uint16)[None, :, None], 3, axis=2)
    ramp = av.VideoFrame.from_ndarray(np.ascontiguousarray(np.repeat(grey, 2, axis=0)), format="gbrp10le")
    ramp.color_trc, ramp.color_primaries = ColorTrc(transfer), ColorPrimaries.BT2020
    ramp.colorspace, ramp.color_range = Colorspace.BT2020, ColorRange.JPEG
    ramp.pts, ramp.time_base = 0, Fraction(1, 1)
    graph.push(ramp)
    pulled = graph.pull()
    assert isinstance(pulled, av.VideoFrame)
    return pulled.to_ndarray()[0, :, 1].copy()  # gbrp as an array: the green plane first, a grey's any channel
