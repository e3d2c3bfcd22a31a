#!/usr/bin/env bash
# Installs the Debian packages Tessera needs when they are missing (glslc and the
# Vulkan headers build the GPU compositor; its loader is opened at run time;
# FreeType, HarfBuzz and the DejaVu + Droid fallback fonts draw names on tiles,
# the latter for CJK names).
#   scripts/deps.sh build   packages to build and run the server
#   scripts/deps.sh test    the build set plus what the tests need
#   scripts/deps.sh load    the build set plus what bench/load.sh needs
# As root it runs apt-get; otherwise it prints the exact command and fails,
# because a half-installed toolchain gives confusing build errors later.
set -euo pipefail

build_pkgs=(
  build-essential cmake pkg-config
  libglib2.0-dev libsoup-3.0-dev libjansson-dev
  libavcodec-dev libavutil-dev libswscale-dev libavformat-dev
  libva-dev libyuv-dev libopus-dev
  libnice-dev libgnutls28-dev libsrtp2-dev libnss3-dev
  libsofia-sip-ua-dev libsofia-sip-ua-glib-dev
  glslc libvulkan-dev
  libfreetype-dev libharfbuzz-dev fonts-dejavu-core fonts-droid-fallback
)
# ffmpeg: reference pipelines and test inputs; clang + compiler-rt: fuzzers;
# curl + python3: the command-line and HTTP checks; chromium + nodejs/npm: real-browser tests;
# GStreamer webrtcbin through python3-gi (+ libsoup for its WebSocket): the non-browser
# WebRTC participant (tests/e2e/webrtcbin.test.js); nftables: the ICE-TCP test drops UDP
# and the audio-loss test drops a share of it, each inside a network namespace of its own; mesa-vulkan-drivers: lavapipe, the CPU Vulkan
# driver the GPU compositor's tests run on. baresip-core + baresip-ffmpeg: a real SIP
# endpoint for the SIP front's tests (tests/e2e/sip_baresip.test.js). nginx +
# libnginx-mod-rtmp: the RTMP server the streaming test pushes to (started by the test
# on its own port and prefix; the system service is never used). openssl: test
# certificates (SIP over TLS) and a DTLS client with a wrong certificate.
test_pkgs=(ffmpeg clang libclang-rt-14-dev curl python3 chromium nodejs npm
  python3-gi gir1.2-gstreamer-1.0 gir1.2-gst-plugins-base-1.0 gir1.2-gst-plugins-bad-1.0
  gir1.2-soup-3.0 gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-nice nftables mesa-vulkan-drivers
  baresip-core baresip-ffmpeg nginx libnginx-mod-rtmp openssl)

want=("${build_pkgs[@]}")
# curl + python3 read the runs' results, gnuplot-nox draws the capacity plot.
load_pkgs=(curl python3 gnuplot-nox)
if [ "${1:-build}" = "test" ]; then
  want+=("${test_pkgs[@]}")
elif [ "${1:-build}" = "load" ]; then
  want+=("${load_pkgs[@]}")
fi

missing=()
for p in "${want[@]}"; do
  # node and npm may come from outside Debian (nodesource, nvm); accept any working copy.
  if [ "$p" = nodejs ] && command -v node >/dev/null 2>&1; then continue; fi
  if [ "$p" = npm ] && command -v npm >/dev/null 2>&1; then continue; fi
  status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
  case "$status" in
    *"install ok installed"*) ;;
    *) missing+=("$p") ;;
  esac
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

cmd="apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" != 0 ]; then
  echo "tessera: missing Debian packages. Run as root:" >&2
  echo "  apt-get update && $cmd" >&2
  exit 1
fi
echo "tessera: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
$cmd
