#!/usr/bin/env bash
# Virtual sound card for the voice assistant: PulseAudio null sinks instead of hardware.
#
#   scripts/virtual-audio.sh [start]   start PulseAudio if needed, create the devices (idempotent)
#   scripts/virtual-audio.sh stop      remove the devices (and the daemon, if this script started it
#                                      and no other virtual devices are left; not with --keep-daemon)
#   scripts/virtual-audio.sh status    show the devices; exit 1 if any is missing
#   scripts/virtual-audio.sh env       print the environment the assistant needs (eval-able)
#
# Devices (prefix "assistant", or $ASSISTANT_AUDIO_PREFIX so parallel test runs don't hear
# each other):
#   assistant_speaker   null sink: the loudspeaker. Tests record assistant_speaker.monitor.
#   assistant_mic_feed  null sink: tests play the simulated user's voice into it.
#   assistant_mic       remap source of assistant_mic_feed.monitor: the microphone the
#                       assistant records from.
#   assistant_silence   null source feeding two loopbacks ("keepers") into both sinks.
#
# Why the keepers: an idle PulseAudio 16 null sink runs with its maximum latency (2 s) and only
# notices a new low-latency stream after that block ends, so every new stream would start
# 0..2 s late. A permanent low-latency loopback of silence keeps each sink ticking every ~20 ms,
# so playback is audible within ~10-20 ms of starting, like on real hardware.
#
# How the assistant reaches these devices through PortAudio: PortAudio only sees ALSA devices;
# the ALSA "pulse" device (package libasound2-plugins) forwards to PulseAudio, and PULSE_SINK /
# PULSE_SOURCE choose the sink/source. `env` prints exactly that.
set -euo pipefail
export LC_ALL=C  # pactl's output is parsed below

PREFIX="${ASSISTANT_AUDIO_PREFIX:-assistant}"
if [[ ! "$PREFIX" =~ ^[A-Za-z0-9_]+$ ]]; then
    echo "virtual-audio: ASSISTANT_AUDIO_PREFIX must be letters, digits and _ only" >&2
    exit 2
fi
SPEAKER="${PREFIX}_speaker"
FEED="${PREFIX}_mic_feed"
MIC="${PREFIX}_mic"
SILENCE="${PREFIX}_silence"
KEEPER_LATENCY_MS=60   # the sinks then tick every ~20 ms; lower costs CPU, higher delays starts
STATE_DIR="${XDG_RUNTIME_DIR:-/tmp}"
STARTED_MARK="$STATE_DIR/leg-assistant-virtual-audio.$(id -u).started"

say() { echo "virtual-audio: $*"; }
die() { echo "virtual-audio: $*" >&2; exit 1; }

need() {
    command -v "$1" >/dev/null 2>&1 ||
        die "'$1' not found: install the Debian packages pulseaudio pulseaudio-utils" \
            "(scripts/setup-system.sh does)"
}

server_up() { pactl info >/dev/null 2>&1; }

# Module lines as "index<TAB>name<TAB>arguments".
modules() { pactl list short modules 2>/dev/null || true; }

module_ids_matching() {  # $1: fixed string that must appear in the arguments
    modules | awk -F'\t' -v pat="$1" 'index($3 " ", pat) > 0 { print $1 }'
}

has_sink() { pactl list short sinks | awk -F'\t' -v n="$1" '$2 == n { f = 1 } END { exit !f }'; }
has_source() { pactl list short sources | awk -F'\t' -v n="$1" '$2 == n { f = 1 } END { exit !f }'; }

load() {  # $1: description, rest: module and arguments
    local what="$1"; shift
    local id
    id="$(pactl load-module "$@")" || die "could not load $what: pactl load-module $*"
    say "created $what (module #$id)"
}

start_daemon() {
    if server_up; then
        say "PulseAudio already running ($(pactl info | sed -n 's/^Server String: //p'))"
        return
    fi
    need pulseaudio
    local args=(--start --exit-idle-time=-1 --log-target=syslog)
    # As root PulseAudio warns that it is meant for users, but a per-user (non --system)
    # daemon works fine for root; it keeps its socket under /tmp/pulse-* via ~/.config/pulse.
    local out
    if ! out="$(pulseaudio "${args[@]}" 2>&1)"; then
        die "could not start PulseAudio: $out"
    fi
    for _ in $(seq 50); do server_up && break; sleep 0.1; done
    server_up || die "PulseAudio started but does not answer (pactl info fails)"
    date +%s >"$STARTED_MARK"
    say "started PulseAudio daemon ($(pactl info | sed -n 's/^Server String: //p'))"
}

start_devices() {
    if has_sink "$SPEAKER"; then
        say "$SPEAKER exists"
    else
        load "sink $SPEAKER (the loudspeaker)" module-null-sink sink_name="$SPEAKER" \
            rate=48000 channels=2 sink_properties=device.description="${SPEAKER}"
    fi
    if has_sink "$FEED"; then
        say "$FEED exists"
    else
        load "sink $FEED (the user's voice goes in here)" module-null-sink sink_name="$FEED" \
            rate=16000 channels=1 sink_properties=device.description="${FEED}"
    fi
    if has_source "$MIC"; then
        say "$MIC exists"
    else
        load "source $MIC (the microphone, hears $FEED)" module-remap-source \
            source_name="$MIC" master="$FEED.monitor" rate=16000 channels=1 \
            source_properties=device.description="${MIC}"
    fi
    if has_source "$SILENCE"; then
        say "$SILENCE exists"
    else
        load "source $SILENCE (for the keepers)" module-null-source source_name="$SILENCE" \
            rate=16000 channels=1 max_latency_msec=20
    fi
    local sink
    for sink in "$SPEAKER" "$FEED"; do
        if [[ -n "$(module_ids_matching "source=$SILENCE sink=$sink ")" ]]; then
            say "keeper for $sink exists"
        else
            load "keeper for $sink (keeps it at low latency)" module-loopback \
                source="$SILENCE" sink="$sink" latency_msec="$KEEPER_LATENCY_MS" \
                source_dont_move=true sink_dont_move=true
        fi
    done
}

sink_latency_us() {  # $1: sink name; its current latency in microseconds
    pactl list sinks | awk -v n="$1" '
        /^Sink #/ { s = 0 }
        $1 == "Name:" { s = ($2 == n) }
        s && $1 == "Latency:" { print int($2); exit }'
}

wait_until_warm() {
    # A new null sink first renders one 2 s block; streams started before it ends start late.
    # Suspending and resuming it once the keeper is connected restarts it at the keeper's
    # low latency right away.
    local sink latency ready
    for sink in "$SPEAKER" "$FEED"; do
        latency="$(sink_latency_us "$sink")"
        if [[ -n "$latency" && "$latency" -ge 100000 ]]; then
            pactl suspend-sink "$sink" 1 && pactl suspend-sink "$sink" 0
        fi
    done
    for _ in $(seq 50); do
        ready=1
        for sink in "$SPEAKER" "$FEED"; do
            latency="$(sink_latency_us "$sink")"
            if [[ -z "$latency" || "$latency" -ge 100000 ]]; then ready=0; fi
        done
        if ((ready)); then return; fi
        sleep 0.1
    done
    say "warning: the sinks still have high latency; the first sounds may start late"
}

print_env() {
    cat <<EOF
PULSE_SINK=$SPEAKER
PULSE_SOURCE=$MIC
ASSISTANT_OUTPUT_DEVICE=pulse:$SPEAKER
ASSISTANT_INPUT_DEVICE=pulse:$MIC
EOF
}

status() {
    local missing=0 name
    for name in "$SPEAKER" "$FEED"; do
        if has_sink "$name"; then say "sink $name: ok"; else say "sink $name: MISSING"; missing=1; fi
    done
    for name in "$MIC" "$SILENCE"; do
        if has_source "$name"; then say "source $name: ok"; else say "source $name: MISSING"; missing=1; fi
    done
    return "$missing"
}

stop() {
    if ! server_up; then
        say "PulseAudio is not running; nothing to stop"
        rm -f "$STARTED_MARK"
        return
    fi
    local id pat
    # Keepers first, then the source that reads the feed, then sinks and the silence source.
    for pat in "source=$SILENCE sink=" "source_name=$MIC " "sink_name=$SPEAKER " \
               "sink_name=$FEED " "source_name=$SILENCE "; do
        for id in $(module_ids_matching "$pat"); do
            pactl unload-module "$id" && say "removed module #$id ($pat...)"
        done
    done
    if [[ "${1:-}" == "--keep-daemon" ]]; then
        return
    fi
    if [[ -f "$STARTED_MARK" ]]; then
        if [[ -n "$(module_ids_matching "_speaker ")" ]]; then
            say "leaving PulseAudio running: other virtual speakers are still in use"
        else
            pulseaudio --kill 2>/dev/null || pactl exit 2>/dev/null || true
            rm -f "$STARTED_MARK"
            say "stopped the PulseAudio daemon this script had started"
        fi
    fi
}

need pactl
case "${1:-start}" in
    start)
        start_daemon
        start_devices
        wait_until_warm
        say "ready; the assistant needs:"
        print_env | sed 's/^/    /'
        ;;
    stop) stop "${2:-}" ;;
    status) server_up || die "PulseAudio is not running"; status ;;
    env) print_env ;;
    *) die "usage: $0 [start|stop|status|env]" ;;
esac
