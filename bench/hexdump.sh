#!/usr/bin/env bash
# bench/hexdump.sh: traffic rate with a hex dump written to a file, gnc
# against ncat -x, socat -x and nc.traditional -o, side by side in one run;
# the same transfer without a dump (gnc's zero-copy path, to check the dump
# costs nothing when it is off); and the formatter alone against xxd
# (bench/hexfmt.sh).
#
# The receiver dumps (to a file in $DUMP_DIR, default a fresh directory under
# /tmp) and writes the data to /dev/null; the sender is plain gnc reading a
# file of random bytes (random, so that no tool could gain from repeated
# lines). Each tool gets a size it can move in a few seconds (and gnc one
# whose dump fits in the page cache, see SIZE below); rates are
# MB/s = 10^6 bytes of traffic per second, median of RUNS runs, each timed
# run right after an untimed one of the same size (this VM's first writes
# to memory it has not touched lately are several times slower than later
# ones, for every tool alike).
#
# Usage: bench/hexdump.sh            (from any directory)
# Env:   RUNS (3)  QUICK=1 (sizes / 4, 1 run)  DUMP_DIR
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
div=1
if [ "${QUICK:-0}" = 1 ]; then
	RUNS=1 div=4
fi
T=300 # seconds, bound for every transfer

bench_setup hexdump
ensure_peers || exit 1
build_gnc "$tmp"
[ -n "$GNC" ] || {
	log "gnc does not build"
	exit 1
}
DUMP_DIR=${DUMP_DIR:-$tmp/dumps}
mkdir -p "$DUMP_DIR"

# bytes each tool moves per run. gnc's dump of 256 MiB is about 1.3 GB,
# which stays within the kernel's dirty page cache here; a dump that
# outgrows it runs at the disk's write speed instead, whatever the tool.
declare -A SIZE=(
	[gnc]=$(((256 << 20) / div))
	[gnc-nodump]=$(((1024 << 20) / div))
	[ncat]=$(((96 << 20) / div))
	[nc.traditional]=$(((192 << 20) / div))
	[socat]=$(((8 << 20) / div))
)
read -r -a TOOLS <<<"${TOOLS:-gnc ncat nc.traditional socat gnc-nodump}"

max=0
for t in "${TOOLS[@]}"; do ((SIZE[$t] > max)) && max=${SIZE[$t]}; done
log "making $(human "$max") of random data"
head -c "$max" /dev/urandom >"$tmp/data"
cat "$tmp/data" >/dev/null

# receiver TOOL PORT DUMPFILE -> RCMD; the dump goes to DUMPFILE, data to stdout
receiver() {
	local d=$3
	case $1 in
	gnc) RCMD=("$GNC" -l 127.0.0.1 "$2" --hexdump-file "$d") ;;
	gnc-nodump) RCMD=("$GNC" -l 127.0.0.1 "$2") ;;
	ncat) RCMD=(ncat --recv-only -l 127.0.0.1 "$2" -x "$d") ;;
	nc.traditional) RCMD=(nc.traditional -l -s 127.0.0.1 -p "$2" -o "$d") ;;
	socat) RCMD=(socat -x -u "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr" STDOUT) ;; # dump on stderr
	esac
}

# transfer TOOL BYTES -> XFER_US (0 on failure)
transfer() {
	local tool=$1 n=$2 port try t0 rpid dump=$DUMP_DIR/$1.dump
	XFER_US=0
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		receiver "$tool" "$port" "$dump"
		rm -f "$dump"
		if [ "$tool" = socat ]; then
			timeout "$T" "${RCMD[@]}" </dev/null >/dev/null 2>"$dump" &
		else
			timeout "$T" "${RCMD[@]}" </dev/null >/dev/null 2>"$tmp/recv.err" &
		fi
		rpid=$!
		track "$rpid"
		wait_listen "$port" "$rpid" 5 && break
		stop_pid "$rpid"
		rpid=""
	done
	[ -n "$rpid" ] || return 1
	# The previous run's dump may still be on its way to the disk; let it
	# land first, or its writeback would slow this run's writes.
	sync
	cat "$tmp/data" >/dev/null # back into the page cache, if it was dropped
	t0=$(now_us)
	if ((n == max)); then
		timeout "$T" "$GNC" 127.0.0.1 "$port" <"$tmp/data" || log "  sender failed"
	else
		head -c "$n" "$tmp/data" | timeout "$T" "$GNC" 127.0.0.1 "$port" || log "  sender failed"
	fi
	if ! wait_exit "$rpid" "$T"; then
		log "  $tool receiver did not exit"
		stop_pid "$rpid"
		return 1
	fi
	XFER_US=$(($(now_us) - t0))
	reap "$rpid"
	[ -s "$dump" ] || [ "$tool" = gnc-nodump ] || log "  $tool wrote no dump"
	rm -f "$dump"
}

declare -A RATES
for ((r = 1; r <= RUNS; r++)); do
	for t in "${TOOLS[@]}"; do
		# An untimed run of the same size first: this VM's first writes to
		# memory it has not touched lately are several times slower than
		# later ones, and that would measure the host, not the tool.
		log "run $r/$RUNS: $t $(human "${SIZE[$t]}") (warm-up, then timed)"
		transfer "$t" "${SIZE[$t]}"
		transfer "$t" "${SIZE[$t]}"
		if ((XFER_US > 0)); then
			rate=$(awk -v b="${SIZE[$t]}" -v us="$XFER_US" 'BEGIN{printf "%.1f", b / us}')
			RATES[$t]+="$rate "
			log "  $rate MB/s"
		fi
	done
done

echo "# gnc hex dump on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs, kernel $(uname -sr)"
echo "- dump files in $DUMP_DIR; traffic is random bytes; MB/s of traffic (10^6 bytes/s), median of $RUNS, each right after an untimed run of the same size"
echo
echo "| tool | dumping to a file | MB/s | x ncat -x |"
echo "|---|---|---:|---:|"
# shellcheck disable=SC2086
ncat_mbs=$(median ${RATES[ncat]:-})
for t in "${TOOLS[@]}"; do
	# shellcheck disable=SC2086
	m=$(median ${RATES[$t]:-})
	case $t in
	gnc) how="\`gnc -l --hexdump-file F\`" ;;
	gnc-nodump) how="\`gnc -l\` (no dump, zero-copy)" ;;
	ncat) how="\`ncat -l -x F\`" ;;
	nc.traditional) how="\`nc.traditional -l -o F\`" ;;
	socat) how="\`socat -x\` (stderr to F)" ;;
	esac
	echo "| $t | $how | ${m:-n/a} | $(ratio "${m:-}" "$ncat_mbs") |"
done
echo
echo "Each run (MB/s):"
echo
for t in "${TOOLS[@]}"; do echo "- $t: ${RATES[$t]:-n/a}"; done
echo
echo "## Formatter alone"
echo
"$BENCH_DIR/hexfmt.sh"
