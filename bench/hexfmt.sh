#!/usr/bin/env bash
# bench/hexfmt.sh: throughput of gnc's -x hex dump formatter (package
# hexdump) against xxd on the same machine.
#
# xxd: wall clock of `xxd FILE >/dev/null` on 256 MiB of random data.
# gnc: BenchmarkAppendChunk (64 KiB chunks of random data, formatting only,
# no I/O), as reported by `go test -bench`.
# Both figures are MB/s of input (10^6 bytes/s), median of RUNS runs.
#
# Usage: bench/hexfmt.sh            (from any directory)
# Env:   RUNS (3, odd)  SIZE_MIB (256)
# Output: Markdown on stdout, progress on stderr.
set -euo pipefail
export LC_ALL=C # '.' as the decimal point in date and awk

RUNS=${RUNS:-3}
SIZE_MIB=${SIZE_MIB:-256}
REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$REPO_ROOT"

log() { printf '%s\n' "$*" >&2; }

for tool in xxd go; do
	command -v "$tool" >/dev/null || {
		log "hexfmt.sh: $tool not found"
		exit 1
	}
done

# median: the middle of the numbers on stdin (the lower middle for an even
# count).
median() { sort -g | awk '{ v[NR] = $1 } END { if (NR) print v[int((NR + 1) / 2)] }'; }

data=$(mktemp "${TMPDIR:-/tmp}/hexfmt.XXXXXX")
trap 'rm -f "$data"' EXIT
log "making $SIZE_MIB MiB of random data"
head -c "$((SIZE_MIB << 20))" /dev/urandom >"$data"
bytes=$(stat -c %s "$data")
cat "$data" >/dev/null # warm the page cache so the first run is not a disk read

xxd_rates=()
for ((i = 1; i <= RUNS; i++)); do
	t0=$(date +%s.%N)
	xxd "$data" >/dev/null
	t1=$(date +%s.%N)
	rate=$(awk -v b="$bytes" -v t0="$t0" -v t1="$t1" 'BEGIN { printf "%.1f", b / (t1 - t0) / 1e6 }')
	log "xxd run $i: $rate MB/s"
	xxd_rates+=("$rate")
done
xxd_mbs=$(printf '%s\n' "${xxd_rates[@]}" | median)

log "go test -run '^\$' -bench BenchmarkAppendChunk -count $RUNS ./hexdump/"
out=$(go test -run '^$' -bench BenchmarkAppendChunk -count "$RUNS" ./hexdump/)
printf '%s\n' "$out" >&2
# Only BenchmarkAppendChunk itself: the pattern also matches longer names.
go_mbs=$(printf '%s\n' "$out" | awk '$1 ~ /^BenchmarkAppendChunk(-[0-9]+)?$/ {
	for (i = 2; i < NF; i++) if ($(i + 1) == "MB/s") print $i
}' | median)
if [ -z "$go_mbs" ]; then
	log "hexfmt.sh: no MB/s figure in the benchmark output"
	exit 1
fi

ratio() { awk -v a="$1" -v b="$xxd_mbs" 'BEGIN { printf "%.1fx", a / b }'; }

echo "| formatter | MB/s of input | vs xxd |"
echo "| --- | ---: | ---: |"
printf '| xxd | %.1f | %s |\n' "$xxd_mbs" "$(ratio "$xxd_mbs")"
printf '| gnc hexdump (AppendChunk, 64 KiB chunks) | %.1f | %s |\n' "$go_mbs" "$(ratio "$go_mbs")"
