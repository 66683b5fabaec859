# shellcheck shell=bash
# shellcheck disable=SC2034 # globals (RCMD, SCMD, RPORT, PRODUCER...) are for the callers
# Shared helpers for bench/throughput.sh and bench/relay.sh. Source it; don't run it.
#
# Rules these helpers keep: loopback only; every process we start is tracked by
# PID and killed by PID at exit; readiness is waited for (ss / log lines), never
# guessed with a fixed sleep; ports are random in 20000-60000 and retried.

export LC_ALL=C # EPOCHREALTIME and awk must use '.' as decimal point

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$BENCH_DIR/.." && pwd)

log() { printf '%s\n' "$*" >&2; }

# now_us: wall clock in microseconds (bash 5 EPOCHREALTIME, no fork).
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

# ---- process tracking / cleanup ------------------------------------------

declare -A BENCH_PIDS # PIDs we started and have not reaped yet
track() {
	local p
	for p; do BENCH_PIDS[$p]=1; done
}
untrack() {
	local p
	for p; do unset "BENCH_PIDS[$p]"; done
}

# is_my_child PID: true if PID is alive and a child of this shell (guards
# against signalling a recycled PID).
is_my_child() {
	[ "$(awk '/^PPid:/{print $2}' "/proc/$1/status" 2>/dev/null)" = "$BASHPID" ]
}

# reap PID: wait for our child PID, untrack it; returns its exit status.
reap() {
	local rc=0
	wait "$1" 2>/dev/null || rc=$?
	untrack "$1"
	return "$rc"
}

# stop_pid PID: TERM our child, wait for it (bounded), KILL if it ignores TERM.
stop_pid() {
	local pid=$1 i
	[ -n "$pid" ] || return 0
	if is_my_child "$pid"; then
		kill "$pid" 2>/dev/null
		for ((i = 0; i < 300; i++)); do
			is_my_child "$pid" || break
			[ "$(awk '/^State:/{print $2}' "/proc/$pid/status" 2>/dev/null)" = Z ] && break
			sleep 0.01
		done
		is_my_child "$pid" && kill -KILL "$pid" 2>/dev/null
	fi
	wait "$pid" 2>/dev/null
	untrack "$pid"
	return 0
}

bench_cleanup() {
	local p
	for p in "${!BENCH_PIDS[@]}"; do
		is_my_child "$p" && kill "$p" 2>/dev/null
	done
	for p in "${!BENCH_PIDS[@]}"; do
		stop_pid "$p"
	done
	[ -n "${tmp:-}" ] && [ -d "$tmp" ] && rm -rf "$tmp"
}

# bench_setup NAME: make $tmp, install the cleanup trap.
bench_setup() {
	tmp=$(mktemp -d "${TMPDIR:-/tmp}/gnc-$1.XXXXXX")
	trap bench_cleanup EXIT
	trap 'exit 130' INT TERM HUP
}

# ---- peers -------------------------------------------------------------

# ensure_peers: install the peer tools if any is missing (fresh machines run as root).
ensure_peers() {
	local b missing=()
	for b in nc.openbsd ncat socat iperf3 nc.traditional ss timeout numfmt; do
		command -v "$b" >/dev/null 2>&1 || missing+=("$b")
	done
	((${#missing[@]} == 0)) && return 0
	log "missing: ${missing[*]} -> installing peers with apt-get"
	if [ "$(id -u)" != 0 ]; then
		log "not root: cannot install; install netcat-openbsd ncat socat iperf3 netcat-traditional iproute2"
		return 1
	fi
	apt-get update -qq &&
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			netcat-openbsd ncat socat iperf3 netcat-traditional iproute2 coreutils >/dev/null
}

# ---- ports & readiness ----------------------------------------------------

rand_port() { echo $((20000 + (RANDOM * 32768 + RANDOM) % 40001)); }

port_listening() { ss -Hltn "sport = :$1" 2>/dev/null | grep -q .; }

# free_port: a random port in 20000-60000 that no TCP socket uses as its local
# port. (A TIME-WAIT left by a client socket without SO_REUSEADDR, which
# loadgen and most clients leave by the thousand, makes bind() fail with
# EADDRINUSE even for a listener that sets SO_REUSEADDR.) Callers still retry
# with another port if the server fails to start.
free_port() {
	local p i
	for ((i = 0; i < 50; i++)); do
		p=$(rand_port)
		if ! ss -Htan "sport = :$p" 2>/dev/null | grep -q .; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_listen PORT PID [SECONDS]: poll until something listens on PORT.
# Fails early if PID died (e.g. bind failed), or after SECONDS (default 5).
wait_listen() {
	local port=$1 pid=$2 deadline=$(($(now_us) + ${3:-5} * 1000000))
	while :; do
		port_listening "$port" && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		(($(now_us) > deadline)) && return 1
		sleep 0.002
	done
}

# wait_line FILE ERE PID [SECONDS]: poll until FILE has a line matching ERE.
wait_line() {
	local file=$1 re=$2 pid=$3 deadline=$(($(now_us) + ${4:-5} * 1000000))
	while :; do
		grep -Eq -- "$re" "$file" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || { grep -Eq -- "$re" "$file" 2>/dev/null; return; }
		(($(now_us) > deadline)) && return 1
		sleep 0.002
	done
}

# wait_exit PID SECONDS: poll until PID has exited; 0 if it did (and reaps it).
wait_exit() {
	local pid=$1 deadline=$(($(now_us) + $2 * 1000000))
	while kill -0 "$pid" 2>/dev/null; do
		(($(now_us) > deadline)) && return 1
		sleep 0.005
	done
	return 0
}

# ---- numbers ------------------------------------------------------------

to_bytes() { numfmt --from=iec "$1"; }
human() { numfmt --to=iec-i --suffix=B "$1"; }

# median N...: median of numbers (empty if none).
median() {
	(($# == 0)) && return 0
	printf '%s\n' "$@" | sort -g | awk '{a[NR]=$1} END{
		if (NR % 2) printf "%.6g\n", a[(NR+1)/2]; else printf "%.6g\n", (a[NR/2]+a[NR/2+1])/2 }'
}

# gbps BYTES MICROSECONDS -> GB/s (10^9 bytes/s), 3 decimals
gbps() { awk -v b="$1" -v us="$2" 'BEGIN{ if (us <= 0) us = 1; printf "%.3f\n", b / us / 1000 }'; }

# ratio A B -> A/B with 2 decimals, or n/a
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN{
		if (a == "" || b == "" || a !~ /^[0-9.eE+-]+$/ || b !~ /^[0-9.eE+-]+$/ || b + 0 == 0) { print "n/a"; exit }
		printf "%.2f\n", a / b }'
}

# ---- builds ---------------------------------------------------------------

# build_bench_tools DIR: build bench/cmd/* into DIR (fatal on failure).
build_bench_tools() {
	local d=$1 c
	for c in zeros loadgen backend gorelay; do
		[ -d "$BENCH_DIR/cmd/$c" ] || continue
		(cd "$REPO_ROOT" && go build -o "$d/$c" "./bench/cmd/$c") || {
			log "build of bench/cmd/$c failed"
			return 1
		}
	done
}

# build_gnc DIR: build gnc into DIR/gnc; sets GNC (empty when the build fails).
# SKIP_GNC=1 pretends the build failed (to test the n/a paths); GNC_BIN=PATH
# uses that binary instead of building.
build_gnc() {
	GNC=""
	if [ -n "${GNC_BIN:-}" ]; then
		GNC=$GNC_BIN
		return 0
	fi
	if [ "${SKIP_GNC:-0}" = 1 ]; then
		echo "SKIP_GNC=1" >"$1/gnc-build.log"
		log "SKIP_GNC=1: gnc rows will be n/a"
		return 0
	fi
	if (cd "$REPO_ROOT" && go build -o "$1/gnc" . >"$1/gnc-build.log" 2>&1); then
		GNC=$1/gnc
	else
		log "gnc does not build yet; its rows will be n/a ($(head -c 300 "$1/gnc-build.log" | tr '\n' ' '))"
	fi
}

# ---- netcat-style endpoints ----------------------------------------------
# Tools: gnc nc.openbsd ncat socat socat-b262144 (GNC must be set for gnc).

# recv_cmd TOOL PORT -> RCMD (stdout of the receiver is the data sink)
recv_cmd() {
	case $1 in
	gnc) RCMD=("$GNC" -l 127.0.0.1 "$2" -v) ;;
	nc.openbsd) RCMD=(nc.openbsd -l 127.0.0.1 "$2") ;;
	ncat) RCMD=(ncat --recv-only -l 127.0.0.1 "$2") ;;
	socat) RCMD=(socat -u "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr" STDOUT) ;;
	socat-b262144) RCMD=(socat -b 262144 -u "TCP-LISTEN:$2,bind=127.0.0.1,reuseaddr" STDOUT) ;;
	*) return 1 ;;
	esac
}

# send_cmd TOOL PORT -> SCMD (reads the data on stdin)
send_cmd() {
	case $1 in
	gnc) SCMD=("$GNC" 127.0.0.1 "$2") ;;
	nc.openbsd) SCMD=(nc.openbsd -N 127.0.0.1 "$2") ;;
	ncat) SCMD=(ncat --send-only 127.0.0.1 "$2") ;;
	socat) SCMD=(socat -u STDIN "TCP:127.0.0.1:$2") ;;
	socat-b262144) SCMD=(socat -b 262144 -u STDIN "TCP:127.0.0.1:$2") ;;
	*) return 1 ;;
	esac
}

tool_label() {
	case $1 in
	socat-b262144) echo "socat -b262144" ;;
	*) echo "$1" ;;
	esac
}

# start_receiver TOOL OUTFILE LIMIT -> RPID RPORT (retries other ports)
start_receiver() {
	local tool=$1 out=$2 limit=$3 try port deadline
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		recv_cmd "$tool" "$port" || return 1
		: >"$tmp/recv.err"
		timeout "$((limit + 10))" "${RCMD[@]}" </dev/null >"$out" 2>"$tmp/recv.err" &
		RPID=$!
		track "$RPID"
		if [ "$tool" = gnc ]; then
			# gnc -v says "Listening on 127.0.0.1 PORT" once it listens.
			deadline=$(($(now_us) + 5000000))
			while kill -0 "$RPID" 2>/dev/null && (($(now_us) < deadline)); do
				grep -q "Listening on .*$port" "$tmp/recv.err" && { RPORT=$port; return 0; }
				sleep 0.002
			done
		elif wait_listen "$port" "$RPID" 5; then
			RPORT=$port
			return 0
		fi
		log "  $tool receiver did not come up on port $port: $(head -c 200 "$tmp/recv.err")"
		stop_pid "$RPID"
	done
	return 1
}

# ---- producer -------------------------------------------------------------
# A producer writes N zero bytes to stdout. Candidates:
#   head      head -c N /dev/zero                   (GNU head: 8 KiB read+write)
#   dd        dd if=/dev/zero bs=1M iflag=count_bytes count=N
#   zeros     bench/cmd/zeros -mode write -bs 1M
#   zeros8k   bench/cmd/zeros -mode write -bs 8K
#   vmsplice  bench/cmd/zeros -mode vmsplice -bs 1M (pages are referenced, not copied)
# None of them changes the pipe size (default 64 KiB), so the sender sees the
# same pipe it would in `cmd | nc`.
#
# On a small VM the rate of a pipeline depends a lot on whether the scheduler
# puts both ends on one core or on two (large writes win on one core, small
# writes on two), so the contest runs the candidates round-robin and takes
# medians.

PRODUCERS=(head dd zeros zeros8k vmsplice)

produce_with() {
	local name=$1 n=$2
	case $name in
	head) head -c "$n" /dev/zero ;;
	dd) dd if=/dev/zero bs=1M iflag=count_bytes count="$n" status=none ;;
	zeros) "$BIN/zeros" -n "$n" -mode write -bs 1M ;;
	zeros8k) "$BIN/zeros" -n "$n" -mode write -bs 8K ;;
	vmsplice) "$BIN/zeros" -n "$n" -mode vmsplice -bs 1M ;;
	*) return 2 ;;
	esac
}

produce() { produce_with "$PRODUCER" "$1"; }

producer_desc() {
	case $1 in
	head) echo "head -c N /dev/zero" ;;
	dd) echo "dd if=/dev/zero bs=1M iflag=count_bytes count=N status=none" ;;
	zeros) echo "bench/cmd/zeros -mode write -bs 1M" ;;
	zeros8k) echo "bench/cmd/zeros -mode write -bs 8K" ;;
	vmsplice) echo "bench/cmd/zeros -mode vmsplice -bs 1M" ;;
	esac
}

# choose_producer BYTES RUNS: time each candidate into `cat >/dev/null`
# (round-robin, RUNS rounds), set PRODUCER to the fastest median and
# PRODUCER_RATE (GB/s); prints a Markdown table. Set PRODUCERS=(name) first to
# skip the contest.
choose_producer() {
	local n=$1 runs=$2 p r t0 med best="" bestrate=0
	local -A rates=()
	for ((r = 0; r < runs; r++)); do
		for p in "${PRODUCERS[@]}"; do
			t0=$(now_us)
			produce_with "$p" "$n" | cat >/dev/null
			rates[$p]+="$(gbps "$n" $(($(now_us) - t0))) "
		done
	done
	echo "| producer (into \`cat >/dev/null\`, $(human "$n")) | GB/s median of $runs | runs |"
	echo "|---|---:|---|"
	for p in "${PRODUCERS[@]}"; do
		# shellcheck disable=SC2086
		med=$(median ${rates[$p]})
		echo "| $p: \`$(producer_desc "$p")\` | $med | ${rates[$p]} |"
		if awk -v a="$med" -v b="$bestrate" 'BEGIN{exit !(a > b)}'; then
			best=$p bestrate=$med
		fi
	done
	PRODUCER=$best PRODUCER_RATE=$bestrate
	echo
	echo "Producer chosen: **$PRODUCER** (\`$(producer_desc "$PRODUCER")\`), $PRODUCER_RATE GB/s into cat."
}

# ---- process trees ----------------------------------------------------------

# descendants PID: PID and all its descendants, one per line (from /proc, no
# procps needed).
descendants() {
	grep -H '^PPid:' /proc/[0-9]*/status 2>/dev/null |
		awk -v root="$1" -F'[/:\t ]+' '{ kids[$NF] = kids[$NF] " " $3 }
		END { n = 1; q[1] = root; for (i = 1; i <= n; i++) { print q[i]; m = split(kids[q[i]], k, " "); for (j = 1; j <= m; j++) q[++n] = k[j] } }'
}

# child_of PID: the first child of PID (waits up to 2 s for it to appear).
child_of() {
	local i c
	for ((i = 0; i < 400; i++)); do
		c=$(descendants "$1" | sed -n 2p)
		[ -n "$c" ] && { echo "$c"; return 0; }
		sleep 0.005
	done
	return 1
}

# tree_fds PIDS...: total open fds over PIDS.
tree_fds() {
	local p n=0
	for p; do
		n=$((n + $(find "/proc/$p/fd" -mindepth 1 -maxdepth 1 2>/dev/null | wc -l)))
	done
	echo "$n"
}

# tree_pss PIDS...: total PSS in KiB over PIDS (smaps_rollup).
tree_pss() {
	local p n=0 v
	for p; do
		v=$(awk '/^Pss:/{print $2; exit}' "/proc/$p/smaps_rollup" 2>/dev/null)
		n=$((n + ${v:-0}))
	done
	echo "$n"
}

# rss_kib PID: VmRSS in KiB.
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status" 2>/dev/null; }

# ---- background processes, the backend, loadgen's output --------------------
# (bench/relay.sh, bench/tls.sh and bench/proxy.sh share these.)

# Callers set LOAD_PIN=() (a taskset prefix for the backend, or empty) and
# BIN (the built bench tools) before start_backend.

# run_bg CMD...: start CMD in the background without the backend's FIFO fd
# (so only the script holds it) -> BGPID. Redirections given to run_bg are
# opened by this shell, so never pass it a FIFO.
BACKEND_FD=""
run_bg() {
	if [ -n "$BACKEND_FD" ]; then
		"$@" {BACKEND_FD}>&- &
	else
		"$@" &
	fi
	BGPID=$!
}

# start_backend MODE [ARGS...] -> BACKEND_PID BACKEND_PORT. Its stdin is a FIFO
# we hold open: closing it (or this script dying) makes the backend exit.
start_backend() {
	local mode=$1
	shift
	rm -f "$tmp/backend.in"
	mkfifo "$tmp/backend.in"
	"${LOAD_PIN[@]}" "$BIN/backend" -addr 127.0.0.1:0 -mode "$mode" -resp 64 -max 30m "$@" \
		<"$tmp/backend.in" >"$tmp/backend.out" 2>"$tmp/backend.err" &
	BACKEND_PID=$!
	track "$BACKEND_PID"
	exec {BACKEND_FD}>"$tmp/backend.in"
	if ! wait_line "$tmp/backend.out" '^LISTEN ' "$BACKEND_PID" 10; then
		log "backend did not start: $(cat "$tmp/backend.err")"
		return 1
	fi
	BACKEND_PORT=$(sed -n 's/^LISTEN .*:\([0-9]*\)$/\1/p' "$tmp/backend.out")
}

stop_backend() {
	exec {BACKEND_FD}>&-
	BACKEND_FD=""
	wait_exit "$BACKEND_PID" 3 || stop_pid "$BACKEND_PID"
	reap "$BACKEND_PID"
}

# jget JSON KEY: a number from loadgen's one-line JSON
jget() { sed -n "s/.*\"$2\":\(-\{0,1\}[0-9.eE+]*\).*/\1/p" <<<"$1"; }

pkgver() { dpkg-query -W -f='${Version}' "$1" 2>/dev/null || echo "?"; }

# ---- CPU time -------------------------------------------------------------------

# machine_ticks: CPU time all CPUs spent busy (user, nice, system, irq,
# softirq), in clock ticks.
machine_ticks() { awk '/^cpu /{print $2 + $3 + $4 + $7 + $8}' /proc/stat; }

# proc_ticks PID: CPU time of PID and its reaped children, in clock ticks
# (0 without a PID).
proc_ticks() {
	if [ -n "$1" ] && [ -r "/proc/$1/stat" ]; then
		sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13 + $14 + $15}'
	else
		echo 0
	fi
}

# us_per TICKS N: microseconds per item.
us_per() { awk -v t="$1" -v n="$2" -v hz="$(getconf CLK_TCK)" 'BEGIN{ if (n + 0 == 0) print "n/a"; else printf "%.0f\n", t * 1e6 / hz / n }'; }

