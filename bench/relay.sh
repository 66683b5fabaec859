#!/usr/bin/env bash
# bench/relay.sh: gnc relay against socat, ncat and a naive Go relay, on loopback.
#
# Relays (each forwards 127.0.0.1:RP to a target on 127.0.0.1):
#   gnc      gnc relay listen:127.0.0.1:RP 127.0.0.1:PORT
#   socat    socat TCP-LISTEN:RP,bind=127.0.0.1,fork,reuseaddr TCP:127.0.0.1:PORT
#   ncat     ncat -l 127.0.0.1 RP -k --sh-exec "ncat 127.0.0.1 PORT"
#   gorelay  bench/cmd/gorelay (net.Listen + two io.Copy + CloseWrite)
#
# 1. Throughput: PRODUCER | SENDER -> relay -> RECEIVER >/dev/null, RELAY_BYTES,
#    median of RUNS (sender/receiver: gnc, or nc.openbsd if gnc doesn't build),
#    after one verification run per relay that checks the byte count.
# 2. Connection rate: bench/cmd/backend -mode reply, bench/cmd/loadgen at -c 1
#    and -c 50 for DURATION, directly and through each relay, with the CPU
#    time each connection cost; then again with the endpoints pinned to
#    CPU 0 and the relay to CPU 1.
# 3. Idle pairings: backend -mode echo; loadgen -idle N through each relay;
#    memory and fds per pairing, and whether fds return to the start value.
#
# Usage: bench/relay.sh            (from any directory)
# Env:   RELAY_BYTES (2G)  RUNS (3)  DURATION (10s)  IDLE_COUNTS ("1000 8000")
#        RELAYS ("gnc socat ncat gorelay")  ENDPOINT (gnc|nc.openbsd)
#        PRODUCER (head|dd|zeros|zeros8k|vmsplice; default: quick contest)
#        SECTIONS ("throughput rate idle")
#        PIN (1: also measure the rate pinned, endpoints on CPU 0, relay on CPU 1)
#        QUICK=1 -> RELAY_BYTES=256M RUNS=1 DURATION=3s
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${RELAY_BYTES:=256M}" "${RUNS:=1}" "${DURATION:=3s}"
fi
RELAY_BYTES=$(to_bytes "${RELAY_BYTES:-2G}") || exit 2
VERIFY_BYTES=$(to_bytes "${VERIFY_BYTES:-64M}") || exit 2
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
read -r -a IDLE_COUNTS <<<"${IDLE_COUNTS:-1000 8000}"
read -r -a RELAYS <<<"${RELAYS:-gnc socat ncat gorelay}"
read -r -a SECTIONS <<<"${SECTIONS:-throughput rate idle}"
NCAT_MAXCONNS="" # idle section only: ncat -k serves at most 100 clients by default
T=120          # bound for one transfer
RELAY_MAX=600  # bound for one relay instance (each lives for one measurement)
HOLD_MAX=300s  # bound for loadgen -idle

bench_setup relay
ensure_peers || exit 1
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
build_gnc "$tmp"
ENDPOINT_FORCED=${ENDPOINT:-}
ENDPOINT=${ENDPOINT:-$([ -n "$GNC" ] && echo gnc || echo nc.openbsd)}
ENDPOINT_NOTE=""

has_section() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }

# CPU pinning (taskset prefixes) for the connection-rate rows marked
# "pinned": empty means unpinned.
LOAD_PIN=()
RELAY_PIN=()

# ---- relays ---------------------------------------------------------------

relay_cmd() { # NAME RP TARGETPORT -> XCMD
	case $1 in
	gnc) XCMD=("$GNC" relay "listen:127.0.0.1:$2" "127.0.0.1:$3") ;;
	socat) XCMD=(socat "TCP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "TCP:127.0.0.1:$3") ;;
	ncat) XCMD=(ncat -l 127.0.0.1 "$2" -k ${NCAT_MAXCONNS:+-m "$NCAT_MAXCONNS"} --sh-exec "ncat 127.0.0.1 $3") ;;
	gorelay) XCMD=("$BIN/gorelay" -l "127.0.0.1:$2" -t "127.0.0.1:$3" -max "${RELAY_MAX}s") ;;
	*) return 1 ;;
	esac
}

relay_label() {
	case $1 in
	none) echo "no relay" ;;
	gnc) echo "gnc relay" ;;
	socat) echo "socat fork" ;;
	ncat) echo "ncat -k --sh-exec" ;;
	gorelay) echo "Go io.Copy relay" ;;
	esac
}

relay_available() {
	[ "$1" != gnc ] || [ -n "$GNC" ]
}

# start_relay NAME TARGETPORT -> RELAY_TPID (timeout), RELAY_PID (the relay), RELAY_PORT
start_relay() {
	local name=$1 target=$2 try port
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		relay_cmd "$name" "$port" "$target" || return 1
		run_bg timeout "$RELAY_MAX" "${RELAY_PIN[@]}" "${XCMD[@]}" </dev/null >"$tmp/relay.out" 2>"$tmp/relay.err"
		RELAY_TPID=$BGPID
		track "$RELAY_TPID"
		if wait_listen "$port" "$RELAY_TPID" 5; then
			RELAY_PORT=$port
			RELAY_PID=$(child_of "$RELAY_TPID") || RELAY_PID=""
			# for a listening socket ss shows the accept backlog as Send-Q
			RELAY_BACKLOG=$(ss -Hltn "sport = :$port" | awk '{print $3; exit}')
			return 0
		fi
		log "  $name relay did not come up on port $port: $(head -c 200 "$tmp/relay.err")"
		stop_pid "$RELAY_TPID"
	done
	return 1
}

# stop_relay: stop the relay and any per-connection processes it left.
stop_relay() {
	local kids p
	kids=$([ -n "${RELAY_PID:-}" ] && descendants "$RELAY_PID" | tail -n +2)
	stop_pid "$RELAY_TPID"
	for p in $kids; do # forked children (socat, ncat) that outlived the parent
		[ -e "/proc/$p" ] && kill "$p" 2>/dev/null
	done
	RELAY_TPID="" RELAY_PID=""
}

# ---- header ---------------------------------------------------------------

echo "# gnc relay benchmark on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr), $(awk '/MemTotal/{printf "%.0f GiB RAM", $2/1048576}' /proc/meminfo), fd limit $(ulimit -n)"
echo "- tools: gnc $([ -n "$GNC" ] && echo "(built from $REPO_ROOT)" || echo "(does not build: n/a)"), socat $(pkgver socat), ncat $(pkgver ncat), $(go version | cut -d' ' -f3)"
echo "- sections: ${SECTIONS[*]}; relays: ${RELAYS[*]}"
echo

# ---- 1. throughput ----------------------------------------------------------

# relay_xfer RELAY BYTES OUT LIMIT -> XFER_US XFER_ERR
relay_xfer() {
	local relay=$1 bytes=$2 out=$3 limit=$4 port t0 src rrc=0
	XFER_US=0 XFER_ERR=""
	start_receiver "$ENDPOINT" "$out" "$limit" || { XFER_ERR="receiver did not start"; return 1; }
	port=$RPORT
	if [ "$relay" != none ]; then
		if ! start_relay "$relay" "$RPORT"; then
			XFER_ERR="relay did not start"
			stop_pid "$RPID"
			return 1
		fi
		port=$RELAY_PORT
	fi
	send_cmd "$ENDPOINT" "$port"
	t0=$(now_us)
	produce "$bytes" | timeout "$limit" "${SCMD[@]}" 2>"$tmp/send.err"
	src=${PIPESTATUS[1]}
	if wait_exit "$RPID" 10; then
		reap "$RPID"
		rrc=$?
	else
		XFER_ERR="receiver still running 10 s after the sender exited (EOF not passed on?)"
		stop_pid "$RPID"
	fi
	XFER_US=$(($(now_us) - t0))
	[ "$relay" != none ] && stop_relay
	if ((src == 124)); then
		XFER_ERR="${XFER_ERR:+$XFER_ERR; }sender still running after ${limit}s"
	elif ((src != 0)); then
		XFER_ERR="${XFER_ERR:+$XFER_ERR; }sender exit $src: $(head -c 160 "$tmp/send.err" | tr '\n' ' ')"
	fi
	((rrc != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver exit $rrc"
	[ -z "$XFER_ERR" ]
}

if has_section throughput; then
	log "choosing the producer"
	PROBE_BYTES=$RELAY_BYTES
	((PROBE_BYTES > 1073741824)) && PROBE_BYTES=1073741824
	# shellcheck disable=SC2034 # read by choose_producer
	[ -n "${PRODUCER:-}" ] && PRODUCERS=("$PRODUCER")
	choose_producer "$PROBE_BYTES" 5 >"$tmp/producer.md"

	# gnc builds but may not work yet: if it fails a direct transfer, use
	# nc.openbsd as sender and receiver instead.
	if [ "$ENDPOINT" = gnc ] && [ -z "$ENDPOINT_FORCED" ]; then
		rm -f "$tmp/verify.out"
		relay_xfer none "$VERIFY_BYTES" "$tmp/verify.out" 30
		got=$(stat -c %s "$tmp/verify.out" 2>/dev/null || echo 0)
		if [ -n "$XFER_ERR" ] || [ "$got" != "$VERIFY_BYTES" ]; then
			ENDPOINT_NOTE="gnc failed a direct $(human "$VERIFY_BYTES") transfer (${XFER_ERR:-received $got bytes}), so nc.openbsd is the sender and receiver."
			log "$ENDPOINT_NOTE"
			ENDPOINT=nc.openbsd
		fi
	fi
	TARGETS=(none)
	for r in "${RELAYS[@]}"; do relay_available "$r" && TARGETS+=("$r"); done
	declare -A TP_RATES TP_NOTE TP_OK
	for r in "${TARGETS[@]}"; do
		log "verify $r ($(human "$VERIFY_BYTES"))"
		TP_OK[$r]=1
		TP_NOTE[$r]=""
		rm -f "$tmp/verify.out"
		relay_xfer "$r" "$VERIFY_BYTES" "$tmp/verify.out" 30
		got=$(stat -c %s "$tmp/verify.out" 2>/dev/null || echo 0)
		if [ -n "$XFER_ERR" ]; then
			TP_OK[$r]=0
			TP_NOTE[$r]+="verify failed: $XFER_ERR (received $got of $VERIFY_BYTES bytes); "
		elif [ "$got" != "$VERIFY_BYTES" ]; then
			TP_OK[$r]=0
			TP_NOTE[$r]+="lost data (received $got of $VERIFY_BYTES bytes); "
		fi
	done
	rm -f "$tmp/verify.out"
	for ((run = 1; run <= RUNS; run++)); do
		for r in "${TARGETS[@]}"; do
			((TP_OK[$r])) || continue
			log "throughput run $run/$RUNS: $r $(human "$RELAY_BYTES")"
			if relay_xfer "$r" "$RELAY_BYTES" /dev/null "$T"; then
				v=$(gbps "$RELAY_BYTES" "$XFER_US")
				TP_RATES[$r]+="$v "
				log "  $v GB/s"
			else
				TP_NOTE[$r]+="run $run failed: $XFER_ERR; "
				log "  failed: $XFER_ERR"
			fi
		done
	done

	echo "## Relay throughput (GB/s = 10^9 bytes/s, median of $RUNS)"
	echo
	echo "\`$PRODUCER $(human "$RELAY_BYTES") | $ENDPOINT 127.0.0.1 RP\` → relay → \`$ENDPOINT -l 127.0.0.1 PORT >/dev/null\`; wall clock from starting the sender until the receiver has exited. ${ENDPOINT_NOTE}"
	echo
	echo "| relay | GB/s | x socat | runs | notes |"
	echo "|---|---:|---:|---|---|"
	# shellcheck disable=SC2086
	base=$(median ${TP_RATES[socat]:-})
	for r in "${TARGETS[@]}"; do
		# shellcheck disable=SC2086
		v=$(median ${TP_RATES[$r]:-})
		if ((!TP_OK[$r])); then
			case ${TP_NOTE[$r]} in *"lost data"*) v="lost data" ;; *) v=fail ;; esac
		fi
		echo "| $(relay_label "$r") | ${v:-n/a} | $(ratio "$v" "$base") | ${TP_RATES[$r]:-} | ${TP_NOTE[$r]%; } |"
	done
	for r in "${RELAYS[@]}"; do
		relay_available "$r" || echo "| $(relay_label "$r") | n/a | n/a | | gnc does not build |"
	done
	echo
	echo "Producer contest:"
	echo
	cat "$tmp/producer.md"
	echo
fi

# ---- 2. connection rate -----------------------------------------------------

# tcp_out_segs: TCP segments the machine has sent (nstat's TcpOutSegs), or
# nothing without nstat.
tcp_out_segs() { nstat -az TcpOutSegs 2>/dev/null | awk '$1 == "TcpOutSegs" {print $2}'; }

# rate_target R KEY [LOADGEN ARGS...]: loadgen at -c 1 and -c 50 against
# relay R (or none) in front of the running backend; results under "KEY c".
rate_target() {
	local r=$1 key=$2 port=$BACKEND_PORT c j
	shift 2
	if [ "$r" != none ]; then
		if ! start_relay "$r" "$BACKEND_PORT"; then
			log "relay $r did not start"
			return 1
		fi
		port=$RELAY_PORT
		BACKLOG[$key]=$RELAY_BACKLOG
	else
		BACKLOG[$key]=$(ss -Hltn "sport = :$port" | awk '{print $3; exit}')
	fi
	for c in 1 50; do
		log "rate: $key -c $c for $DURATION $*"
		m0=$(machine_ticks) r0=$(proc_ticks "${RELAY_PID:-}") s0=$(tcp_out_segs)
		j=$(timeout "$((dsec + 60))" "${LOAD_PIN[@]}" "$BIN/loadgen" -addr "127.0.0.1:$port" -c "$c" -d "$DURATION" -req 64 -resp 64 "$@" </dev/null 2>"$tmp/loadgen.err" | tail -1)
		m1=$(machine_ticks) r1=$(proc_ticks "${RELAY_PID:-}") s1=$(tcp_out_segs)
		log "  $j"
		n=$(jget "$j" conns)
		MCPU["$key $c"]=$(us_per "$((m1 - m0))" "$n")
		SEGS["$key $c"]=$(awk -v a="$s0" -v b="$s1" -v n="$n" 'BEGIN{ if (a == "" || b == "" || n + 0 == 0) print "n/a"; else printf "%.1f\n", (b - a) / n }')
		RCPU["$key $c"]=""
		[ "$r" != none ] && RCPU["$key $c"]=$(us_per "$((r1 - r0))" "$n")
		RATE["$key $c"]=$(jget "$j" rate)
		P50["$key $c"]=$(jget "$j" p50_ms)
		P99["$key $c"]=$(jget "$j" p99_ms)
		ERRS["$key $c"]=$(jget "$j" errors)
		if [ -n "${ERRS["$key $c"]}" ] && ((ERRS["$key $c"] > 0)); then
			ERRS["$key $c"]+=" ($(sed -n 's/.*"error_kinds":{\([^}]*\)}.*/\1/p' <<<"$j" | tr -d '"' | head -c 120))"
		fi
	done
	[ "$r" != none ] && stop_relay
	return 0
}

if has_section rate; then
	declare -A RATE P50 P99 ERRS BACKLOG MCPU RCPU SEGS
	dsec=$(awk -v d="$DURATION" 'BEGIN{ v = d + 0; if (d ~ /ms$/) v /= 1000; else if (d ~ /m$/) v *= 60; printf "%d", v + 1 }')
	TARGETS=(none)
	for r in "${RELAYS[@]}"; do relay_available "$r" && TARGETS+=("$r"); done
	start_backend reply || exit 1
	for r in "${TARGETS[@]}"; do
		rate_target "$r" "$r"
	done
	stop_backend
	# A relay that completes no connection at all with half-closing clients
	# (ncat --sh-exec drops the reply after the client's FIN, and never passes
	# the server's FIN back) is measured again without either: no half-close,
	# a backend that replies once 64 bytes arrived, a client that reads 64
	# bytes and closes; next to a no-relay row run the same way.
	NOHC=()
	for r in "${TARGETS[@]}"; do
		[ "$r" = none ] && continue
		if [ "${RATE["$r 1"]:-0}" = 0 ] && [ "${RATE["$r 50"]:-0}" = 0 ]; then
			NOHC+=("$r")
		fi
	done
	ROWS=("${TARGETS[@]}")
	if ((${#NOHC[@]})); then
		start_backend reply -req 64 || exit 1
		rate_target none "none-nohc" -halfclose=false -eof=false
		ROWS+=(none-nohc)
		for r in "${NOHC[@]}"; do
			rate_target "$r" "$r-nohc" -halfclose=false -eof=false && ROWS+=("$r-nohc")
		done
		stop_backend
	fi

	# Pinned: the load generator and the backend on CPU 0, the relay on
	# CPU 1, as if the relay had a machine of its own. The no-relay row
	# then runs on CPU 0 alone, so it is the endpoints' own ceiling.
	if [ "${PIN:-1}" = 1 ] && (($(nproc) >= 2)) && command -v taskset >/dev/null; then
		LOAD_PIN=(taskset -c 0) RELAY_PIN=(taskset -c 1)
		start_backend reply || exit 1
		for r in "${TARGETS[@]}"; do
			[[ " ${NOHC[*]} " == *" $r "* ]] && continue
			rate_target "$r" "$r-pin" && ROWS+=("$r-pin")
		done
		stop_backend
		LOAD_PIN=() RELAY_PIN=()
	fi

	echo "## Connection rate"
	echo
	echo "bench/cmd/loadgen for $DURATION per row: each connection = dial, write 64 B, half-close, read the 64 B reply to EOF, close (backend -mode reply: replies at EOF). p50/p99: whole-connection latency. Rows marked \"no FIN\" are for a relay that completed no connection that way: no half-close, the backend replies once 64 bytes arrived, the client reads 64 bytes and closes without waiting for EOF; they are compared with the no-relay row run the same way."
	echo
	echo "| relay | -c | conns/s | p50 ms | p99 ms | errors | x socat | % of no relay | CPU µs/conn, machine | CPU µs/conn, relay | TCP segments/conn | listen backlog |"
	echo "|---|---:|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|"
	for c in 1 50; do
		for key in "${ROWS[@]}"; do
			v=${RATE["$key $c"]:-}
			socat=${RATE["socat $c"]:-}
			case $key in
			*-nohc) label="$(relay_label "${key%-nohc}") (no FIN)" base=${RATE["none-nohc $c"]:-} ;;
			*-pin) label="$(relay_label "${key%-pin}") (pinned)" base=${RATE["none-pin $c"]:-} socat=${RATE["socat-pin $c"]:-} ;;
			*) label=$(relay_label "$key") base=${RATE["none $c"]:-} ;;
			esac
			pct=$(awk -v a="$v" -v b="$base" 'BEGIN{ if (a == "" || b + 0 == 0) print "n/a"; else printf "%.0f%%\n", 100 * a / b }')
			echo "| $label | $c | ${v:-n/a} | ${P50["$key $c"]:-n/a} | ${P99["$key $c"]:-n/a} | ${ERRS["$key $c"]:-n/a} | $(ratio "$v" "$socat") | $pct | ${MCPU["$key $c"]:-n/a} | ${RCPU["$key $c"]:-} | ${SEGS["$key $c"]:-n/a} | ${BACKLOG[$key]:-?} |"
		done
	done
	for r in "${RELAYS[@]}"; do
		relay_available "$r" || echo "| $(relay_label "$r") | | n/a | | | | | gnc does not build | | | | |"
	done
	echo
	echo "listen backlog: the relay's accept queue (ss Send-Q); a short one drops SYNs under -c 50, which shows as ~1 s (SYN retransmit) p99s and resets. CPU µs/conn: busy time of the whole machine (/proc/stat: load generator, backend and relay together) and of the relay process with its reaped children (/proc/PID/stat), divided by the connections completed. TCP segments/conn: segments the machine sent (nstat TcpOutSegs, both legs and both endpoints, ACKs included) per connection completed. Rows marked \"pinned\" run the load generator and the backend on CPU 0 and the relay on CPU 1 (taskset), as if the relay had a machine of its own; their no-relay row runs on CPU 0 alone, and their ratios compare pinned rows only."
	echo
fi

# ---- 3. idle pairings -------------------------------------------------------

# relay_mem: KiB: VmRSS of the relay, or for process-per-connection relays the
# PSS summed over the relay and all its descendants.
# shellcheck disable=SC2046 # one PID per word
relay_mem() {
	case $1 in
	socat | ncat) tree_pss $(descendants "$RELAY_PID") ;;
	*) rss_kib "$RELAY_PID" ;;
	esac
}
# shellcheck disable=SC2046 # one PID per word
relay_fds() { tree_fds $(descendants "$RELAY_PID"); }
relay_procs() { descendants "$RELAY_PID" | wc -l; }

# idle_test RELAY N -> one Markdown row
idle_test() {
	local r=$1 n=$2 mem0 fd0 mem1 fd1 procs json open errs lgpid lgfd i fd2 back perkib perfd status ramp=500
	# socat and ncat listen with a backlog of 5 and 10: ramp no faster than
	# that, or dropped SYNs (1 s, 3 s, 7 s... retransmits) time the clients out.
	case $r in
	socat) ramp=5 ;;
	ncat) ramp=10 ;;
	esac
	if ! start_relay "$r" "$BACKEND_PORT"; then
		echo "| $(relay_label "$r") | $n | relay did not start | | | | | | |"
		return
	fi
	if [ -z "$RELAY_PID" ]; then
		echo "| $(relay_label "$r") | $n | cannot find the relay's PID | | | | | | |"
		stop_relay
		return
	fi
	mem0=$(relay_mem "$r") fd0=$(relay_fds)
	rm -f "$tmp/lg.in" "$tmp/lg.out"
	mkfifo "$tmp/lg.in"
	# (redirections on the command itself: the FIFO must be opened by the child)
	"$BIN/loadgen" -addr "127.0.0.1:$RELAY_PORT" -idle "$n" -hold "$HOLD_MAX" -ramp "$ramp" -timeout 30s \
		<"$tmp/lg.in" >"$tmp/lg.out" 2>"$tmp/lg.err" {BACKEND_FD}>&- &
	lgpid=$!
	track "$lgpid"
	exec {lgfd}>"$tmp/lg.in"
	if ! wait_line "$tmp/lg.out" '^READY' "$lgpid" 240; then
		echo "| $(relay_label "$r") | $n | loadgen did not get ready: $(head -c 100 "$tmp/lg.err") | | | | | | |"
		exec {lgfd}>&-
		stop_pid "$lgpid"
		stop_relay
		return
	fi
	json=$(head -1 "$tmp/lg.out")
	log "  $json"
	open=$(jget "$json" open) errs=$(jget "$json" errors)
	mem1=$(relay_mem "$r") fd1=$(relay_fds) procs=$(relay_procs)
	echo >&"$lgfd"
	exec {lgfd}>&-
	wait_exit "$lgpid" 60 || stop_pid "$lgpid"
	reap "$lgpid"
	# wait up to 10 s for the relay to drop back to its starting fd count
	back=no fd2=$fd1
	for ((i = 0; i < 200; i++)); do
		fd2=$(relay_fds)
		((fd2 <= fd0)) && { back=yes; break; }
		sleep 0.05
	done
	[ "$back" = no ] && back="no: $fd2 after 10 s (start $fd0, +$((fd2 - fd0)))"
	if ((open < n)); then
		if grep -qi 'too many open files' "$tmp/relay.err" 2>/dev/null; then
			status="fails (EMFILE): $open of $n opened"
		else
			status="fails: $open of $n opened, $errs errors"
		fi
	else
		status="$open"
	fi
	perkib=$(awk -v a="$mem0" -v b="$mem1" -v n="$open" 'BEGIN{ if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }')
	perfd=$(awk -v a="$fd0" -v b="$fd1" -v n="$open" 'BEGIN{ if (n > 0) printf "%.2f", (b - a) / n; else print "n/a" }')
	echo "| $(relay_label "$r") | $n | $status | $mem0 → $mem1 | $perkib | $fd0 → $fd1 | $perfd | $procs | $back |"
	stop_relay
}

if has_section idle; then
	NCAT_MAXCONNS=1024
	start_backend echo || exit 1
	{
		echo "## Idle pairings"
		echo
		echo "backend -mode echo; \`loadgen -idle N\` opens N connections through the relay, checks a 1-byte echo on each, and holds them idle. Memory: VmRSS of the relay (gnc, Go relay), or PSS summed over the relay and all its per-connection processes (socat fork, ncat --sh-exec: only 1000 pairings); per pairing = (loaded - before) / opened. fds: summed over the same processes. \"fds back\": after all clients closed, did the fd count return to its starting value within 10 s."
		echo
		echo "ncat runs with \`-m $NCAT_MAXCONNS\` here (its default --max-conns is 100). loadgen opens 500 connections at a time, but 5 for socat and 10 for ncat, whose listen backlogs are 5 and 10 (faster ramps lose SYNs and time out)."
		echo
		echo "| relay | pairings | opened | memory KiB before → loaded | KiB per pairing | fds before → loaded | fds per pairing | processes | fds back after close |"
		echo "|---|---:|---|---|---:|---|---:|---:|---|"
	} >"$tmp/idle.md"
	for r in "${RELAYS[@]}"; do
		if ! relay_available "$r"; then
			echo "| $(relay_label "$r") | | n/a (gnc does not build) | | | | | | |" >>"$tmp/idle.md"
			continue
		fi
		for n in "${IDLE_COUNTS[@]}"; do
			case $r in socat | ncat) ((n > 1000)) && continue ;; esac
			log "idle: $r $n pairings"
			idle_test "$r" "$n" >>"$tmp/idle.md"
		done
	done
	stop_backend
	cat "$tmp/idle.md"
	echo
fi
