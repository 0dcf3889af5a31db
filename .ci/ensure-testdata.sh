#!/usr/bin/env bash
# Installs the Debian packages the test suite reads (the ONNX backend test data, recorded sounds) when they are missing.
# Runs as the `pretest` npm script and from .ci/run; needs root (or sudo) only when something is missing.
set -euo pipefail
missing=()
[ -d /usr/share/libonnx-testdata/data/node ] || missing+=(libonnx-testdata)
# Real speech and noise recordings for the pretrained voice-activity detector (runtime/test/pretrained-models.test.ts).
[ -f /usr/share/sounds/alsa/Front_Center.wav ] || missing+=(alsa-utils)
[ ${#missing[@]} -eq 0 ] && exit 0
echo "installing Debian packages for the tests: ${missing[*]}" >&2
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
