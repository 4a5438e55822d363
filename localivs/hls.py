"""HLS playlists for the local stand-in of the Amazon IVS playback origin.

Pure functions: no Django, no database, no clock (the caller passes ``now``). The resolution levels are the
site's ladder (``viewers/resolutions.py``, pure Python too).

The media is a committed test pattern (``localivs/media/``, made by
``generate.sh``): for each rendition a few MPEG-TS segments of exactly
``SEGMENT_DURATION`` seconds, each starting on a keyframe.  A fake *live*
channel loops over them: the segment with media sequence number ``n`` is
``files[n % len(files)]``, and where the loop wraps (``n % len == 0``,
``n > 0``) the timestamps jump back, so the playlist puts an
``#EXT-X-DISCONTINUITY`` before that segment.

Sequence numbers follow wall-clock time: segment ``n`` covers
``[epoch + n*d, epoch + (n+1)*d)`` and the newest segment listed at ``now`` is
``floor((now - epoch) / d)``.  A segment's discontinuity sequence number is
``n // len(files)``, the same in every playlist refresh.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from viewers.resolutions import CLAIM_VALUES

MEDIA_DIR = Path(__file__).resolve().parent / "media"

#: Content-Type for .m3u8 playlists (multivariant and media).
PLAYLIST_CONTENT_TYPE = "application/vnd.apple.mpegurl"
#: Content-Type for .ts segments.
SEGMENT_CONTENT_TYPE = "video/mp2t"

#: Values of the playback token's ``aws:maximum-resolution`` claim, lowest first (the site's one ladder).
RESOLUTION_LEVELS: tuple[str, ...] = CLAIM_VALUES

#: Media playlists list this many segments by default (IVS-like short window).
DEFAULT_WINDOW = 3


@dataclass(frozen=True)
class Segment:
    file: str  # file name inside MEDIA_DIR
    duration: float  # seconds, exact


@dataclass(frozen=True)
class Rendition:
    name: str  # "sd", "hd": used in URLs
    max_resolution: str  # lowest aws:maximum-resolution level that allows it
    width: int
    height: int
    frame_rate: float
    bandwidth: int  # peak bits/s, HLS BANDWIDTH
    codecs: str  # exact RFC 6381 string, e.g. "avc1.4d401e"
    segments: tuple[Segment, ...]

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(s.file for s in self.segments)

    @property
    def segment_duration(self) -> float:
        return self.segments[0].duration

    @property
    def target_duration(self) -> int:
        return math.ceil(max(s.duration for s in self.segments))


def _load_renditions(path: Path) -> tuple[Rendition, ...]:
    data = json.loads(path.read_text())
    out = []
    for r in data["renditions"]:
        segments = tuple(Segment(s["file"], float(s["duration"])) for s in r["segments"])
        if not segments:
            raise ValueError(f"rendition {r['name']!r} has no segments")
        if len({s.duration for s in segments}) != 1:
            # live_media_playlist maps time to sequence numbers with one duration.
            raise ValueError(f"rendition {r['name']!r}: segments must all have the same duration")
        if r["max_resolution"] not in RESOLUTION_LEVELS:
            raise ValueError(f"rendition {r['name']!r}: bad max_resolution {r['max_resolution']!r}")
        out.append(
            Rendition(
                name=r["name"],
                max_resolution=r["max_resolution"],
                width=int(r["width"]),
                height=int(r["height"]),
                frame_rate=float(r["frame_rate"]),
                bandwidth=int(r["bandwidth"]),
                codecs=r["codecs"],
                segments=segments,
            )
        )
    out.sort(key=lambda r: (RESOLUTION_LEVELS.index(r.max_resolution), r.height, r.bandwidth))
    return tuple(out)


#: All renditions, lowest to highest.
RENDITIONS: tuple[Rendition, ...] = _load_renditions(MEDIA_DIR / "renditions.json")
_BY_NAME = {r.name: r for r in RENDITIONS}


def get_rendition(name: str) -> Rendition:
    """The rendition called ``name``; KeyError if there is none."""
    try:
        return _BY_NAME[name]
    except (KeyError, TypeError):
        raise KeyError(name) from None


def renditions_allowed(max_resolution: str | None) -> list[Rendition]:
    """Renditions a token with this ``aws:maximum-resolution`` may watch.

    None (claim absent) allows all; "SD" -> sd; "HD" -> sd, hd; "FULL_HD" -> all.
    Any other value raises ValueError (treat it as an invalid token).
    """
    if max_resolution is None:
        return list(RENDITIONS)
    if max_resolution not in RESOLUTION_LEVELS:
        raise ValueError(f"unknown aws:maximum-resolution {max_resolution!r}")
    limit = RESOLUTION_LEVELS.index(max_resolution)
    return [r for r in RENDITIONS if RESOLUTION_LEVELS.index(r.max_resolution) <= limit]


def multivariant_playlist(renditions: Iterable[Rendition], variant_uri: Callable[[Rendition], str]) -> str:
    """The multivariant (master) playlist listing ``renditions`` in the given order.

    ``variant_uri(rendition)`` gives each media playlist's URI (relative or absolute).
    The player sends ``?token=`` only on the multivariant request, so put whatever
    ties later requests to the session into these URIs.
    """
    renditions = list(renditions)
    if not renditions:
        raise ValueError("a multivariant playlist needs at least one rendition")
    lines = ["#EXTM3U", "#EXT-X-VERSION:3", "#EXT-X-INDEPENDENT-SEGMENTS"]
    for r in renditions:
        lines.append(
            f"#EXT-X-STREAM-INF:BANDWIDTH={r.bandwidth},RESOLUTION={r.resolution},"
            f'CODECS="{r.codecs}",FRAME-RATE={r.frame_rate:.3f}'
        )
        lines.append(_uri(variant_uri(r)))
    return "\n".join(lines) + "\n"


def live_sequence(now: float, segment_duration: float, epoch: float = 0.0) -> int:
    """Media sequence number of the newest segment at ``now`` (``floor((now-epoch)/d)``)."""
    if now < epoch:
        raise ValueError("now is before the epoch")
    return math.floor((now - epoch) / segment_duration)


def live_media_playlist(
    rendition: Rendition,
    now: float,
    segment_uri: Callable[[int], str],
    window: int = DEFAULT_WINDOW,
    epoch: float = 0.0,
    program_date_time: bool = True,
) -> str:
    """A live sliding-window media playlist (no ``#EXT-X-ENDLIST``) for ``now``.

    Lists sequences ``max(0, newest - window + 1) .. newest`` where
    ``newest = floor((now - epoch) / segment_duration)``; ``segment_uri(n)`` gives
    each segment's URI (serve ``segment_file(rendition.name, n)`` there).
    ``now`` and ``epoch`` are Unix timestamps (seconds).
    """
    if window < 1:
        raise ValueError("window must be >= 1")
    d = rendition.segment_duration
    loop = len(rendition.segments)
    newest = live_sequence(now, d, epoch)
    first = max(0, newest - window + 1)
    # Discontinuity tags sit before sequences loop, 2*loop, ...; those still in the
    # window stay listed, the ones before `first` have been removed and are counted.
    disc_seq = (first - 1) // loop if first > 0 else 0
    lines = [
        "#EXTM3U",
        "#EXT-X-VERSION:3",
        f"#EXT-X-TARGETDURATION:{rendition.target_duration}",
        f"#EXT-X-MEDIA-SEQUENCE:{first}",
        f"#EXT-X-DISCONTINUITY-SEQUENCE:{disc_seq}",
        "#EXT-X-INDEPENDENT-SEGMENTS",
    ]
    for n in range(first, newest + 1):
        seg = rendition.segments[n % loop]
        wraps = n > 0 and n % loop == 0
        if wraps:
            lines.append("#EXT-X-DISCONTINUITY")
        if program_date_time and (n == first or wraps):
            lines.append(f"#EXT-X-PROGRAM-DATE-TIME:{_iso(epoch + n * d)}")
        lines.append(f"#EXTINF:{seg.duration:.3f},")
        lines.append(_uri(segment_uri(n)))
    return "\n".join(lines) + "\n"


def segment_file(rendition_name: str, sequence: int | str) -> Path:
    """The committed file to serve for segment ``sequence`` of a rendition.

    Inputs come from URLs: an unknown rendition raises KeyError; a sequence that
    is not a non-negative integer (int or string of ASCII digits) raises ValueError.
    """
    rendition = get_rendition(rendition_name)
    if isinstance(sequence, bool):
        raise ValueError("sequence must be an integer")
    if isinstance(sequence, str):
        if not (sequence.isascii() and sequence.isdigit()) or len(sequence) > 18:
            raise ValueError(f"bad sequence number {sequence!r}")
        sequence = int(sequence)
    if not isinstance(sequence, int):
        raise ValueError("sequence must be an integer")
    if sequence < 0:
        raise ValueError("sequence must be >= 0")
    return MEDIA_DIR / rendition.segments[sequence % len(rendition.segments)].file


def _uri(uri: str) -> str:
    if not uri or any(c in uri for c in "\r\n") or uri.startswith("#"):
        raise ValueError(f"bad playlist URI {uri!r}")
    return uri


def _iso(ts: float) -> str:
    dt = datetime.fromtimestamp(ts, tz=UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


__all__ = [
    "DEFAULT_WINDOW",
    "MEDIA_DIR",
    "PLAYLIST_CONTENT_TYPE",
    "RENDITIONS",
    "RESOLUTION_LEVELS",
    "SEGMENT_CONTENT_TYPE",
    "Rendition",
    "Segment",
    "get_rendition",
    "live_media_playlist",
    "live_sequence",
    "multivariant_playlist",
    "renditions_allowed",
    "segment_file",
]
