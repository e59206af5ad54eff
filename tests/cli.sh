#!/usr/bin/env bash
# cli.sh - the vigil command against inputs a user can get wrong: each must give one clear
# line naming the thing and the problem, and a non-zero exit; and a tiny train -> score ->
# eval round trip on generated footage. Usage: tests/cli.sh PATH/TO/vigil
set -uo pipefail
vigil=$1
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fails=0

# expect CODE PATTERN CMD...: exit status CODE, and the last line on stderr (the error;
# progress lines may come before it) says "vigil: ..." and matches PATTERN
expect() {
  local code=$1 pat=$2; shift 2
  "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$? last
  last=$(tail -n 1 "$tmp/err")
  if [ "$rc" -ne "$code" ] || [[ $last != vigil:* ]] || ! grep -Eq -- "$pat" <<<"$last"; then
    echo "FAIL: $* -> exit $rc (want $code), stderr:"; sed 's/^/    /' "$tmp/err"
    fails=$((fails + 1))
  else
    echo "ok   $last"
  fi
}

echo "not a model" >"$tmp/bad.safetensors"
head -c 100 /dev/urandom >"$tmp/noise.mp4"
mkdir -p "$tmp/empty"
expect 2 "unknown command" "$vigil" frobnicate
expect 2 "-o MODEL is required" "$vigil" train "$tmp"
expect 2 "no footage given" "$vigil" train -o "$tmp/m.safetensors"
expect 2 "--epochs: 'ten' is not an integer" "$vigil" train -o "$tmp/m" --epochs ten x
expect 2 "--size: '224' is not a size WxH" "$vigil" train -o "$tmp/m" --size 224 x
expect 2 "--roi: '1,2,3' is not a region" "$vigil" train -o "$tmp/m" --roi 1,2,3 x
expect 2 "--aug: unknown value 'sometimes'" "$vigil" train -o "$tmp/m" --aug sometimes x
expect 2 "unknown option '--epoch'" "$vigil" train -o "$tmp/m" --epoch 3 x
expect 2 "--step: '0' is not an integer in 1..8" "$vigil" train -o "$tmp/m" --step 0 x
expect 1 "multiple of 32|divisible by 32" "$vigil" train -o "$tmp/m" --size 100x100 "$tmp/empty"
expect 1 "nowhere: no such file" "$vigil" train -o "$tmp/m" --size 32x32 "$tmp/nowhere"
expect 1 "empty: no images" "$vigil" train -o "$tmp/m" --size 32x32 "$tmp/empty"
expect 1 "noise.mp4: not a video or image" "$vigil" train -o "$tmp/m" --size 32x32 "$tmp/noise.mp4"
expect 1 "resnet-weights.pth" "$vigil" train -o "$tmp/m" --encoder resnet18 --weights "$tmp/resnet-weights.pth" "$tmp/empty"
expect 1 "no-model.safetensors" "$vigil" score -m "$tmp/no-model.safetensors" "$tmp/empty"
expect 1 "bad.safetensors" "$vigil" score -m "$tmp/bad.safetensors" "$tmp/empty"
expect 2 "one SOURCE at a time" "$vigil" score -m x a b
expect 1 "bad.safetensors" "$vigil" info "$tmp/bad.safetensors"
expect 1 "labels.json: cannot open" "$vigil" eval -m "$tmp/bad.safetensors" --labels "$tmp/labels.json" "$tmp/empty"

# a round trip on generated footage (needs the ffmpeg command to make it)
if command -v ffmpeg >/dev/null; then
  mkdir -p "$tmp/clips/01" "$tmp/clips/02"
  for c in 01 02; do
    ffmpeg -loglevel error -f lavfi -i "testsrc=size=64x64:rate=10" -frames:v 12 \
      "$tmp/clips/$c/%03d.png" || fails=$((fails + 1))
  done
  if "$vigil" train -o "$tmp/m.safetensors" --size 32x32 --frames 2 --epochs 1 \
       --seqs-per-epoch 8 --batch 4 --val "$tmp/clips/02" "$tmp/clips" 2>"$tmp/err" &&
     "$vigil" score -m "$tmp/m.safetensors" -o "$tmp/s.jsonl" --timeline "$tmp/t.svg" \
       --heatmaps "$tmp/hm" "$tmp/clips/01" 2>>"$tmp/err" &&
     [ "$(wc -l <"$tmp/s.jsonl")" -eq 10 ] && [ -s "$tmp/t.svg" ] &&
     [ "$(ls "$tmp/hm" | wc -l)" -eq 10 ]; then
    echo "ok   train -> score: 10 scored frames, timeline and 10 heat maps"
  else
    echo "FAIL: train -> score round trip"; sed 's/^/    /' "$tmp/err"; fails=$((fails + 1))
  fi
  printf '{"clips": {"01": [0,0,0,0,0,0,1,1,1,1,1,1], "02": [0,0,0,0,0,0,0,0,0,0,0,1]}}' \
    >"$tmp/labels.json"
  if "$vigil" eval -m "$tmp/m.safetensors" --labels "$tmp/labels.json" "$tmp/clips" \
       >"$tmp/out" 2>/dev/null && grep -q "pooled" "$tmp/out"; then
    echo "ok   eval: $(grep -m1 psnr "$tmp/out" | tr -s ' ')"
  else
    echo "FAIL: eval"; fails=$((fails + 1))
  fi
  printf '{"clips": {"01": [0,1], "02": [0,1]}}' >"$tmp/short.json"
  expect 1 "12 frames, but the labels of '01' have 2" "$vigil" eval -m "$tmp/m.safetensors" \
    --labels "$tmp/short.json" "$tmp/clips"
else
  echo "skipped: round trip (no ffmpeg command)"
fi

# events (vigil score --events): the options a user can get wrong, then the signal checks
# on a clip with known faults and on a timestamp gap (needs the model made above)
expect 2 "--threshold applies to events: add --events FILE" "$vigil" score -m x --threshold 1 a
expect 2 "--events -: the scores already go to stdout" "$vigil" score -m x --events - a
expect 2 "--score: unknown value 'mse' \(patch or psnr\)" "$vigil" score -m x --events e --score mse a
expect 2 "--debounce: '0' is not an integer in 1..100000" "$vigil" score -m x --events e --debounce 0 a
expect 2 "--merge-gap: '-1' is not an integer" "$vigil" score -m x --events e --merge-gap -1 a
# has "CLASS TYPE START END": an event line of that class and lifecycle step with those frames
has() {
  grep -q "\"class\":\"$2\",\"type\":\"$3\",\"start_frame\":$4,\"end_frame\":$5," "$1"
}
if command -v ffmpeg >/dev/null && [ -s "$tmp/m.safetensors" ]; then
  # frames 0-39 of a test pattern (files 001.png ..); 11-18 repeat frame 10, 19-23 black,
  # 29-32 uniform grey
  f="$tmp/faults"
  mkdir -p "$f"
  ffmpeg -loglevel error -f lavfi -i "testsrc=size=64x64:rate=10" -frames:v 40 "$f/%03d.png"
  ffmpeg -loglevel error -f lavfi -i "color=c=black:size=64x64" -frames:v 1 "$tmp/black.png"
  ffmpeg -loglevel error -f lavfi -i "color=c=gray:size=64x64" -frames:v 1 "$tmp/grey.png"
  for i in $(seq 12 19); do cp "$f/011.png" "$f/$(printf %03d "$i").png"; done
  for i in $(seq 20 24); do cp "$tmp/black.png" "$f/$(printf %03d "$i").png"; done
  for i in $(seq 30 33); do cp "$tmp/grey.png" "$f/$(printf %03d "$i").png"; done
  ev="$tmp/events.jsonl"
  if "$vigil" score -m "$tmp/m.safetensors" -o "$tmp/f.csv" --events "$ev" "$f" 2>"$tmp/err" &&
     grep -q "note: the model has no calibration for patch" "$tmp/err" &&
     has "$ev" frozen_frame new 11 13 && has "$ev" frozen_frame end 11 18 &&
     has "$ev" black_frame end 19 23 && has "$ev" flat_frame end 29 32 &&
     [ "$(grep -c '"type":"new"' "$ev")" -eq "$(grep -c '"type":"end"' "$ev")" ] &&
     ! grep -q signal_lost "$ev"; then
    echo "ok   score --events: frozen 11-18, black 19-23, flat 29-32 as made"
  else
    echo "FAIL: score --events on made faults"; sed 's/^/    /' "$tmp/err" "$ev"; fails=$((fails + 1))
  fi
  # a 1.5 s hole in the timestamps after frame 19 (10 fps, lossless, timestamps kept)
  ffmpeg -loglevel error -f lavfi -i "testsrc=size=64x64:rate=10" -frames:v 30 -c:v ffv1 \
    -vf "setpts='N/(10*TB)+if(gte(N,20),1.5/TB,0)'" -fps_mode passthrough "$tmp/gap.mkv"
  if "$vigil" score -m "$tmp/m.safetensors" -o "$tmp/g.csv" --events - --threshold 1 \
       --camera door "$tmp/gap.mkv" >"$tmp/gap.jsonl" 2>"$tmp/err" &&
     has "$tmp/gap.jsonl" signal_lost new 20 20 && has "$tmp/gap.jsonl" signal_lost end 20 20 &&
     grep -q '"camera":"door"' "$tmp/gap.jsonl" && ! grep -q prediction_error "$tmp/gap.jsonl"; then
    echo "ok   score --events -: a 1.5 s timestamp gap is one signal_lost event at frame 20"
  else
    echo "FAIL: score --events on a timestamp gap"; sed 's/^/    /' "$tmp/err" "$tmp/gap.jsonl"
    fails=$((fails + 1))
  fi
  m="$tmp/m.safetensors"
  expect 1 "--events: exit 2 is above the threshold 1" "$vigil" score -m "$m" -o "$tmp/x" --events "$ev" --threshold 1 --exit 2 "$f"
  expect 1 "--events: exit 20 dB is below the threshold 25 dB" "$vigil" score -m "$m" -o "$tmp/x" --events "$ev" --score psnr --threshold 25 --exit 20 "$f"
  expect 1 "--events: threshold -1 \(the threshold given\): a patch-score threshold must be above 0" "$vigil" score -m "$m" -o "$tmp/x" --events "$ev" --threshold -1 "$f"
  expect 1 "--events: patch 8: the threshold \(the validation\) was set on 16-pixel patches" "$vigil" score -m "$m" -o "$tmp/x" --events "$ev" --patch 8 "$f"
  expect 1 "nodir/e.jsonl: cannot write" "$vigil" score -m "$m" -o "$tmp/x" --events "$tmp/nodir/e.jsonl" --threshold 1 "$f"
  if "$vigil" train -o "$tmp/noval.safetensors" --size 32x32 --frames 2 --epochs 1 \
       --seqs-per-epoch 4 --batch 4 "$tmp/clips" 2>/dev/null; then
    expect 1 "--events: no threshold: the model has no calibration or validation for patch; give one" \
      "$vigil" score -m "$tmp/noval.safetensors" -o "$tmp/x" --events "$ev" "$f"
  else
    echo "FAIL: train a model without validation"; fails=$((fails + 1))
  fi
else
  echo "skipped: score --events (no ffmpeg command or no model)"
fi

# eval: labels, masks and footage a user can get wrong; the full report (needs the round
# trip's model and clips, 12 frames of 64x64 each)
if [ -s "$tmp/m.safetensors" ]; then
  m="$tmp/m.safetensors"
  expect 2 "--score: unknown value 'mse'" "$vigil" eval -m "$m" --labels x --score mse x
  expect 2 "--fps: '0' is not a number" "$vigil" eval -m "$m" --labels x --fps 0 x
  printf '01 5 30\n' >"$tmp/long.txt"
  expect 1 "long.txt:1: span 5..30 of clip '01' ends past its last frame, 11" "$vigil" eval \
    -m "$m" --labels "$tmp/long.txt" "$tmp/clips"
  printf '# fine\n01 5 8\n02 7\n' >"$tmp/cut.txt"
  expect 1 "cut.txt:3: 2 fields, expected \"CLIP START END\"" "$vigil" eval -m "$m" \
    --labels "$tmp/cut.txt" "$tmp/clips"
  printf '01 6 11\n02 10 11\n' >"$tmp/spans.txt"
  expect 1 "empty: no images" "$vigil" eval -m "$m" --labels "$tmp/spans.txt" "$tmp/empty"
  mkdir -p "$tmp/masks/01" "$tmp/small/01" "$tmp/few/01"
  ffmpeg -loglevel error -f lavfi -i "color=black:size=64x64" -frames:v 12 -start_number 0 \
    "$tmp/masks/01/%03d.png"
  ffmpeg -loglevel error -f lavfi -i "color=white:size=32x32" -frames:v 12 -start_number 0 \
    "$tmp/small/01/%03d.png"
  cp "$tmp/masks/01/"00[0-9].png "$tmp/few/01/"
  expect 1 "small/01/002.png: mask is 32x32, the frames are 64x64" "$vigil" eval -m "$m" \
    --labels "$tmp/spans.txt" --masks "$tmp/small" "$tmp/clips/01"
  expect 1 "few/01: no mask for frame 10 \(10 masks\)" "$vigil" eval -m "$m" \
    --labels "$tmp/spans.txt" --masks "$tmp/few" "$tmp/clips/01"
  expect 1 "masks/02: cannot list the folder" "$vigil" eval -m "$m" --labels "$tmp/spans.txt" \
    --masks "$tmp/masks" "$tmp/clips"
  expect 1 "x/report: cannot create folder" "$vigil" eval -m "$m" --labels "$tmp/spans.txt" \
    --report "$tmp/nowhere/x/report" "$tmp/clips"
  # masks: the right half of 01's frames 6..11 anomalous
  mkdir -p "$tmp/masks/02"
  for k in 00 01 02 03 04 05 06 07 08 09 10 11; do
    ffmpeg -loglevel error -f lavfi -i "color=black:size=64x64" -frames:v 1 "$tmp/masks/02/0$k.png"
    [ "$k" -ge 06 ] && ffmpeg -loglevel error -y -f lavfi -i "color=black:size=64x64" \
      -vf "drawbox=x=32:y=0:w=32:h=64:color=white:t=fill" -frames:v 1 "$tmp/masks/01/0$k.png"
  done
  if "$vigil" eval -m "$m" --labels "$tmp/spans.txt" --masks "$tmp/masks" --report "$tmp/rep" \
       --fps 10 --threshold 0.001 "$tmp/clips" >"$tmp/out" 2>"$tmp/err" &&
     grep -q "pixel AUROC  *error map  *[01]\.[0-9]" "$tmp/out" &&
     grep -q "false alarms in .* per hour (10 fps, from --fps)" "$tmp/out" &&
     grep -q "data:image/png;base64" "$tmp/rep/report.html" &&
     [ "$(grep -c "<figure>" "$tmp/rep/report.html")" -eq 8 ] &&
     [ -s "$tmp/rep/heatmaps/01.png" ]; then
    echo "ok   eval: $(grep 'pixel AUROC' "$tmp/out" | tr -s ' '); report.html written"
  else
    echo "FAIL: eval with masks and report"; sed 's/^/    /' "$tmp/err" "$tmp/out"
    fails=$((fails + 1))
  fi
fi

# calibrate: options a user can get wrong; then a calibration of the round trip's model
# (into a copy), its record, report and operating point as score --events uses it
expect 2 "-m MODEL is required" "$vigil" calibrate --normal x
expect 2 "no normal footage" "$vigil" calibrate -m x
expect 2 "--fpr: '2' is not a number in" "$vigil" calibrate -m x --fpr 2 y
expect 2 "--strategy: unknown value 'best' \(percentile, meanstd or worst\)" \
  "$vigil" calibrate -m x --strategy best y
expect 1 "no-model.safetensors" "$vigil" calibrate -m "$tmp/no-model.safetensors" "$tmp/empty"
if [ -s "$tmp/m.safetensors" ]; then
  cp "$tmp/m.safetensors" "$tmp/cal.safetensors"
  expect 1 "empty: no images" "$vigil" calibrate -m "$tmp/cal.safetensors" "$tmp/empty"
  if "$vigil" calibrate -m "$tmp/cal.safetensors" --fps 10 --burst 3 --report "$tmp/cal" \
       "$tmp/clips" >"$tmp/out" 2>"$tmp/err" &&
     grep -q '"strategy":[[:space:]]*"percentile"' "$tmp/cal/calibration.json" &&
     grep -q "<svg" "$tmp/cal/report.html" && grep -q "h264 1 Mbps" "$tmp/out" &&
     "$vigil" info "$tmp/cal.safetensors" | grep -q calibration &&
     "$vigil" score -m "$tmp/cal.safetensors" -o "$tmp/c.csv" --events "$tmp/c.jsonl" \
       "$tmp/clips/01" 2>"$tmp/err2" && ! grep -q "no calibration" "$tmp/err2"; then
    echo "ok   calibrate: $(head -n 1 "$tmp/out")"
  else
    echo "FAIL: calibrate"; sed 's/^/    /' "$tmp/err" "$tmp/out"; fails=$((fails + 1))
  fi
fi

# watch: configurations a user can get wrong (--check names file and line, or the camera);
# then a short run of the calibrated model on the round trip's clips, into a JSON Lines file
expect 2 "no CONFIG" "$vigil" watch
expect 1 "nowhere.yaml: cannot open \\(No such file" "$vigil" watch --check "$tmp/nowhere.yaml"
printf 'cameras:\n  - id: a\n    source: x\n    model: y\n    treshold: 3\n' >"$tmp/w1.yaml"
expect 1 "w1.yaml:5: unknown key 'treshold' in cameras\[0\] \(did you mean 'threshold'\?\)" \
  "$vigil" watch --check "$tmp/w1.yaml"
printf 'cameras:\n  - id: a\n    source: %s\n    model: %s\n' "$tmp/clips/01" "$tmp/no-model.safetensors" >"$tmp/w2.yaml"
expect 1 "no-model.safetensors" "$vigil" watch --check "$tmp/w2.yaml"
if [ -s "$tmp/cal.safetensors" ]; then
  printf 'cameras:\n  - id: a\n    source: %s\n    model: %s\n  - id: b\n    source: %s\n    model: %s\n' \
    "$tmp/clips/01" "$tmp/cal.safetensors" "$tmp/gone" "$tmp/cal.safetensors" >"$tmp/w3.yaml"
  expect 1 "camera b: .*gone: no such file" "$vigil" watch --check "$tmp/w3.yaml"
  printf 'cameras:\n  - id: a\n    source: %s\n    model: %s\n    loop: true\nsinks:\n  jsonl: %s\nstorage:\n  dir: %s\nhttp:\n  port: 0\n' \
    "$tmp/clips/01" "$tmp/cal.safetensors" "$tmp/w.jsonl" "$tmp/wdata" >"$tmp/w4.yaml"
  if "$vigil" watch --check "$tmp/w4.yaml" >"$tmp/out" 2>&1 &&
     "$vigil" watch --duration 3 --stats "$tmp/w.json" "$tmp/w4.yaml" 2>"$tmp/err" &&
     [ -s "$tmp/wdata/events.db" ] && grep -q '"scored"' "$tmp/w.json" &&
     grep -q "stopped: 1/1 cameras up" "$tmp/err"; then
    echo "ok   watch: $(tail -n 1 "$tmp/err")"
  else
    echo "FAIL: watch"; sed 's/^/    /' "$tmp/out" "$tmp/err"; fails=$((fails + 1))
  fi
fi

[ "$fails" -eq 0 ] && echo "all CLI checks passed" || echo "$fails CLI check(s) failed"
[ "$fails" -eq 0 ]
