#!/usr/bin/env bash
# bench/exec.sh: a program per connection (gnc -e, ncat -e, socat EXEC:) and
# gnc's built-in echo:, on loopback.
#
# 1. Process start: bench/cmd/spawn runs /bin/cat </dev/null SPAWNS times,
#    2 at a time, from Go with syscall.ForkExec as gnc does: starts per
#    second and CPU per start (the starter's and the child's). With every CPU busy
#    starting processes and nothing else, that is the ceiling of any
#    server that starts one per connection.
# 2. Connection rate: bench/cmd/loadgen -c CLIENTS for DURATION against
#      backend  bench/cmd/backend -mode echo (a Go echo server: the direct line)
#      gnc -e   gnc -l -k 127.0.0.1 P -e /bin/cat
#      ncat -e  ncat -l -k 127.0.0.1 P -e /bin/cat
#      socat    socat TCP-LISTEN:P,bind=127.0.0.1,fork,backlog=1024,reuseaddr EXEC:/bin/cat
#      echo:    gnc relay listen:127.0.0.1:P echo:
#    in two ways: "close" (connect, write 64 B, read the 64 B echo, close:
#    loadgen -halfclose=false -eof=false), and "FIN" (connect, write 64 B,
#    half-close, read the echo to end of file, close). Every target is
#    measured once per round, the rounds one after another, so that drift
#    on a shared machine touches them all alike; the figures are medians
#    over ROUNDS. CPU per connection: the whole machine's busy time
#    (/proc/stat), and the server's with the children it reaped
#    (/proc/PID/stat), divided by the connections completed.
# 3. Throughput, EXEC_BYTES one way through cat, median of RUNS, after a
#    pass that counts the bytes (wc -c):
#      stdio    zeros | gnc relay - exec:cat >/dev/null
#               zeros | socat - EXEC:cat >/dev/null
#      network  zeros | gnc 127.0.0.1 P >/dev/null against
#               gnc relay --once listen:127.0.0.1:P exec:cat, or
#               socat TCP-LISTEN:P,bind=127.0.0.1,reuseaddr EXEC:cat
#               (the same gnc client for both: the bytes cross the server
#               to cat and back)
#
# Usage: bench/exec.sh
# Env:   DURATION (10s) CLIENTS (50) ROUNDS (1) SPAWNS (2000) EXEC_BYTES (1G)
#        RUNS (3) SECTIONS ("spawn rate throughput")
#        TARGETS ("backend gnc-exec ncat socat gnc-echo")
#        QUICK=1 -> DURATION=3s EXEC_BYTES=256M RUNS=1 SPAWNS=500
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # $tmp comes from bench_setup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${DURATION:=3s}" "${EXEC_BYTES:=256M}" "${RUNS:=1}" "${SPAWNS:=500}"
fi
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-50}
ROUNDS=${ROUNDS:-1}
SPAWNS=${SPAWNS:-2000}
EXEC_BYTES=$(to_bytes "${EXEC_BYTES:-1G}") || exit 2
VERIFY_BYTES=$(to_bytes "${VERIFY_BYTES:-64M}") || exit 2
RUNS=${RUNS:-3}
read -r -a SECTIONS <<<"${SECTIONS:-spawn rate throughput}"
read -r -a TARGETS <<<"${TARGETS:-backend gnc-exec ncat socat gnc-echo}"
T=300 # seconds, bound for every server and transfer
LOAD_PIN=()

bench_setup exec
ensure_peers || exit 1
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
(cd "$REPO_ROOT" && go build -o "$BIN/spawn" ./bench/cmd/spawn) || exit 1
build_gnc "$tmp"
[ -n "$GNC" ] || { log "gnc does not build"; exit 1; }

has_section() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }
dsec=$(awk -v d="$DURATION" 'BEGIN{ v = d + 0; if (d ~ /ms$/) v /= 1000; else if (d ~ /m$/) v *= 60; printf "%d", v + 1 }')

echo "# gnc exec benchmark on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr), load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- tools: gnc (built from $REPO_ROOT), ncat $(pkgver ncat), socat $(pkgver socat), $(go version | cut -d' ' -f3)"
echo

# ---- 1. process start ---------------------------------------------------------

if has_section spawn; then
	log "spawn: $SPAWNS x /bin/cat"
	SPAWN_JSON=$("$BIN/spawn" -n "$SPAWNS" -p 2 -prog /bin/cat 2>"$tmp/spawn.err" | tail -1)
	log "  $SPAWN_JSON"
	echo "## Process start"
	echo
	echo "\`bench/cmd/spawn -n $SPAWNS -p 2\`: /bin/cat with stdin, stdout and stderr on /dev/null, started from Go with syscall.ForkExec and waited for, 2 at a time."
	echo
	echo "| starts/s | CPU µs per start | of which the starter's (fork, wait) | of which the child's (exec, loader, cat, exit) |"
	echo "|---:|---:|---:|---:|"
	printf '| %.0f | %.0f | %.0f | %.0f |\n' "$(jget "$SPAWN_JSON" rate)" "$(jget "$SPAWN_JSON" cpu_us_per_start)" "$(jget "$SPAWN_JSON" self_cpu_us)" "$(jget "$SPAWN_JSON" child_cpu_us)"
	echo
	SPAWN_CPU=$(jget "$SPAWN_JSON" cpu_us_per_start)
	echo "With all $(nproc) CPUs doing nothing but this, a server that starts a process per connection completes at most $(awk -v c="$SPAWN_CPU" -v n="$(nproc)" 'BEGIN{ if (c > 0) printf "%.0f", n * 1e6 / c; else print "n/a" }') connections a second, before any networking or the load generator's own share."
	echo
fi

# ---- 2. connection rate -------------------------------------------------------

label() {
	case $1 in
	backend) echo "direct echo backend (bench/cmd/backend -mode echo)" ;;
	gnc-exec) echo "\`gnc -l -k -e /bin/cat\`" ;;
	ncat) echo "\`ncat -l -k -e /bin/cat\`" ;;
	socat) echo "\`socat TCP-LISTEN,fork,backlog=1024 EXEC:/bin/cat\`" ;;
	gnc-echo) echo "\`gnc relay listen:P echo:\`" ;;
	esac
}

# start_target NAME -> SPID (the server itself) SPORT; backend: BACKEND_*.
start_target() {
	local name=$1 try port
	if [ "$name" = backend ]; then
		start_backend echo || return 1
		SPID=$BACKEND_PID SPORT=$BACKEND_PORT
		return 0
	fi
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		case $name in
		gnc-exec) run_bg timeout "$T" "$GNC" -l -k 127.0.0.1 "$port" -e /bin/cat ;;
		ncat) run_bg timeout "$T" ncat -l -k 127.0.0.1 "$port" -e /bin/cat ;;
		socat) run_bg timeout "$T" socat "TCP-LISTEN:$port,bind=127.0.0.1,fork,backlog=1024,reuseaddr" EXEC:/bin/cat ;;
		gnc-echo) run_bg timeout "$T" "$GNC" relay "listen:127.0.0.1:$port" echo: ;;
		esac
		STPID=$BGPID
		track "$STPID"
		if wait_listen "$port" "$STPID" 5; then
			SPORT=$port
			SPID=$(child_of "$STPID") || SPID=""
			return 0
		fi
		stop_pid "$STPID"
	done
	return 1
}

stop_target() {
	local kids p
	if [ "$1" = backend ]; then
		stop_backend
		return
	fi
	kids=$([ -n "${SPID:-}" ] && descendants "$SPID" | tail -n +2)
	stop_pid "$STPID"
	for p in $kids; do # per-connection processes that outlived the server
		[ -e "/proc/$p" ] && kill "$p" 2>/dev/null
	done
}

# self_ticks PID: CPU time of PID alone, in clock ticks.
self_ticks() {
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'
	else
		echo 0
	fi
}

# measure NAME MODE ROUND: one loadgen run against a fresh server.
measure() {
	local name=$1 mode=$2 key="$1 $2" j n m0 m1 s0 s1 o0 o1 args=()
	[ "$mode" = close ] && args=(-halfclose=false -eof=false)
	if ! start_target "$name"; then
		log "  $name did not start"
		return
	fi
	log "rate: $name ($mode) round $3, -c $CLIENTS for $DURATION"
	m0=$(machine_ticks) s0=$(proc_ticks "$SPID") o0=$(self_ticks "$SPID")
	j=$(timeout "$((dsec + 60))" "$BIN/loadgen" -addr "127.0.0.1:$SPORT" -c "$CLIENTS" -d "$DURATION" -req 64 -resp 64 "${args[@]}" </dev/null 2>"$tmp/loadgen.err" | tail -1)
	m1=$(machine_ticks) s1=$(proc_ticks "$SPID") o1=$(self_ticks "$SPID")
	stop_target "$name"
	log "  $j"
	n=$(jget "$j" conns)
	RATE[$key]+="$(jget "$j" rate) "
	MCPU[$key]+="$(us_per "$((m1 - m0))" "$n") "
	SCPU[$key]+="$(us_per "$((s1 - s0))" "$n") "
	OCPU[$key]+="$(us_per "$((o1 - o0))" "$n") "
	P99[$key]+="$(jget "$j" p99_ms) "
	local e
	e=$(jget "$j" errors)
	if [ -n "$e" ] && ((e > 0)); then
		ERRS[$key]+="$e ($(sed -n 's/.*"error_kinds":{\([^}]*\)}.*/\1/p' <<<"$j" | tr -d '"' | head -c 100)); "
	fi
}

med() { # shellcheck disable=SC2086 # one number per word
	median $1
}

# vs "A1 A2..." "B1 B2..." [MIN]: the median over the rounds of Ai/Bi,
# each pair measured in the same round, so that drift between rounds on a
# shared machine cancels out; rounds where B is below MIN (default 1: a
# server that completed no connection) are left out, n/a if all are.
vs() {
	local r
	# shellcheck disable=SC2046 # one ratio per word
	r=$(median $(awk -v a="$1" -v b="$2" -v min="${3:-1}" 'BEGIN{ n = split(a, x, " "); split(b, y, " ")
		for (i = 1; i <= n; i++) if (y[i] + 0 >= min && y[i] + 0 > 0) printf "%.4f\n", x[i] / y[i] }'))
	[ -n "$r" ] && printf '%.2f\n' "$r" || echo "n/a"
}

if has_section rate; then
	declare -A RATE MCPU SCPU OCPU P99 ERRS
	for ((r = 1; r <= ROUNDS; r++)); do
		for mode in close fin; do
			for name in "${TARGETS[@]}"; do
				measure "$name" "$mode" "$r"
			done
		done
	done
	echo "## Connection rate, $CLIENTS clients"
	echo
	echo "bench/cmd/loadgen -c $CLIENTS for $DURATION per row, median of $ROUNDS round(s); the ratios are the medians of each round's ratio. **close**: connect, write 64 B, read the 64 B echo, close (\`-halfclose=false -eof=false\`). **FIN**: connect, write 64 B, half-close, read the echo to end of file, close. CPU µs per connection: the whole machine (load generator, server, children, and whatever else runs on a shared machine), the server with the children it reaped, and the server process alone. ncat completes no connection in FIN mode: it drops the echo once the client has half-closed."
	echo
	echo "| server | mode | conns/s | x ncat | x socat | % of direct | p99 ms | CPU µs/conn, machine | server + children | server alone | errors |"
	echo "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"
	for mode in close fin; do
		for name in "${TARGETS[@]}"; do
			key="$name $mode"
			v=$(med "${RATE[$key]:-}")
			pct=$(vs "${RATE[$key]:-}" "${RATE["backend $mode"]:-}")
			[ "$pct" != n/a ] && pct=$(awk -v r="$pct" 'BEGIN{ printf "%.0f%%", 100 * r }')
			self=$(med "${OCPU[$key]:-}")
			[ "$name" = ncat ] || [ "$name" = socat ] && self="(forks)"
			cpu_m=$(med "${MCPU[$key]:-}") cpu_s=$(med "${SCPU[$key]:-}")
			awk -v v="$v" 'BEGIN{ exit !(v + 0 < 1) }' && cpu_m="n/a" cpu_s="n/a" self="n/a"
			echo "| $(label "$name") | $mode | ${v:-n/a} | $(vs "${RATE[$key]:-}" "${RATE["ncat $mode"]:-}") | $(vs "${RATE[$key]:-}" "${RATE["socat $mode"]:-}") | $pct | $(med "${P99[$key]:-}") | $cpu_m | $cpu_s | ${self} | ${ERRS[$key]:-0} |"
		done
	done
	echo
	echo "Rounds (conns/s):"
	echo
	for mode in close fin; do
		for name in "${TARGETS[@]}"; do
			echo "- $name, $mode: ${RATE["$name $mode"]:-}"
		done
	done
	echo
fi

# ---- 3. throughput ------------------------------------------------------------

# stdio_xfer TOOL BYTES SINK -> XFER_US XFER_ERR (SINK: null or count)
stdio_xfer() {
	local tool=$1 bytes=$2 sink=$3 t0 rc cmd
	XFER_ERR=""
	case $tool in
	gnc) cmd=("$GNC" relay - exec:cat) ;;
	socat) cmd=(socat - EXEC:cat) ;;
	esac
	t0=$(now_us)
	if [ "$sink" = null ]; then
		produce_with zeros "$bytes" | timeout "$T" "${cmd[@]}" >/dev/null 2>"$tmp/x.err"
		rc=${PIPESTATUS[1]}
	else
		produce_with zeros "$bytes" | timeout "$T" "${cmd[@]}" 2>"$tmp/x.err" | wc -c >"$tmp/count"
		rc=${PIPESTATUS[1]}
	fi
	XFER_US=$(($(now_us) - t0))
	((rc == 0)) || XFER_ERR="exit $rc: $(head -c 160 "$tmp/x.err")"
}

# net_xfer TOOL BYTES SINK -> XFER_US XFER_ERR
net_xfer() {
	local tool=$1 bytes=$2 sink=$3 t0 rc try port spid
	XFER_ERR=""
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || break
		case $tool in
		gnc) timeout "$T" "$GNC" relay --once "listen:127.0.0.1:$port" exec:cat </dev/null >/dev/null 2>"$tmp/srv.err" & ;;
		socat) timeout "$T" socat "TCP-LISTEN:$port,bind=127.0.0.1,reuseaddr" EXEC:cat </dev/null >/dev/null 2>"$tmp/srv.err" & ;;
		esac
		spid=$!
		track "$spid"
		wait_listen "$port" "$spid" 5 && break
		stop_pid "$spid"
		spid=""
	done
	[ -n "${spid:-}" ] || { XFER_ERR="server did not start"; return 1; }
	t0=$(now_us)
	if [ "$sink" = null ]; then
		produce_with zeros "$bytes" | timeout "$T" "$GNC" 127.0.0.1 "$port" >/dev/null 2>"$tmp/x.err"
		rc=${PIPESTATUS[1]}
	else
		produce_with zeros "$bytes" | timeout "$T" "$GNC" 127.0.0.1 "$port" 2>"$tmp/x.err" | wc -c >"$tmp/count"
		rc=${PIPESTATUS[1]}
	fi
	XFER_US=$(($(now_us) - t0))
	wait_exit "$spid" 10 || { XFER_ERR="server still running after the client"; stop_pid "$spid"; }
	reap "$spid"
	((rc == 0)) || XFER_ERR="${XFER_ERR:+$XFER_ERR; }client exit $rc: $(head -c 160 "$tmp/x.err")"
}

if has_section throughput; then
	declare -A TP OK
	SETUPS=("stdio gnc" "stdio socat" "net gnc" "net socat")
	for s in "${SETUPS[@]}"; do
		read -r kind tool <<<"$s"
		log "throughput: $kind $tool: counting pass ($(human "$VERIFY_BYTES"))"
		"${kind}_xfer" "$tool" "$VERIFY_BYTES" count
		got=$(tr -d ' ' <"$tmp/count" 2>/dev/null)
		if [ -n "$XFER_ERR" ] || [ "$got" != "$VERIFY_BYTES" ]; then
			OK[$s]="**lost data**: ${got:-0} of $VERIFY_BYTES bytes${XFER_ERR:+; $XFER_ERR}"
		else
			OK[$s]="all $VERIFY_BYTES bytes"
		fi
	done
	for ((r = 1; r <= RUNS; r++)); do
		for s in "${SETUPS[@]}"; do
			read -r kind tool <<<"$s"
			log "throughput: $kind $tool: run $r, $(human "$EXEC_BYTES")"
			"${kind}_xfer" "$tool" "$EXEC_BYTES" null
			if [ -z "$XFER_ERR" ]; then
				TP[$s]+="$(gbps "$EXEC_BYTES" "$XFER_US") "
			else
				log "  failed: $XFER_ERR"
			fi
		done
	done
	echo "## Throughput through cat, $(human "$EXEC_BYTES") one way"
	echo
	echo "The producer is \`bench/cmd/zeros -bs 1M\`. **stdio**: \`zeros | gnc relay - exec:cat >/dev/null\` against \`zeros | socat - EXEC:cat >/dev/null\`. **network**: \`zeros | gnc 127.0.0.1 P >/dev/null\` against a server running cat for the connection, \`gnc relay --once listen:127.0.0.1:P exec:cat\` or \`socat TCP-LISTEN:P,reuseaddr EXEC:cat\`; the bytes go from the client through the server into cat and back. Wall clock from the producer's start until the last byte is out; GB/s = 10^9 bytes/s, median of $RUNS; x socat is the median of each run's ratio."
	echo
	echo "| setup | server | GB/s | x socat | runs | counting pass |"
	echo "|---|---|---:|---:|---|---|"
	for s in "${SETUPS[@]}"; do
		read -r kind tool <<<"$s"
		v=$(med "${TP[$s]:-}")
		echo "| $kind | $tool | ${v:-n/a} | $(vs "${TP[$s]:-}" "${TP["$kind socat"]:-}" 0) | ${TP[$s]:-} | ${OK[$s]} |"
	done
	echo
fi
echo "- load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
