#!/usr/bin/env bash
# bench/throughput.sh: loopback throughput of gnc against netcat-style peers.
#
# For every tool (gnc, nc.openbsd, ncat, socat, socat -b262144) the same tool
# is sender and receiver on 127.0.0.1. Two inputs:
#   pipe  PRODUCER | SENDER    (PRODUCER: the fastest zero producer found)
#   file  SENDER < FILE        (a zero-filled regular file, in page cache)
#   pipe2 PRODUCER2 | SENDER   (a second producer, vmsplice by default: it
#                               copies nothing, so the sender's own cost
#                               shows; PRODUCER2= to skip)
# iperf3 is shown as a ceiling (same figure in both columns).
# Time is wall clock from starting the sender until sender and receiver have
# both exited (for a receiver that does not exit at EOF: until the sender
# exits, then the receiver is killed). Rates are GB/s = 10^9 bytes/s,
# median of RUNS runs, runs interleaved across tools.
# Before timing, one verification run per tool and input (VERIFY_BYTES, into
# a file) checks the byte count and content; a tool that drops bytes is
# marked "lost data".
#
# Usage: bench/throughput.sh            (from any directory)
# Env:   PIPE_BYTES (4G)  FILE_BYTES (2G)  RUNS (3)  VERIFY_BYTES (64M)
#        TOOLS ("gnc nc.openbsd ncat socat socat-b262144")
#        PRODUCER (skip the producer contest: head|dd|zeros|zeros8k|vmsplice)
#        PRODUCER2 (vmsplice; empty: no pipe2 column)
#        QUICK=1  -> PIPE_BYTES=512M FILE_BYTES=256M RUNS=1
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # $tmp comes from bench_setup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${PIPE_BYTES:=512M}" "${FILE_BYTES:=256M}" "${RUNS:=1}"
fi
PIPE_BYTES=$(to_bytes "${PIPE_BYTES:-4G}") || exit 2
FILE_BYTES=$(to_bytes "${FILE_BYTES:-2G}") || exit 2
VERIFY_BYTES=$(to_bytes "${VERIFY_BYTES:-64M}") || exit 2
RUNS=${RUNS:-3}
T=120 # seconds, bound for every transfer
read -r -a TOOLS <<<"${TOOLS:-gnc nc.openbsd ncat socat socat-b262144}"

bench_setup throughput
ensure_peers || exit 1
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
build_gnc "$tmp"

declare -A RECV_EXITS # tool -> yes|no (does the receiver exit at EOF?)

# transfer TOOL pipe|file BYTES OUTFILE LIMIT verify|timed -> XFER_US XFER_ERR
transfer() {
	local tool=$1 input=$2 bytes=$3 out=$4 limit=$5 mode=$6 t0 src rrc=0
	XFER_US=0 XFER_ERR=""
	if ! start_receiver "$tool" "$out" "$limit"; then
		XFER_ERR="receiver did not start"
		return 1
	fi
	send_cmd "$tool" "$RPORT"
	# The machine's memory manager may have dropped the file from the page
	# cache since the last run; read it back first, untimed, so that no
	# tool is measured against the disk.
	[ "$input" = file ] && cat "$INFILE" >/dev/null
	t0=$(now_us)
	if [ "$input" = pipe ]; then
		produce "$bytes" | timeout "$limit" "${SCMD[@]}" 2>"$tmp/send.err"
		src=${PIPESTATUS[1]}
	elif [ "$input" = pipe2 ]; then
		produce_with "$PRODUCER2" "$bytes" | timeout "$limit" "${SCMD[@]}" 2>"$tmp/send.err"
		src=${PIPESTATUS[1]}
	else
		timeout "$limit" "${SCMD[@]}" <"$INFILE" 2>"$tmp/send.err"
		src=$?
	fi
	if [ "$mode" = verify ]; then
		if wait_exit "$RPID" 3; then
			RECV_EXITS[$tool]=yes
			reap "$RPID"
			rrc=$?
		else
			RECV_EXITS[$tool]=no
			stop_pid "$RPID"
		fi
	elif [ "${RECV_EXITS[$tool]:-yes}" = yes ]; then
		reap "$RPID" # bounded by the receiver's timeout
		rrc=$?
	else
		stop_pid "$RPID"
	fi
	XFER_US=$(($(now_us) - t0))
	if ((src == 124)); then
		XFER_ERR="sender still running after ${limit}s (killed)"
	elif ((src != 0)); then
		XFER_ERR="sender exit $src: $(head -c 160 "$tmp/send.err" | tr '\n' ' ')"
	fi
	if ((rrc == 124)); then
		XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver timed out"
	elif ((rrc != 0)); then
		XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver exit $rrc: $(grep -v -e '^Listening on' -e '^Connection' "$tmp/recv.err" | head -c 160 | tr '\n' ' ')"
	fi
	[ -z "$XFER_ERR" ]
}

# iperf_run BYTES [CLIENT ARGS...] -> IPERF_GBPS (receiver rate) or IPERF_ERR
iperf_run() {
	local bytes=$1 port pid try bps
	shift
	IPERF_GBPS="" IPERF_ERR=""
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || break
		timeout "$((T + 10))" iperf3 -s -1 -B 127.0.0.1 -p "$port" </dev/null >/dev/null 2>"$tmp/iperf.err" &
		pid=$!
		track "$pid"
		wait_listen "$port" "$pid" 5 && break
		stop_pid "$pid"
		pid=""
	done
	[ -n "$pid" ] || { IPERF_ERR="server did not start"; return 1; }
	timeout "$T" iperf3 -c 127.0.0.1 -p "$port" -n "$bytes" --json "$@" </dev/null >"$tmp/iperf.json" 2>>"$tmp/iperf.err"
	wait_exit "$pid" 5 || stop_pid "$pid"
	reap "$pid"
	bps=$(tr -d ' \n\t' <"$tmp/iperf.json" | sed -n 's/.*"sum_received":{[^}]*"bits_per_second":\([0-9.eE+]*\).*/\1/p')
	if [ -z "$bps" ]; then
		IPERF_ERR="no receiver rate in iperf3 output"
		return 1
	fi
	IPERF_GBPS=$(awk -v b="$bps" 'BEGIN{printf "%.3f\n", b / 8 / 1e9}')
}

# ---- header ---------------------------------------------------------------

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }
echo "# gnc throughput on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo)"
echo "- tools: gnc $([ -n "$GNC" ] && echo "(built from $REPO_ROOT)" || echo "(does not build: n/a)"), netcat-openbsd $(pkgver netcat-openbsd), ncat $(pkgver ncat), socat $(pkgver socat), iperf3 $(pkgver iperf3), $(go version | cut -d' ' -f3)"
echo "- sizes: pipe $(human "$PIPE_BYTES"), file $(human "$FILE_BYTES"), verification $(human "$VERIFY_BYTES"); $RUNS run(s) each, median; every transfer bounded by timeout ${T}s"
echo

# ---- producer -------------------------------------------------------------

log "choosing the producer"
PROBE_BYTES=$PIPE_BYTES
((PROBE_BYTES > 2147483648)) && PROBE_BYTES=2147483648
if [ -n "${PRODUCER:-}" ]; then
	# shellcheck disable=SC2034 # read by choose_producer
	PRODUCERS=("$PRODUCER")
fi
echo "## Producer"
echo
choose_producer "$PROBE_BYTES" "$((RUNS < 5 ? 5 : RUNS))"
PRODUCER2=${PRODUCER2-vmsplice}
INPUTS=(pipe file)
if [ -n "$PRODUCER2" ] && [ "$PRODUCER2" != "$PRODUCER" ]; then
	INPUTS+=(pipe2)
	echo "Second pipe producer (column pipe2): **$PRODUCER2** ($(producer_desc "$PRODUCER2"))."
fi
echo

# ---- input file -----------------------------------------------------------

INFILE=$tmp/zeros.bin
VFILE=$tmp/verify-in.bin
log "creating $(human "$FILE_BYTES") input file"
if ! produce "$FILE_BYTES" >"$INFILE" || [ "$(stat -c %s "$INFILE")" != "$FILE_BYTES" ]; then
	log "cannot create $INFILE (disk space?)"
	exit 1
fi
cat "$INFILE" >/dev/null # make sure it is in page cache
produce "$VERIFY_BYTES" >"$VFILE"

# ---- verification ---------------------------------------------------------

declare -A NOTE OK
for tool in "${TOOLS[@]}"; do
	OK[$tool]=1
	NOTE[$tool]=""
	if [ "$tool" = gnc ] && [ -z "$GNC" ]; then
		OK[$tool]=0
		NOTE[$tool]="gnc does not build"
		continue
	fi
	for input in "${INPUTS[@]}"; do
		log "verify $tool ($input, $(human "$VERIFY_BYTES"))"
		saved=$INFILE
		INFILE=$VFILE
		rm -f "$tmp/verify.out"
		transfer "$tool" "$input" "$VERIFY_BYTES" "$tmp/verify.out" 20 verify
		INFILE=$saved
		got=$(stat -c %s "$tmp/verify.out" 2>/dev/null || echo 0)
		if [ -n "$XFER_ERR" ]; then
			OK[$tool]=0
			NOTE[$tool]+="verify ($input) failed: $XFER_ERR (received $got of $VERIFY_BYTES bytes); "
		elif [ "$got" != "$VERIFY_BYTES" ]; then
			OK[$tool]=0
			NOTE[$tool]+="lost data ($input: received $got of $VERIFY_BYTES bytes); "
		elif ! cmp -s -n "$VERIFY_BYTES" "$tmp/verify.out" /dev/zero; then
			OK[$tool]=0
			NOTE[$tool]+="corrupted data ($input); "
		fi
	done
	if [ "${RECV_EXITS[$tool]:-}" = no ]; then
		NOTE[$tool]+="receiver does not exit at EOF (killed when the sender exits); "
	fi
done
rm -f "$tmp/verify.out" "$VFILE"

# ---- timed runs -----------------------------------------------------------

declare -A RATES # "tool input" -> space-separated GB/s of each run
declare -A FAILS
IPERF_RATES=()
IPERFZ_RATES=()
for ((run = 1; run <= RUNS; run++)); do
	for input in "${INPUTS[@]}"; do
		if [ "$input" = file ]; then bytes=$FILE_BYTES; else bytes=$PIPE_BYTES; fi
		for tool in "${TOOLS[@]}"; do
			((OK[$tool])) || continue
			log "run $run/$RUNS: $tool $input $(human "$bytes")"
			if transfer "$tool" "$input" "$bytes" /dev/null "$T" timed; then
				r=$(gbps "$bytes" "$XFER_US")
				RATES["$tool $input"]+="$r "
				log "  $r GB/s"
			else
				FAILS["$tool $input"]+="run $run: $XFER_ERR; "
				log "  failed: $XFER_ERR"
			fi
		done
	done
	log "run $run/$RUNS: iperf3 $(human "$PIPE_BYTES")"
	if iperf_run "$PIPE_BYTES"; then
		IPERF_RATES+=("$IPERF_GBPS")
		log "  $IPERF_GBPS GB/s"
	else
		log "  iperf3 failed: $IPERF_ERR"
	fi
	log "run $run/$RUNS: iperf3 -Z $(human "$PIPE_BYTES")"
	if iperf_run "$PIPE_BYTES" -Z; then
		IPERFZ_RATES+=("$IPERF_GBPS")
		log "  $IPERF_GBPS GB/s"
	else
		log "  iperf3 -Z failed: $IPERF_ERR"
	fi
done

# ---- table ----------------------------------------------------------------

cell() { # tool input -> median or failure text
	local key="$1 $2" v
	if [ -n "${FAILS[$key]:-}" ]; then
		echo "fail"
		return
	fi
	# shellcheck disable=SC2086
	v=$(median ${RATES[$key]:-})
	echo "${v:-n/a}"
}

echo "## Throughput (GB/s = 10^9 bytes/s, median of $RUNS)"
echo
has2=0
[[ " ${INPUTS[*]} " == *" pipe2 "* ]] && has2=1
echo "pipe: \`$PRODUCER $(human "$PIPE_BYTES") | SENDER\`; file: \`SENDER < $(human "$FILE_BYTES") file\`$( ((has2)) && echo "; pipe2: \`$PRODUCER2 $(human "$PIPE_BYTES") | SENDER\`"). Same tool on both ends."
echo
if ((has2)); then
	echo "| tool | pipe GB/s | x nc.openbsd | file GB/s | x nc.openbsd | pipe2 GB/s | x nc.openbsd | notes |"
	echo "|---|---:|---:|---:|---:|---:|---:|---|"
else
	echo "| tool | pipe GB/s | x nc.openbsd | file GB/s | x nc.openbsd | notes |"
	echo "|---|---:|---:|---:|---:|---|"
fi
base_pipe=$(cell nc.openbsd pipe)
base_file=$(cell nc.openbsd file)
base_pipe2=$(cell nc.openbsd pipe2)
for tool in "${TOOLS[@]}"; do
	note=${NOTE[$tool]}
	if ((OK[$tool])); then
		p=$(cell "$tool" pipe)
		f=$(cell "$tool" file)
		p2=$(cell "$tool" pipe2)
		note+="${FAILS["$tool pipe"]:-}${FAILS["$tool file"]:-}${FAILS["$tool pipe2"]:-}"
		if awk -v a="$p" -v b="$PRODUCER_RATE" 'BEGIN{exit !(a+0 > 0.85*b)}'; then
			note+="pipe rate near the producer's ($PRODUCER_RATE GB/s); "
		fi
	else
		p=fail f=fail p2=fail
		case $note in
		*"lost data"*) p="lost data" f="lost data" p2="lost data" ;;
		*"does not build"*) p=n/a f=n/a p2=n/a ;;
		esac
	fi
	c2=""
	((has2)) && c2=" $p2 | $(ratio "$p2" "$base_pipe2") |"
	echo "| $(tool_label "$tool") | $p | $(ratio "$p" "$base_pipe") | $f | $(ratio "$f" "$base_file") |$c2 ${note%; } |"
done
ip=$(median "${IPERF_RATES[@]}")
c2=""
((has2)) && c2=" ${ip:-n/a} | $(ratio "$ip" "$base_pipe2") |"
echo "| iperf3 (ceiling) | ${ip:-n/a} | $(ratio "$ip" "$base_pipe") | ${ip:-n/a} | $(ratio "$ip" "$base_file") |$c2 iperf3 -n $(human "$PIPE_BYTES"), receiver rate; no pipe/file distinction |"
ipz=$(median "${IPERFZ_RATES[@]}")
((has2)) && c2=" ${ipz:-n/a} | $(ratio "$ipz" "$base_pipe2") |"
echo "| iperf3 -Z | ${ipz:-n/a} | $(ratio "$ipz" "$base_pipe") | ${ipz:-n/a} | $(ratio "$ipz" "$base_file") |$c2 same with -Z (sender uses sendfile) |"
echo
echo "iperf3 copies through user space on both ends; it is the ceiling for tools that do. A tool that moves bytes in the kernel (sendfile from a file, splice into /dev/null or from a pipe) can beat it; the /dev/null sink makes such a receiver almost free."
echo
echo "Each run (GB/s):"
echo
for tool in "${TOOLS[@]}"; do
	((OK[$tool])) || continue
	echo "- $(tool_label "$tool"): pipe ${RATES["$tool pipe"]:-none}/ file ${RATES["$tool file"]:-none}$( ((has2)) && echo "/ pipe2 ${RATES["$tool pipe2"]:-none}")"
done
echo "- iperf3: ${IPERF_RATES[*]:-none}"
echo "- iperf3 -Z: ${IPERFZ_RATES[*]:-none}"
