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
    echo "ok   eval: $(grep psnr "$tmp/out" | tr -s ' ')"
  else
    echo "FAIL: eval"; fails=$((fails + 1))
  fi
  printf '{"clips": {"01": [0,1], "02": [0,1]}}' >"$tmp/short.json"
  expect 1 "12 frames, but the labels of '01' have 2" "$vigil" eval -m "$tmp/m.safetensors" \
    --labels "$tmp/short.json" "$tmp/clips"
else
  echo "skipped: round trip (no ffmpeg command)"
fi

[ "$fails" -eq 0 ] && echo "all CLI checks passed" || echo "$fails CLI check(s) failed"
[ "$fails" -eq 0 ]
