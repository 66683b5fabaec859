#!/usr/bin/env bash
# bench/progress.sh: what -P costs the data path.
#
# PRODUCER | gnc [-P --progress=always] 127.0.0.1 P  ->  gnc -l P >/dev/null,
# BYTES from a pipe, RUNS interleaved runs with and without the meter (its
# line goes to a file, redrawn 10 times a second as on a terminal). The
# meter only reads the counters the copy loops keep anyway, so the two
# should not differ beyond noise.
#
# Usage: bench/progress.sh
# Env:   BYTES (4G) RUNS (5) PRODUCER (zeros8k)
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # $tmp comes from bench_setup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

BYTES=$(to_bytes "${BYTES:-4G}") || exit 2
RUNS=${RUNS:-5}
PRODUCER=${PRODUCER:-zeros8k}
T=120

bench_setup progress
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
build_gnc "$tmp"
[ -n "$GNC" ] || { log "gnc does not build"; exit 1; }

# run_one with|without -> prints GB/s
run_one() {
	local meter=() t0
	[ "$1" = with ] && meter=(--progress=always)
	start_receiver gnc /dev/null "$T" || return 1
	t0=$(now_us)
	produce "$BYTES" | timeout "$T" "$GNC" "${meter[@]}" 127.0.0.1 "$RPORT" 2>"$tmp/meter.err"
	wait_exit "$RPID" 20 || stop_pid "$RPID"
	reap "$RPID"
	gbps "$BYTES" $(($(now_us) - t0))
}

declare -A R
for ((r = 0; r < RUNS; r++)); do
	for m in without with; do
		log "run $((r + 1)): $m -P"
		R[$m]+="$(run_one "$m") "
	done
done
# shellcheck disable=SC2086
with=$(median ${R[with]}) without=$(median ${R[without]})
echo "## What -P costs: $(human "$BYTES") from a pipe, gnc to gnc"
echo
echo "Producer \`$(producer_desc "$PRODUCER")\`; the receiver writes to /dev/null; medians of $RUNS interleaved runs. With the meter, its line is drawn 10 times a second (\`--progress=always\`, to a file)."
echo
echo "| sender | GB/s | runs | x without |"
echo "|---|---:|---|---:|"
echo "| gnc | $without | ${R[without]} | 1.00 |"
echo "| gnc -P | $with | ${R[with]} | $(ratio "$with" "$without") |"
echo
echo "Last meter line: \`$(tr '\r' '\n' <"$tmp/meter.err" | grep -v '^\s*$' | tail -1 | sed 's/\x1b\[K//g')\`"
