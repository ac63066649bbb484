#!/usr/bin/env bash
# Debian/Ubuntu packages for voice mode and its tests. Installs only what is missing;
# safe to run again. Runs apt-get directly as root, through sudo otherwise.
#
#   espeak-ng, libespeak-ng1  speech synthesis (pyttsx3's espeak driver loads libespeak-ng.so.1)
#   libportaudio2             the sound library under sounddevice
#   libasound2-plugins        ALSA's "pulse" device: how PortAudio reaches PulseAudio
#   pulseaudio, -utils        the virtual sound card for tests (null sinks; pactl, pacmd,
#                             parec, pacat) and the usual sound server on a desktop
#   sox                       making and checking test recordings
#   graphviz                  the dialog flow diagram (--diagram)
#   chromium                  the screen's tests (--screen) run the page in headless Chromium
#   nodejs (npm)              axe-core, the accessibility checker the screen's tests run
#   mosquitto                 the MQTT broker the alert tests start (kiosk and caregiver alerts)
#   sphinxtrain               bw and mllr_solve: adapting pocketsphinx's model (bench/mllr.py)
#   sphinxbase-utils          sphinx_fe, features for that adaptation
#   pocketsphinx              pocketsphinx_mdef_convert (the model's mdef as text, for bw)
#   python3-venv              only if python3 cannot create the virtualenv yet
set -euo pipefail

packages=(
    espeak-ng
    libespeak-ng1
    libportaudio2
    libasound2-plugins
    pulseaudio
    pulseaudio-utils
    sox
    graphviz
    chromium
    nodejs
    mosquitto
    sphinxtrain
    sphinxbase-utils
    pocketsphinx
)
if ! command -v npm >/dev/null 2>&1; then
    packages+=(npm)  # Debian's nodejs comes without it (other builds of nodejs include it)
fi
if command -v python3 >/dev/null 2>&1 && ! python3 -c "import ensurepip, venv" 2>/dev/null; then
    packages+=(python3-venv)
fi

installed() {
    [[ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" == "install ok installed" ]]
}

missing=()
for pkg in "${packages[@]}"; do
    installed "$pkg" || missing+=("$pkg")
done

if ((${#missing[@]} == 0)); then
    echo "setup-system: all system packages present"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup-system: apt-get not found; install these packages by hand: ${missing[*]}" >&2
    exit 1
fi

if [[ "$(id -u)" -eq 0 ]]; then
    as_root=()
elif command -v sudo >/dev/null 2>&1; then
    as_root=(sudo)
else
    echo "setup-system: need root (or sudo) to install: ${missing[*]}" >&2
    exit 1
fi

echo "setup-system: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get update -qq
${as_root[@]+"${as_root[@]}"} env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
    --no-install-recommends "${missing[@]}"
echo "setup-system: done"
