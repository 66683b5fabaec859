#!/usr/bin/env bash
# bench/udp.sh: UDP and Unix-domain sockets on loopback, gnc against socat,
# ncat and nc.openbsd, all in one run.
#
# 1. forwarder: 64-byte datagrams from one client through a UDP relay to a
#    UDP echo backend (bench/cmd/udpload -mode echo); bench/cmd/udpload
#    -mode rate offers a paced rate for STEP per step and finds the highest
#    rate with under 1% lost (doubling, then bisecting), median of
#    FWD_ROUNDS interleaved rounds; and each relay's CPU time per datagram
#    at each of CPU_RATES. Relays:
#      gnc             gnc relay udp-listen:127.0.0.1:RP udp:127.0.0.1:PORT
#      socat-listen    socat UDP-LISTEN:RP,fork UDP:...   (a child per client)
#      socat-listen-4m the same with rcvbuf=4194304 on both sockets, as gnc asks
#                      of its own (the kernel's default, 208 KiB, overflows
#                      in bursts long before socat runs out of CPU)
#      socat-recvfrom  socat -T 0.2 UDP-RECVFROM:RP,fork UDP:... (a child per
#                      datagram, each gone 0.2 s after its reply; rates
#                      tried up to 64,000/s to bound the processes)
#      ncat            ncat -u -l -k RP --sh-exec "ncat -u 127.0.0.1 PORT"
# 2. sessions: SESSIONS (1000) client sockets at once through one gnc
#    relay, each checked by an echo twice; the relay's RSS and fds before
#    and with them all open.
# 3. unix: UNIX_BYTES (4G) from a pipe, gnc -U PATH -> gnc -lU PATH against
#    nc.openbsd -U PATH -> nc.openbsd -lU PATH, median of RUNS.
# 4. relayunix: RELAY_BYTES (2G) from a pipe through gnc relay listen:RP
#    unix:PATH against listen:RP tcp:127.0.0.1:PORT, the same bytes, the
#    same sender and receiver (gnc), median of RUNS.
#
# Usage: bench/udp.sh            (from any directory)
# Env:   SECTIONS ("forwarder sessions unix relayunix")  STEP (1s)  FWD_ROUNDS (3)  CPU_RATES ("10000 50000")
#        RELAYS ("gnc socat-listen socat-listen-4m socat-recvfrom ncat")  SESSIONS (1000)
#        UNIX_BYTES (4G)  RELAY_BYTES (2G)  RUNS (3)  PRODUCER (dd)
#        QUICK=1 -> FWD_ROUNDS=1 UNIX_BYTES=512M RELAY_BYTES=256M RUNS=1 SESSIONS=200
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${FWD_ROUNDS:=1}" "${UNIX_BYTES:=512M}" "${RELAY_BYTES:=256M}" "${RUNS:=1}" "${SESSIONS:=200}"
fi
STEP=${STEP:-1s}
FWD_ROUNDS=${FWD_ROUNDS:-3}
UNIX_BYTES=$(to_bytes "${UNIX_BYTES:-4G}") || exit 2
RELAY_BYTES=$(to_bytes "${RELAY_BYTES:-2G}") || exit 2
RUNS=${RUNS:-3}
SESSIONS=${SESSIONS:-1000}
read -r -a CPU_RATES <<<"${CPU_RATES:-10000 50000}"
PRODUCER=${PRODUCER:-dd}
read -r -a RELAYS <<<"${RELAYS:-gnc socat-listen socat-listen-4m socat-recvfrom ncat}"
read -r -a SECTIONS <<<"${SECTIONS:-forwarder sessions unix relayunix}"
T=120 # bound for one transfer or one search

bench_setup udp
ensure_peers || exit 1
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
(cd "$REPO_ROOT" && go build -o "$BIN/udpload" ./bench/cmd/udpload) || { log "build of bench/cmd/udpload failed"; exit 1; }
build_gnc "$tmp"
[ -n "$GNC" ] || { log "gnc does not build: nothing to measure"; exit 1; }

has_section() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }

# udp_bound PORT: something is bound to UDP PORT.
udp_bound() { ss -Huan "sport = :$1" 2>/dev/null | grep -q .; }

# unix_listening PATH: a stream socket listens at PATH.
unix_listening() { awk -v p="$1" '$8 == p && $4 ~ /0001....$/ { found = 1 } END { exit !found }' /proc/net/unix; }

# wait_for COND ARG PID [SECONDS]: poll COND ARG until true; fails if PID dies.
wait_for() {
	local cond=$1 arg=$2 pid=$3 deadline=$(($(now_us) + ${4:-5} * 1000000))
	until "$cond" "$arg"; do
		kill -0 "$pid" 2>/dev/null || return 1
		(($(now_us) > deadline)) && return 1
		sleep 0.002
	done
}

echo "# gnc UDP and Unix-domain socket benchmark on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr), load average at start $(cut -d' ' -f1-3 /proc/loadavg)"
echo "- tools: gnc (built from $REPO_ROOT), socat $(pkgver socat), ncat $(pkgver ncat), netcat-openbsd $(pkgver netcat-openbsd), $(go version | cut -d' ' -f3)"
echo "- sections: ${SECTIONS[*]}"
echo

# ---- the echo backend --------------------------------------------------------

start_echo() {
	rm -f "$tmp/echo.in"
	mkfifo "$tmp/echo.in"
	"$BIN/udpload" -mode echo -addr 127.0.0.1:0 <"$tmp/echo.in" >"$tmp/echo.out" 2>"$tmp/echo.err" &
	ECHO_PID=$!
	track "$ECHO_PID"
	exec {ECHO_FD}>"$tmp/echo.in"
	wait_line "$tmp/echo.out" '^LISTEN ' "$ECHO_PID" 10 || { log "echo backend did not start: $(cat "$tmp/echo.err")"; return 1; }
	ECHO_PORT=$(sed -n 's/^LISTEN .*:\([0-9]*\)$/\1/p' "$tmp/echo.out")
}

stop_echo() {
	exec {ECHO_FD}>&-
	wait_exit "$ECHO_PID" 3 || stop_pid "$ECHO_PID"
	reap "$ECHO_PID"
}

# ---- relays ---------------------------------------------------------------------

udp_relay_cmd() { # NAME RP TARGETPORT -> XCMD
	case $1 in
	gnc) XCMD=("$GNC" relay "udp-listen:127.0.0.1:$2" "udp:127.0.0.1:$3") ;;
	socat-listen) XCMD=(socat -T 30 "UDP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr" "UDP:127.0.0.1:$3") ;;
	socat-listen-4m) XCMD=(socat -T 30 "UDP-LISTEN:$2,bind=127.0.0.1,fork,reuseaddr,rcvbuf=4194304" "UDP:127.0.0.1:$3,rcvbuf=4194304") ;;
	socat-recvfrom) XCMD=(socat -T 0.2 "UDP-RECVFROM:$2,bind=127.0.0.1,fork" "UDP:127.0.0.1:$3") ;;
	ncat) XCMD=(ncat -u -l -k 127.0.0.1 "$2" --sh-exec "ncat -u 127.0.0.1 $3") ;;
	*) return 1 ;;
	esac
}

udp_relay_label() {
	case $1 in
	none) echo "no relay (udpload to the echo backend)" ;;
	gnc) echo "gnc relay udp-listen: udp:" ;;
	socat-listen) echo "socat UDP-LISTEN,fork UDP: (a child per client)" ;;
	socat-listen-4m) echo "socat UDP-LISTEN,fork,rcvbuf=4194304 UDP:,rcvbuf=4194304 (the same, with gnc's 4 MiB receive buffers)" ;;
	socat-recvfrom) echo "socat UDP-RECVFROM,fork UDP: (a child per datagram)" ;;
	ncat) echo "ncat -u -l -k --sh-exec 'ncat -u' (a process pair per client)" ;;
	esac
}

# start_udp_relay NAME TARGETPORT -> RELAY_TPID RELAY_PID RELAY_PORT
start_udp_relay() {
	local name=$1 target=$2 try port
	for ((try = 0; try < 5; try++)); do
		port=$(rand_port)
		udp_bound "$port" && continue
		udp_relay_cmd "$name" "$port" "$target" || return 1
		# timeout runs the relay in a process group of its own and
		# signals the whole group, forked children included.
		run_bg timeout 300 "${XCMD[@]}" </dev/null >"$tmp/relay.out" 2>"$tmp/relay.err"
		RELAY_TPID=$BGPID
		track "$RELAY_TPID"
		if wait_for udp_bound "$port" "$RELAY_TPID" 5; then
			RELAY_PORT=$port
			RELAY_PID=$(child_of "$RELAY_TPID") || RELAY_PID=""
			return 0
		fi
		log "  $name did not come up on port $port: $(head -c 200 "$tmp/relay.err")"
		stop_pid "$RELAY_TPID"
	done
	return 1
}

# relay_ticks NAME: CPU ticks (user + system) of the relay and every
# process under it now; 0 for no relay.
relay_ticks() {
	local p t=0
	[ "$1" = none ] || [ -z "${RELAY_PID:-}" ] && { echo 0; return; }
	for p in $(descendants "$RELAY_PID"); do
		[ -r "/proc/$p/stat" ] && t=$((t + $(sed 's/.*) //' "/proc/$p/stat" | awk '{print $12 + $13}')))
	done
	echo "$t"
}

stop_udp_relay() {
	local kids p
	kids=$([ -n "${RELAY_PID:-}" ] && descendants "$RELAY_PID" | tail -n +2)
	stop_pid "$RELAY_TPID"
	for p in $kids; do
		[ -e "/proc/$p" ] && kill "$p" 2>/dev/null
	done
	RELAY_TPID="" RELAY_PID=""
}

# ---- 1. forwarder rate -------------------------------------------------------------

# fwd_search NAME ROUND: one rate search (and, in the first round, the CPU
# measurement) through relay NAME; results in BESTS, STEPS, NOTE, CPU.
fwd_search() {
	local r=$1 round=$2 port=$ECHO_PORT limit=4000000 start=2000 j b t0 t1 sent
	if [ "$r" != none ]; then
		if ! start_udp_relay "$r" "$ECHO_PORT"; then
			NOTE[$r]+="round $round: did not start; "
			return
		fi
		port=$RELAY_PORT
	fi
	log "forwarder round $round: $r"
	[ "$r" = socat-recvfrom ] && limit=64000 # a process per datagram: bound the processes
	case $r in socat-recvfrom | ncat) start=250 ;; esac
	j=$(timeout "$T" "$BIN/udpload" -mode rate -addr "127.0.0.1:$port" -size 64 -step "$STEP" -start "$start" -limit "$limit" -bisect 4 \
		-stdin=false -max "${T}s" </dev/null 2>"$tmp/udpload.err" {ECHO_FD}>&- | tail -1)
	log "  $(tr '\n' ';' <"$tmp/udpload.err" | sed 's/udpload: //g' | head -c 300)"
	b=$(jget "$j" best)
	BESTS[$r]+="${b:-0} "
	STEPS[$r]="$(sed 's/udpload: //' "$tmp/udpload.err" | awk '{printf "%s%s", sep, $1 " " $NF; sep = ", "}')"
	[ -z "$b" ] && NOTE[$r]+="round $round: no result ($(tail -c 120 "$tmp/udpload.err")); "
	if ((round == 1)); then
		# CPU per datagram at fixed rates: a new client, warmed up, then
		# each rate for 3 s.
		for cr in "${CPU_RATES[@]}"; do
			t0=$(relay_ticks "$r")
			j=$(timeout 60 "$BIN/udpload" -mode rate -addr "127.0.0.1:$port" -size 64 -step 3s -start "$cr" -limit "$cr" -bisect 0 \
				-stdin=false -max 60s </dev/null 2>/dev/null {ECHO_FD}>&- | tail -1)
			t1=$(relay_ticks "$r")
			sent=$(sed -n 's/.*"sent":\([0-9]*\).*/\1/p' <<<"$j")
			loss=$(sed -n 's/.*"loss":\([0-9.e-]*\).*/\1/p' <<<"$j")
			CPU[$r $cr]="$(awk -v t="$((t1 - t0))" -v n="${sent:-0}" -v hz="$(getconf CLK_TCK)" 'BEGIN{ if (n + 0 == 0) printf "n/a"; else printf "%.1f", t * 1e6 / hz / n }') ($(awk -v l="${loss:-1}" 'BEGIN{printf "%.1f%%", 100 * l}') lost)"
		done
	fi
	[ "$r" != none ] && stop_udp_relay
}

if has_section forwarder; then
	start_echo || exit 1
	declare -A BESTS BEST STEPS NOTE CPU
	for ((round = 1; round <= FWD_ROUNDS; round++)); do
		for r in none "${RELAYS[@]}"; do
			fwd_search "$r" "$round"
		done
	done
	stop_echo
	for r in none "${RELAYS[@]}"; do
		# shellcheck disable=SC2086
		BEST[$r]=$(median ${BESTS[$r]:-})
	done
	# the best socat form is the one compared with
	sb=0 sbest=""
	for r in socat-listen socat-listen-4m socat-recvfrom; do
		awk -v a="${BEST[$r]:-0}" -v b="$sb" 'BEGIN{exit !(a > b)}' && sb=${BEST[$r]} sbest=$r
	done
	echo "## UDP forwarder: 64-byte datagrams, one client"
	echo
	echo "\`bench/cmd/udpload -mode rate\`: one client socket offers a paced rate for $STEP per step (sendmmsg batches) and counts the echoes of the backend (\`udpload -mode echo\`, recvmmsg/sendmmsg); a datagram counts only if it comes back whole, of its own step, and alone (two merged into one count as lost). Doubling from 2,000/s (250/s for ncat and socat UDP-RECVFROM), then bisecting 4 times: the highest rate with under 1% lost; the median of $FWD_ROUNDS interleaved rounds."
	echo
	head="| path | datagrams/s, < 1% lost (median) | rounds | gnc x this |" sep="|---|---:|---|---:|"
	for cr in "${CPU_RATES[@]}"; do
		head+=" CPU µs per datagram at $cr/s |" sep+="---:|"
	done
	echo "$head last round's steps (rate/s loss) |"
	echo "$sep---|"
	for r in none "${RELAYS[@]}"; do
		row="| $(udp_relay_label "$r") | ${BEST[$r]:-n/a} | ${BESTS[$r]:-} | $(ratio "${BEST[gnc]:-}" "${BEST[$r]:-}") |"
		for cr in "${CPU_RATES[@]}"; do
			if [ "$r" = none ]; then row+=" (no relay) |"; else row+=" ${CPU[$r $cr]:-n/a} |"; fi
		done
		echo "$row ${NOTE[$r]:-}${STEPS[$r]:-} |"
	done
	echo
	echo "CPU µs per datagram: the relay's user and system time (summed over its processes: socat's and ncat's children too), from /proc, per datagram offered at that rate for 3 s, with the share lost; each datagram crosses the relay twice (to the backend and back). \"gnc x this\" divides gnc's median rate by the row's."
	[ -n "$sbest" ] && echo "socat's best form here: $(udp_relay_label "$sbest"); gnc x socat's best: $(ratio "${BEST[gnc]:-}" "$sb"); gnc x ncat: $(ratio "${BEST[gnc]:-}" "${BEST[ncat]:-}")."
	echo
fi

# ---- 2. concurrent sessions -----------------------------------------------------------

if has_section sessions; then
	start_echo || exit 1
	log "sessions: $SESSIONS through gnc"
	if start_udp_relay gnc "$ECHO_PORT"; then
		mem0=$(rss_kib "$RELAY_PID") fd0=$(tree_fds "$RELAY_PID")
		rm -f "$tmp/s.in" "$tmp/s.out"
		mkfifo "$tmp/s.in"
		"$BIN/udpload" -mode sessions -addr "127.0.0.1:$RELAY_PORT" -n "$SESSIONS" -hold 120s \
			<"$tmp/s.in" >"$tmp/s.out" 2>"$tmp/s.err" {ECHO_FD}>&- &
		spid=$!
		track "$spid"
		exec {sfd}>"$tmp/s.in"
		if wait_line "$tmp/s.out" '^READY' "$spid" 60; then
			ready=$(sed -n 's/^READY //p' "$tmp/s.out")
			mem1=$(rss_kib "$RELAY_PID") fd1=$(tree_fds "$RELAY_PID")
			gor=$(awk '/^Threads:/{print $2}' "/proc/$RELAY_PID/status")
			echo >&"$sfd"
			wait_line "$tmp/s.out" '^SECOND' "$spid" 60
			second=$(sed -n 's/^SECOND //p' "$tmp/s.out")
		fi
		exec {sfd}>&-
		wait_exit "$spid" 10 || stop_pid "$spid"
		reap "$spid"
		stop_udp_relay
	fi
	stop_echo
	ok=$(jget "${ready:-}" ok) ok2=$(jget "${second:-}" ok)
	echo "## $SESSIONS concurrent UDP sessions through one gnc relay"
	echo
	echo "\`udpload -mode sessions -n $SESSIONS\`: $SESSIONS client sockets send a datagram each through \`gnc relay udp-listen: udp:\` to the echo backend and check its echo (all at once, 100 in flight), hold their sessions open, then check a second echo each. Memory: the relay's VmRSS."
	echo
	echo "| sessions | echoed, first round | echoed, second round | RSS KiB before → loaded | KiB per session | fds before → loaded | threads |"
	echo "|---:|---:|---:|---|---:|---|---:|"
	per=$(awk -v a="${mem0:-0}" -v b="${mem1:-0}" -v n="${ok:-0}" 'BEGIN{ if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }')
	echo "| $SESSIONS | ${ok:-n/a} | ${ok2:-n/a} | ${mem0:-?} → ${mem1:-?} | $per | ${fd0:-?} → ${fd1:-?} | ${gor:-?} |"
	echo
fi

# ---- 3. Unix stream throughput ------------------------------------------------------------

# unix_recv_cmd TOOL PATH -> RCMD; unix_send_cmd TOOL PATH -> SCMD
unix_recv_cmd() {
	case $1 in
	gnc) RCMD=("$GNC" -lU "$2") ;;
	nc.openbsd) RCMD=(nc.openbsd -lU "$2") ;;
	esac
}
unix_send_cmd() {
	case $1 in
	gnc) SCMD=("$GNC" -U "$2") ;;
	nc.openbsd) SCMD=(nc.openbsd -N -U "$2") ;;
	esac
}

# unix_xfer TOOL BYTES -> XFER_US XFER_ERR: PRODUCER | sender -> receiver >/dev/null
unix_xfer() {
	local tool=$1 bytes=$2 path=$tmp/x.sock t0 src rpid rrc=0
	XFER_US=0 XFER_ERR=""
	rm -f "$path" # nc.openbsd leaves its socket file behind
	unix_recv_cmd "$tool" "$path"
	timeout "$T" "${RCMD[@]}" </dev/null >/dev/null 2>"$tmp/recv.err" &
	rpid=$!
	track "$rpid"
	wait_for unix_listening "$path" "$rpid" 5 || { XFER_ERR="receiver did not listen: $(head -c 100 "$tmp/recv.err")"; stop_pid "$rpid"; return 1; }
	unix_send_cmd "$tool" "$path"
	t0=$(now_us)
	produce "$bytes" | timeout "$T" "${SCMD[@]}" >/dev/null 2>"$tmp/send.err"
	src=${PIPESTATUS[1]}
	if wait_exit "$rpid" 10; then
		reap "$rpid"
		rrc=$?
	else
		XFER_ERR="receiver still running 10 s after the sender"
		stop_pid "$rpid"
	fi
	XFER_US=$(($(now_us) - t0))
	((src != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }sender exit $src: $(head -c 100 "$tmp/send.err")"
	((rrc != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver exit $rrc"
	[ -z "$XFER_ERR" ]
}

if has_section unix; then
	declare -A UR UN
	for ((run = 1; run <= RUNS; run++)); do
		for tool in gnc nc.openbsd; do
			log "unix run $run/$RUNS: $tool $(human "$UNIX_BYTES")"
			if unix_xfer "$tool" "$UNIX_BYTES"; then
				UR[$tool]+="$(gbps "$UNIX_BYTES" "$XFER_US") "
			else
				UN[$tool]+="run $run: $XFER_ERR; "
				log "  failed: $XFER_ERR"
			fi
		done
	done
	echo "## Unix stream throughput: $(human "$UNIX_BYTES") from a pipe"
	echo
	echo "\`$(producer_desc "$PRODUCER") | SENDER PATH\` → \`RECEIVER PATH >/dev/null\`, wall clock from starting the sender until the receiver has exited; GB/s = 10^9 bytes/s, median of $RUNS interleaved runs."
	echo
	echo "| sender → receiver | GB/s | gnc x this | runs | notes |"
	echo "|---|---:|---:|---|---|"
	# shellcheck disable=SC2086
	g=$(median ${UR[gnc]:-})
	for tool in gnc nc.openbsd; do
		unix_send_cmd "$tool" PATH
		unix_recv_cmd "$tool" PATH
		# shellcheck disable=SC2086
		v=$(median ${UR[$tool]:-})
		echo "| \`${SCMD[*]/#$GNC/gnc}\` → \`${RCMD[*]/#$GNC/gnc}\` | ${v:-n/a} | $(ratio "$g" "$v") | ${UR[$tool]:-} | ${UN[$tool]:-} |"
	done
	echo
fi

# ---- 4. relay to a Unix socket against relay to TCP -----------------------------------------

# relay_unix_xfer KIND BYTES -> XFER_US XFER_ERR (KIND: unix or tcp)
relay_unix_xfer() {
	local kind=$1 bytes=$2 path=$tmp/r.sock rpid t0 src port rp rrc=0 try
	XFER_US=0 XFER_ERR=""
	rm -f "$path"
	if [ "$kind" = unix ]; then
		timeout "$T" "$GNC" -lU "$path" </dev/null >/dev/null 2>"$tmp/recv.err" &
		rpid=$!
		track "$rpid"
		wait_for unix_listening "$path" "$rpid" 5 || { XFER_ERR="receiver did not listen"; stop_pid "$rpid"; return 1; }
		to="unix:$path"
	else
		start_receiver gnc /dev/null "$T" || { XFER_ERR="receiver did not start"; return 1; }
		rpid=$RPID
		to="tcp:127.0.0.1:$RPORT"
	fi
	for ((try = 0; try < 5; try++)); do
		rp=$(free_port)
		run_bg timeout "$T" "$GNC" relay "listen:127.0.0.1:$rp" "$to" </dev/null >/dev/null 2>"$tmp/relay.err"
		RELAY_TPID=$BGPID
		track "$RELAY_TPID"
		wait_listen "$rp" "$RELAY_TPID" 5 && break
		stop_pid "$RELAY_TPID"
		RELAY_TPID=""
	done
	[ -n "$RELAY_TPID" ] || { XFER_ERR="relay did not start"; stop_pid "$rpid"; return 1; }
	t0=$(now_us)
	produce "$bytes" | timeout "$T" "$GNC" 127.0.0.1 "$rp" >/dev/null 2>"$tmp/send.err"
	src=${PIPESTATUS[1]}
	if wait_exit "$rpid" 10; then
		reap "$rpid"
		rrc=$?
	else
		XFER_ERR="receiver still running 10 s after the sender"
		stop_pid "$rpid"
	fi
	XFER_US=$(($(now_us) - t0))
	stop_pid "$RELAY_TPID"
	((src != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }sender exit $src"
	((rrc != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver exit $rrc"
	[ -z "$XFER_ERR" ]
}

if has_section relayunix; then
	declare -A RR RN
	for ((run = 1; run <= RUNS; run++)); do
		for kind in unix tcp; do
			log "relay run $run/$RUNS: listen: -> $kind: $(human "$RELAY_BYTES")"
			if relay_unix_xfer "$kind" "$RELAY_BYTES"; then
				RR[$kind]+="$(gbps "$RELAY_BYTES" "$XFER_US") "
			else
				RN[$kind]+="run $run: $XFER_ERR; "
				log "  failed: $XFER_ERR"
			fi
		done
	done
	echo "## gnc relay to a Unix socket against to TCP: $(human "$RELAY_BYTES")"
	echo
	echo "\`$(producer_desc "$PRODUCER") | gnc 127.0.0.1 RP\` → \`gnc relay listen:127.0.0.1:RP TO\` → \`gnc -lU PATH\` or \`gnc -l 127.0.0.1 PORT\` (>/dev/null); GB/s median of $RUNS interleaved runs."
	echo
	echo "| TO | GB/s | % of tcp: | runs | notes |"
	echo "|---|---:|---:|---|---|"
	# shellcheck disable=SC2086
	base=$(median ${RR[tcp]:-})
	for kind in unix tcp; do
		# shellcheck disable=SC2086
		v=$(median ${RR[$kind]:-})
		pct=$(awk -v a="$v" -v b="$base" 'BEGIN{ if (a == "" || b + 0 == 0) print "n/a"; else printf "%.0f%%\n", 100 * a / b }')
		label="unix:PATH"
		[ "$kind" = tcp ] && label="tcp:127.0.0.1:PORT"
		echo "| \`$label\` | ${v:-n/a} | $pct | ${RR[$kind]:-} | ${RN[$kind]:-} |"
	done
	echo
fi
