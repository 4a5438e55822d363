"""Unit tests for localivs.hls: pure playlist writing, no Django, no database."""

import json
import re
import subprocess

import pytest

from localivs import hls

SD, HD = hls.get_rendition("sd"), hls.get_rendition("hd")


def seg_uri(n):
    return f"seg/{n}.ts"


def parse_media(text):
    """Return (headers dict, list of segment dicts with uri/duration/discontinuity/pdt)."""
    lines = text.splitlines()
    assert lines[0] == "#EXTM3U"
    headers, segments, pending = {}, [], {"discontinuity": False, "pdt": None}
    for line in lines[1:]:
        assert line, "no blank lines"
        if line == "#EXT-X-DISCONTINUITY":
            pending["discontinuity"] = True
        elif line.startswith("#EXT-X-PROGRAM-DATE-TIME:"):
            pending["pdt"] = line.split(":", 1)[1]
        elif line.startswith("#EXTINF:"):
            pending["duration"] = float(line[len("#EXTINF:") :].rstrip(","))
        elif line.startswith("#"):
            key, _, value = line[1:].partition(":")
            headers[key] = value
        else:
            segments.append({**pending, "uri": line})
            pending = {"discontinuity": False, "pdt": None}
    return headers, segments


def seq_of(uri):
    return int(re.fullmatch(r"seg/(\d+)\.ts", uri)[1])


# --- renditions ----------------------------------------------------------------------------------


def test_renditions_ordered_lowest_first():
    assert [r.name for r in hls.RENDITIONS] == ["sd", "hd"]
    assert [r.max_resolution for r in hls.RENDITIONS] == ["SD", "HD"]
    assert SD.resolution == "640x360" and HD.resolution == "1280x720"
    assert SD.bandwidth < HD.bandwidth


def test_rendition_metadata_is_exact():
    assert SD.codecs == "avc1.4d401e"
    assert HD.codecs == "avc1.4d401f"
    for r in hls.RENDITIONS:
        assert r.frame_rate == 15.0
        assert len(r.segments) >= 3
        assert all(s.duration == 2.0 for s in r.segments)
        assert r.target_duration == 2


def test_committed_media_files_exist_and_are_small():
    total = 0
    for r in hls.RENDITIONS:
        for s in r.segments:
            p = hls.MEDIA_DIR / s.file
            assert p.is_file(), p
            data = p.read_bytes()
            assert data[0] == 0x47 and data[188] == 0x47, "MPEG-TS sync bytes"
            assert len(data) % 188 == 0
            total += len(data)
    assert total < 400_000


def test_renditions_json_matches_loaded_constants():
    data = json.loads((hls.MEDIA_DIR / "renditions.json").read_text())
    by_name = {r["name"]: r for r in data["renditions"]}
    for r in hls.RENDITIONS:
        assert [s["file"] for s in by_name[r.name]["segments"]] == list(r.files)


@pytest.mark.skipif(
    subprocess.run(["which", "ffprobe"], capture_output=True).returncode != 0, reason="ffprobe not installed"
)
def test_segments_match_declared_resolution_and_start_on_keyframes():
    for r in hls.RENDITIONS:
        for s in r.segments:
            out = subprocess.run(
                [
                    "ffprobe",
                    "-v",
                    "error",
                    "-select_streams",
                    "v:0",
                    "-show_entries",
                    "stream=width,height,profile:packet=flags",
                    "-of",
                    "json",
                    str(hls.MEDIA_DIR / s.file),
                ],
                capture_output=True,
                text=True,
                check=True,
            ).stdout
            info = json.loads(out)
            stream = info["streams"][0]
            assert (stream["width"], stream["height"]) == (r.width, r.height)
            assert stream["profile"] == "Main"
            packets = info["packets"]
            assert packets[0]["flags"].startswith("K")
            assert len(packets) == round(s.duration * r.frame_rate)


@pytest.mark.parametrize(
    ("claim", "names"),
    [(None, ["sd", "hd"]), ("SD", ["sd"]), ("HD", ["sd", "hd"]), ("FULL_HD", ["sd", "hd"])],
)
def test_renditions_allowed(claim, names):
    assert [r.name for r in hls.renditions_allowed(claim)] == names


@pytest.mark.parametrize("claim", ["", "sd", "UHD", "4K", "FULL HD", 1])
def test_renditions_allowed_rejects_unknown_levels(claim):
    with pytest.raises(ValueError):
        hls.renditions_allowed(claim)


def test_get_rendition_unknown():
    with pytest.raises(KeyError):
        hls.get_rendition("fhd")
    with pytest.raises(KeyError):
        hls.get_rendition(None)


# --- multivariant --------------------------------------------------------------------------------


def test_multivariant_playlist():
    text = hls.multivariant_playlist(hls.RENDITIONS, lambda r: f"/s/abc/{r.name}.m3u8")
    assert text == (
        "#EXTM3U\n"
        "#EXT-X-VERSION:3\n"
        "#EXT-X-INDEPENDENT-SEGMENTS\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH={SD.bandwidth},RESOLUTION=640x360,CODECS="avc1.4d401e",FRAME-RATE=15.000\n'
        "/s/abc/sd.m3u8\n"
        f'#EXT-X-STREAM-INF:BANDWIDTH={HD.bandwidth},RESOLUTION=1280x720,CODECS="avc1.4d401f",FRAME-RATE=15.000\n'
        "/s/abc/hd.m3u8\n"
    )
    assert "#EXT-X-ENDLIST" not in text


def test_multivariant_playlist_sd_only():
    text = hls.multivariant_playlist(hls.renditions_allowed("SD"), lambda r: f"{r.name}.m3u8")
    assert text.count("#EXT-X-STREAM-INF") == 1
    assert "1280x720" not in text and "hd.m3u8" not in text


def test_multivariant_playlist_rejects_empty_and_bad_uris():
    with pytest.raises(ValueError):
        hls.multivariant_playlist([], lambda r: "x.m3u8")
    for bad in ["", "a\nb.m3u8", "#x", "a\r.m3u8"]:
        with pytest.raises(ValueError):
            hls.multivariant_playlist([SD], lambda r, bad=bad: bad)


# --- live media playlist -------------------------------------------------------------------------


def test_live_playlist_at_epoch_has_one_segment():
    headers, segs = parse_media(hls.live_media_playlist(SD, 1000.0, seg_uri, epoch=1000.0))
    assert headers["EXT-X-MEDIA-SEQUENCE"] == "0"
    assert headers["EXT-X-DISCONTINUITY-SEQUENCE"] == "0"
    assert [s["uri"] for s in segs] == ["seg/0.ts"]
    assert segs[0]["pdt"] == "1970-01-01T00:16:40.000Z"


def test_live_playlist_shape():
    text = hls.live_media_playlist(SD, 7.9, seg_uri)
    assert text.endswith("\n")
    assert "#EXT-X-ENDLIST" not in text
    assert "#EXT-X-PLAYLIST-TYPE" not in text
    headers, segs = parse_media(text)
    assert headers["EXT-X-VERSION"] == "3"
    assert headers["EXT-X-TARGETDURATION"] == "2"
    assert headers["EXT-X-MEDIA-SEQUENCE"] == "1"
    assert [s["uri"] for s in segs] == ["seg/1.ts", "seg/2.ts", "seg/3.ts"]
    assert all(s["duration"] == 2.0 for s in segs)
    assert not any(s["discontinuity"] for s in segs)


def test_media_sequence_rises_with_wall_clock():
    epoch = 1_700_000_000.0
    seen = []
    for i in range(40):
        now = epoch + i * 0.5
        headers, segs = parse_media(hls.live_media_playlist(HD, now, seg_uri, window=3, epoch=epoch))
        newest = int((now - epoch) // 2)
        first = max(0, newest - 2)
        assert int(headers["EXT-X-MEDIA-SEQUENCE"]) == first
        assert [seq_of(s["uri"]) for s in segs] == list(range(first, newest + 1))
        seen.append(first)
    assert seen == sorted(seen) and seen[-1] == 7  # now = 19.5 s -> newest 9


def test_discontinuity_before_every_loop_wrap_and_consistent_sequence():
    loop = len(SD.segments)
    epoch = 0.0
    dsn_of = {}  # sequence -> discontinuity sequence number, must never change between refreshes
    for step in range(0, 200):
        now = epoch + step * 0.7
        headers, segs = parse_media(hls.live_media_playlist(SD, now, seg_uri, window=5, epoch=epoch))
        dsn = int(headers["EXT-X-DISCONTINUITY-SEQUENCE"])
        for s in segs:
            n = seq_of(s["uri"])
            wraps = n > 0 and n % loop == 0
            assert s["discontinuity"] == wraps, (n, s)
            if s["discontinuity"]:
                dsn += 1
                assert s["pdt"] is not None
            assert dsn == n // loop
            assert dsn_of.setdefault(n, dsn) == dsn


def test_window_starting_on_a_wrap_keeps_its_tag():
    loop = len(SD.segments)
    # newest = loop + 2, window 3 -> first = loop, which follows a wrap
    text = hls.live_media_playlist(SD, (loop + 2) * 2 + 0.1, seg_uri, window=3)
    headers, segs = parse_media(text)
    assert headers["EXT-X-MEDIA-SEQUENCE"] == str(loop)
    assert headers["EXT-X-DISCONTINUITY-SEQUENCE"] == "0"
    assert segs[0]["discontinuity"] is True
    # one segment later that tag has left the window and is counted instead
    headers, segs = parse_media(hls.live_media_playlist(SD, (loop + 3) * 2 + 0.1, seg_uri, window=3))
    assert headers["EXT-X-MEDIA-SEQUENCE"] == str(loop + 1)
    assert headers["EXT-X-DISCONTINUITY-SEQUENCE"] == "1"
    assert not any(s["discontinuity"] for s in segs)


def test_program_date_time_tracks_sequence():
    epoch = 1_700_000_000.0
    _, segs = parse_media(hls.live_media_playlist(SD, epoch + 101.0, seg_uri, epoch=epoch))
    first = seq_of(segs[0]["uri"])
    assert first == 48
    assert segs[0]["pdt"] == "2023-11-14T22:14:56.000Z"  # epoch (22:13:20Z) + 96 s
    text = hls.live_media_playlist(SD, epoch + 101.0, seg_uri, epoch=epoch, program_date_time=False)
    assert "PROGRAM-DATE-TIME" not in text


def test_live_playlist_argument_checks():
    with pytest.raises(ValueError):
        hls.live_media_playlist(SD, 5.0, seg_uri, epoch=10.0)
    with pytest.raises(ValueError):
        hls.live_media_playlist(SD, 50.0, seg_uri, window=0)
    with pytest.raises(ValueError):
        hls.live_media_playlist(SD, 50.0, lambda n: "")


def test_live_sequence():
    assert hls.live_sequence(0.0, 2.0) == 0
    assert hls.live_sequence(1.999, 2.0) == 0
    assert hls.live_sequence(2.0, 2.0) == 1
    assert hls.live_sequence(110.0, 2.0, epoch=100.0) == 5


# --- segment files -------------------------------------------------------------------------------


def test_segment_file_loops():
    loop = len(HD.segments)
    for n in range(3 * loop):
        p = hls.segment_file("hd", n)
        assert p == hls.MEDIA_DIR / HD.segments[n % loop].file
        assert p.is_file()
    assert hls.segment_file("sd", "5") == hls.segment_file("sd", 5)
    assert hls.segment_file("sd", 10**15).is_file()


def test_segment_file_matches_playlist_uris():
    text = hls.live_media_playlist(HD, 123.0, lambda n: f"{n}.ts")
    for line in text.splitlines():
        if line.endswith(".ts"):
            assert hls.segment_file("hd", line[:-3]).is_file()


@pytest.mark.parametrize("name", ["", "fhd", "SD", "../sd", "sd_0", None])
def test_segment_file_unknown_rendition(name):
    with pytest.raises(KeyError):
        hls.segment_file(name, 0)


@pytest.mark.parametrize("seq", [-1, "-1", "", "1.5", 1.0, "x", "٣", True, None, "1" * 40, " 1"])
def test_segment_file_bad_sequence(seq):
    with pytest.raises(ValueError):
        hls.segment_file("sd", seq)
