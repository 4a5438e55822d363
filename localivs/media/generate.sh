#!/usr/bin/env bash
# Regenerate the committed test-pattern media for the local IVS stand-in.
#
# For each rendition this writes SEGMENTS MPEG-TS files of exactly SEGDUR seconds
# (FPS*SEGDUR frames, a keyframe at every segment start, H.264 Main, no B-frames,
# video only), named <name>_<i>.ts, then writes renditions.json describing them
# (the CODECS string is read from the encoded SPS, durations from the frame count).
# localivs/hls.py loops over these files to fake a live channel.
#
# Usage: localivs/media/generate.sh      (needs ffmpeg with libx264 + drawtext, python3)
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")"
OUTDIR="${OUTDIR:-.}"          # for experiments; the committed media lives beside this script
AUDIO="${AUDIO:-0}"            # 1 = add a silent mono AAC track
X264_PARAMS="${X264_PARAMS:-repeat-headers=1}"
mkdir -p "$OUTDIR"
cd "$OUTDIR"

FFMPEG="${FFMPEG:-ffmpeg}"
FONT="${FONT:-/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf}"
FPS=15
SEGDUR=2
SEGMENTS=4
LOOP=$((SEGDUR * SEGMENTS))
GOP=$((FPS * SEGDUR))

# name  width height level  maxrate(kbit/s) label     ivs max_resolution
RENDITIONS=(
  "sd 640  360 3.0 120 SD  SD"
  "hd 1280 720 3.1 240 HD  HD"
)

rm -f ./*.ts

for r in "${RENDITIONS[@]}"; do
  read -r name w h level kbps label maxres <<<"$r"
  big=$((h / 6)); mid=$((h / 12)); small=$((h / 20))
  boxw=$((w / 12)); boxh=$((h / 24))
  filter="[0:v][1:v]overlay=x='(W-w)*mod(t\,${LOOP})/${LOOP}':y='H*0.86':shortest=1,"
  filter+="drawtext=fontfile=${FONT}:text='${label}  ${w}x${h}':fontcolor=white:fontsize=${big}:x=(w-tw)/2:y=h*0.10,"
  filter+="drawtext=fontfile=${FONT}:text='%{pts\\:hms}':fontcolor=yellow:fontsize=${big}:x=(w-tw)/2:y=h*0.38,"
  filter+="drawtext=fontfile=${FONT}:text='frame %{eif\\:n\\:d}   segment %{eif\\:floor(n/${GOP})+1\\:d}/${SEGMENTS}':fontcolor=0xc0c0c0:fontsize=${mid}:x=(w-tw)/2:y=h*0.64,"
  filter+="drawtext=fontfile=${FONT}:text='local IVS test pattern':fontcolor=0x8090b0:fontsize=${small}:x=(w-tw)/2:y=h*0.78"
  audio_in=(); audio_out=(-an)
  if [[ "$AUDIO" == 1 ]]; then
    audio_in=(-f lavfi -i "anullsrc=r=44100:cl=mono:d=${LOOP}")
    audio_out=(-map 2:a -c:a aac -b:a 16k)
  fi
  "$FFMPEG" -hide_banner -loglevel error -y \
    -f lavfi -i "color=c=0x1a2238:s=${w}x${h}:r=${FPS}:d=${LOOP}" \
    -f lavfi -i "color=c=0xff8c00:s=${boxw}x${boxh}:r=${FPS}:d=${LOOP}" \
    "${audio_in[@]}" \
    -filter_complex "${filter}[v]" -map "[v]" \
    "${audio_out[@]}" -c:v libx264 -threads 1 -profile:v main -level:v "$level" -pix_fmt yuv420p -preset veryslow -tune stillimage \
    -bf 0 -g "$GOP" -keyint_min "$GOP" -sc_threshold 0 \
    -force_key_frames "expr:gte(t,n_forced*${SEGDUR})" \
    -x264-params "$X264_PARAMS" \
    -crf 30 -maxrate "${kbps}k" -bufsize "$((kbps * 2))k" \
    -f segment -segment_format mpegts -segment_time "$SEGDUR" -segment_start_number 0 \
    -map_metadata -1 -fflags +bitexact -flags:v +bitexact \
    "${name}_%d.ts"
done

AUDIO="$AUDIO" python3 - "$FPS" "$SEGDUR" "${RENDITIONS[@]}" <<'PY'
import json, os, subprocess, sys
from fractions import Fraction

fps, segdur = int(sys.argv[1]), int(sys.argv[2])
out = []
for spec in sys.argv[3:]:
    name, w, h, level, kbps, label, maxres = spec.split()
    files = sorted(
        (p for p in os.listdir(".") if p.startswith(name + "_") and p.endswith(".ts")),
        key=lambda p: int(p[len(name) + 1:-3]),
    )
    durations, sizes, peak = [], [], 0
    for f in files:
        frames = int(subprocess.check_output(
            ["ffprobe", "-v", "error", "-select_streams", "v:0", "-count_packets",
             "-show_entries", "stream=nb_read_packets", "-of", "csv=p=0", f], text=True).split()[0])
        dur = Fraction(frames, fps)
        size = os.path.getsize(f)
        durations.append(float(dur))
        peak = max(peak, int(size * 8 / dur))
    # CODECS from the SPS: profile_idc, constraint flags, level_idc.
    es = subprocess.check_output(["ffmpeg", "-v", "error", "-i", files[0], "-c:v", "copy",
                                  "-bsf:v", "h264_mp4toannexb", "-f", "h264", "-"])
    i = 0
    while True:
        i = es.index(b"\x00\x00\x01", i) + 3
        if es[i] & 0x1F == 7:
            sps = es[i + 1:i + 4]
            break
    codecs = "avc1.%02x%02x%02x" % (sps[0], sps[1], sps[2])
    if os.environ.get("AUDIO") == "1":
        codecs += ",mp4a.40.2"  # AAC-LC
    out.append({
        "name": name,
        "max_resolution": maxres,
        "width": int(w),
        "height": int(h),
        "frame_rate": float(fps),
        "bandwidth": peak,            # peak segment bitrate, bits/s (HLS BANDWIDTH)
        "codecs": codecs,
        "segments": [{"file": f, "duration": d} for f, d in zip(files, durations)],
    })
with open("renditions.json", "w") as fh:
    json.dump({"segment_duration": segdur, "renditions": out}, fh, indent=2)
    fh.write("\n")
PY

ls -l ./*.ts renditions.json
du -cb ./*.ts | tail -1
