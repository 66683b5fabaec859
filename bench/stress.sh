#!/usr/bin/env bash
# bench/stress.sh: two bounded stress runs of gnc relay in front of an echo
# server (bench/cmd/backend -mode echo), checked by bench/cmd/echoload.
#
#   fd   gnc relay under `prlimit --nofile=FD_LIMIT`, FD_IDLE idle clients,
#        a connect/close every FD_EVERY, and one busy echo client streaming
#        for FD_BUSY (connected first): the busy client must get every byte back
#        (SHA-256), while new clients may be refused. Also the relay's CPU
#        time over the run, to see that accept backs off rather than spins.
#   mem  gnc relay --hexdump-file, MEM_CLIENTS concurrent echo clients of
#        MEM_SIZE bytes each: the relay's peak RSS (VmHWM), and the dump's
#        size against the traffic (a lossless dump of N bytes is about 5 N).
#        MEM_PLAIN=1 also runs the relay without a dump, for comparison.
#
# Usage: bench/stress.sh            (from any directory)
# Env:   SECTIONS ("fd mem")  GNC_BIN (a gnc binary; default: build one)
#        FD_LIMIT (200) FD_IDLE (150) FD_EVERY (2ms) FD_BUSY (6s)
#        FD_LOG (a file to keep the relay's -v log in)
#        MEM_CLIENTS (300) MEM_SIZE (2M) MEM_PLAIN (0)
# Output: one Markdown line per run on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

read -r -a SECTIONS <<<"${SECTIONS:-fd mem}"
FD_LIMIT=${FD_LIMIT:-200} FD_IDLE=${FD_IDLE:-150} FD_EVERY=${FD_EVERY:-2ms} FD_BUSY=${FD_BUSY:-6s}
MEM_CLIENTS=${MEM_CLIENTS:-300} MEM_SIZE=${MEM_SIZE:-2M} MEM_PLAIN=${MEM_PLAIN:-0}

bench_setup stress
build_gnc "$tmp"
[ -n "$GNC" ] || exit 1
(cd "$REPO_ROOT" && go build -o "$tmp/backend" ./bench/cmd/backend && go build -o "$tmp/echoload" ./bench/cmd/echoload) || exit 1

# start_backend: sets BPORT and BPID.
start_backend() {
	"$tmp/backend" -mode echo -stdin=false -max 300s >"$tmp/backend.out" 2>&1 &
	BPID=$!
	track "$BPID"
	wait_line "$tmp/backend.out" '^LISTEN ' "$BPID" || return 1
	BPORT=$(sed -n 's/^LISTEN .*:\([0-9]*\)$/\1/p' "$tmp/backend.out")
}

# start_relay PREFIX... -- ARGS...: run PREFIX gnc relay -v ARGS
# listen:127.0.0.1:0 127.0.0.1:BPORT; sets RPORT and RPID (gnc's own PID).
start_relay() {
	local pre=()
	while [ "$1" != -- ]; do
		pre+=("$1")
		shift
	done
	shift
	"${pre[@]}" "$GNC" relay -v "$@" listen:127.0.0.1:0 "127.0.0.1:$BPORT" 2>"$tmp/relay.err" &
	RPID=$!
	track "$RPID"
	wait_line "$tmp/relay.err" ' listening on ' "$RPID" || return 1
	RPORT=$(sed -n 's/.* listening on [^ ]*:\([0-9]*\) .*/\1/p' "$tmp/relay.err" | head -1)
}

# cpu_ticks PID: user+system clock ticks of PID so far.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

fd_run() {
	start_backend || return 1
	# prlimit execs gnc, so its PID is gnc's.
	start_relay prlimit --nofile="$FD_LIMIT:$FD_LIMIT" -- || return 1
	local t0 t1 out
	t0=$(cpu_ticks "$RPID")
	out=$("$tmp/echoload" -addr "127.0.0.1:$RPORT" -idle "$FD_IDLE" -every "$FD_EVERY" -busy "$FD_BUSY" -timeout 120s)
	t1=$(cpu_ticks "$RPID")
	printf '| fd | limit %s, %s idle, churn %s | %s | relay CPU %s ticks | %s |\n' "$FD_LIMIT" "$FD_IDLE" "$FD_EVERY" "$out" $((t1 - t0)) \
		"$(grep -c 'too many open files' "$tmp/relay.err") lines naming EMFILE"
	grep -m3 -E '(forward|backward) failed' "$tmp/relay.err" >&2
	stop_pid "$RPID"
	stop_pid "$BPID"
	[ -n "${FD_LOG:-}" ] && cp "$tmp/relay.err" "$FD_LOG"
}

mem_run() {
	local label=$1 out hwm dump
	shift
	start_backend || return 1
	start_relay -- "$@" || return 1
	out=$("$tmp/echoload" -addr "127.0.0.1:$RPORT" -clients "$MEM_CLIENTS" -size "$MEM_SIZE" -timeout 240s)
	hwm=$(awk '/^VmHWM:/{print $2}' "/proc/$RPID/status")
	stop_pid "$RPID"
	stop_pid "$BPID"
	dump=0
	[ -f "$tmp/dump" ] && dump=$(stat -c %s "$tmp/dump")
	printf '| mem | %s | %s | peak RSS %s MiB | dump %s bytes |\n' "$label" "$out" $((hwm / 1024)) "$dump"
	rm -f "$tmp/dump"
}

for s in "${SECTIONS[@]}"; do
	case $s in
	fd) fd_run ;;
	mem)
		[ "$MEM_PLAIN" = 1 ] && mem_run plain
		mem_run "--hexdump-file" --hexdump-file "$tmp/dump"
		;;
	*) log "unknown section $s" ;;
	esac
done
