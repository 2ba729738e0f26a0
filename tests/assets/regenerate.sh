#!/bin/sh
# Regenerates the tiny media fixtures that Python cannot write by itself (CI has no ffmpeg).
# Run by hand on a machine with ffmpeg; commit the results. Each file stays well under 50 KB.
set -eu
cd "$(dirname "$0")"
ff() { ffmpeg -hide_banner -loglevel error -y -nostdin "$@"; }
plain="-map_metadata -1 -fflags +bitexact -flags:v +bitexact -flags:a +bitexact"
tone="sine=frequency=440:sample_rate=22050:duration=1"
pattern="testsrc=size=64x64:rate=10:duration=1"

ff -f lavfi -i "$tone" $plain -ac 1 -c:a libmp3lame -b:a 32k -write_xing 0 -id3v2_version 0 tone.mp3
ff -f lavfi -i "$tone" $plain -ac 1 -c:a libmp3lame -b:a 32k -id3v2_version 4 tone-id3.mp3
ff -f lavfi -i "sine=frequency=440:sample_rate=16000:duration=1" $plain -ac 1 -c:a flac tone.flac
ff -f lavfi -i "$tone" $plain -ac 1 -c:a aac -b:a 32k tone.m4a
ff -f lavfi -i "$pattern" -f lavfi -i "$tone" $plain -c:v libx264 -preset veryfast \
  -pix_fmt yuv420p -crf 35 -c:a aac -ac 1 -b:a 32k -shortest -movflags +faststart clip.mp4
ff -f lavfi -i "$pattern" $plain -c:v libx264 -preset veryfast -pix_fmt yuv420p -crf 35 \
  -f mov clip.mov
