#!/usr/bin/env bash
# bench/tls.sh: gnc's TLS against ncat --ssl and socat OPENSSL, on loopback.
#
# 1. Throughput: PRODUCER | CLIENT -> SERVER >/dev/null, TLS_BYTES from a
#    pipe into the server's /dev/null, median of RUNS, after a correctness
#    pass per tool that counts the bytes the server received (wc -c). The
#    same tool is client and server:
#      gnc             gnc -l --tls --cert C --key K  /  gnc --tls --pin PIN
#      ncat            ncat --ssl -l --recv-only ...   /  ncat --ssl --send-only (verify off)
#      socat           OPENSSL-LISTEN,verify=0         /  OPENSSL:...,verify=0
#      socat-b262144   the same with -b 262144
#    Each pair's cipher suite is reported: gnc's from its client's -v line,
#    the others' from openssl s_client -brief against their server (both
#    sides of those pairs are OpenSSL with its default preferences).
# 2. TLS termination: gnc relay tls-listen:P,cert=C,key=K 127.0.0.1:BACKEND
#    against socat OPENSSL-LISTEN:P,fork,verify=0 TCP:127.0.0.1:BACKEND;
#    bench/cmd/loadgen -tls -c CLIENTS for DURATION: a full handshake per
#    connection (no resumption), 64 B request, close_notify and FIN, 64 B
#    reply; with the relay's CPU per connection.
# 3. Idle TLS pairings: loadgen -tls -idle IDLE through gnc relay
#    tls-listen: to an echo backend: RSS per pairing, fds back after close.
#
# Usage: bench/tls.sh
# Env:   TLS_BYTES (1G) RUNS (3) DURATION (10s) CLIENTS (50) IDLE (2000)
#        TOOLS ("gnc ncat socat socat-b262144") SECTIONS ("throughput rate idle")
#        QUICK=1 -> TLS_BYTES=256M RUNS=1 DURATION=3s IDLE=500
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # $tmp comes from bench_setup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${TLS_BYTES:=256M}" "${RUNS:=1}" "${DURATION:=3s}" "${IDLE:=500}"
fi
TLS_BYTES=$(to_bytes "${TLS_BYTES:-1G}") || exit 2
RUNS=${RUNS:-3}
DURATION=${DURATION:-10s}
CLIENTS=${CLIENTS:-50}
IDLE=${IDLE:-2000}
read -r -a TOOLS <<<"${TOOLS:-gnc ncat socat socat-b262144}"
read -r -a SECTIONS <<<"${SECTIONS:-throughput rate idle}"
T=300 # seconds, bound for every transfer or relay
LOAD_PIN=()

bench_setup tls
ensure_peers || exit 1
command -v openssl >/dev/null || { log "openssl is needed (apt-get install openssl)"; exit 1; }
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
build_gnc "$tmp"
[ -n "$GNC" ] || { log "gnc does not build"; exit 1; }

has_section() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }

# One ECDSA P-256 certificate for every server, as gnc makes for itself.
CERT=$tmp/cert.pem KEY=$tmp/key.pem
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$KEY" -out "$CERT" \
	-days 2 -subj /CN=localhost -addext subjectAltName=DNS:localhost,IP:127.0.0.1 2>/dev/null || exit 1
PIN=SHA256:$(openssl x509 -in "$CERT" -outform der | sha256sum | cut -d' ' -f1)

# tls_cmds TOOL PORT -> SRV CLI (arrays)
tls_cmds() {
	local b=()
	case $1 in
	gnc)
		SRV=("$GNC" -l --tls --cert "$CERT" --key "$KEY" 127.0.0.1 "$2")
		CLI=("$GNC" --tls --pin "$PIN" 127.0.0.1 "$2")
		return
		;;
	ncat)
		SRV=(ncat --ssl --ssl-cert "$CERT" --ssl-key "$KEY" --recv-only -l 127.0.0.1 "$2")
		CLI=(ncat --ssl --send-only 127.0.0.1 "$2")
		return
		;;
	socat-b262144) b=(-b 262144) ;;
	socat) ;;
	*) return 1 ;;
	esac
	SRV=(socat "${b[@]}" -u "OPENSSL-LISTEN:$2,bind=127.0.0.1,reuseaddr,cert=$CERT,key=$KEY,verify=0" STDOUT)
	CLI=(socat "${b[@]}" -u STDIN "OPENSSL:127.0.0.1:$2,verify=0")
}

label() { [ "$1" = socat-b262144 ] && echo "socat -b262144" || echo "$1"; }

# xfer TOOL BYTES SINK -> XFER_US XFER_ERR; SINK is a command reading stdout.
xfer() {
	local tool=$1 bytes=$2 sink=$3 port try spid t0 src
	XFER_US=0 XFER_ERR=""
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || break
		tls_cmds "$tool" "$port"
		if [ "$sink" = null ]; then
			timeout "$T" "${SRV[@]}" </dev/null >/dev/null 2>"$tmp/srv.err" &
		else
			# shellcheck disable=SC2086 # $sink is a command line
			{ timeout "$T" "${SRV[@]}" </dev/null 2>"$tmp/srv.err" | $sink >"$tmp/sink.out"; } &
		fi
		spid=$!
		track "$spid"
		wait_listen "$port" "$spid" 5 && break
		stop_pid "$spid"
		spid=""
	done
	[ -n "${spid:-}" ] || { XFER_ERR="server did not start: $(head -c 200 "$tmp/srv.err")"; return 1; }
	t0=$(now_us)
	produce_with zeros "$bytes" | timeout "$T" "${CLI[@]}" 2>"$tmp/cli.err"
	src=${PIPESTATUS[1]}
	if ! wait_exit "$spid" 20; then
		XFER_ERR="server did not exit at the end of data"
		stop_pid "$spid"
		return 1
	fi
	XFER_US=$(($(now_us) - t0))
	reap "$spid"
	((src == 0)) || XFER_ERR="client exited $src: $(head -c 200 "$tmp/cli.err")"
}

# cipher TOOL: the suite its pair negotiates.
cipher() {
	local tool=$1 port spid
	if [ "$tool" = gnc ]; then
		port=$(free_port)
		tls_cmds gnc "$port"
		timeout 20 "${SRV[@]}" </dev/null >/dev/null 2>&1 &
		spid=$!
		track "$spid"
		wait_listen "$port" "$spid" 5
		echo x | timeout 20 "${CLI[@]}" -v 2>&1 >/dev/null | sed -n 's/^TLS \(1\.[23]\), \(TLS_[A-Z0-9_]*\).*/TLS \1 \2/p'
		stop_pid "$spid"
		return
	fi
	port=$(free_port)
	tls_cmds "$tool" "$port"
	timeout 20 "${SRV[@]}" </dev/null >/dev/null 2>&1 &
	spid=$!
	track "$spid"
	wait_listen "$port" "$spid" 5
	echo x | timeout 5 openssl s_client -brief -connect "127.0.0.1:$port" 2>&1 |
		awk -F': ' '/^Protocol version/{v=$2} /^Ciphersuite/{c=$2} END{sub("TLSv", "TLS ", v); print v, c}'
	stop_pid "$spid"
}

echo "# gnc TLS benchmark on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr)"
echo "- tools: gnc (built from $REPO_ROOT), ncat $(pkgver ncat), socat $(pkgver socat), openssl $(pkgver openssl), $(go version | cut -d' ' -f3)"
echo "- certificate: ECDSA P-256, self-signed; gnc's client verifies it by its pin, the peers' clients verify nothing (their default for ncat; verify=0 for socat)"
echo

if has_section throughput; then
	declare -A RATES CIPHER OK MED
	for tool in "${TOOLS[@]}"; do
		log "throughput: $tool: correctness pass"
		CIPHER[$tool]=$(cipher "$tool")
		xfer "$tool" "$TLS_BYTES" "wc -c"
		got=$(tr -d ' ' <"$tmp/sink.out" 2>/dev/null)
		if [ -n "$XFER_ERR" ] || [ "$got" != "$TLS_BYTES" ]; then
			OK[$tool]="**lost data**: ${got:-0} of $TLS_BYTES bytes${XFER_ERR:+; $XFER_ERR}"
		else
			OK[$tool]="all $TLS_BYTES bytes"
		fi
	done
	for ((r = 0; r < RUNS; r++)); do
		for tool in "${TOOLS[@]}"; do
			log "throughput: $tool: run $((r + 1))"
			xfer "$tool" "$TLS_BYTES" null && [ -z "$XFER_ERR" ] &&
				RATES[$tool]+="$(gbps "$TLS_BYTES" "$XFER_US") "
		done
	done
	echo "## Throughput, $(human "$TLS_BYTES") from a pipe"
	echo
	echo "The producer is \`bench/cmd/zeros -bs 1M\`; the server writes to /dev/null (to a pipe read by \`wc -c\` in the correctness pass, which counts the bytes). GB/s = 10^9 bytes/s, median of $RUNS."
	echo
	echo "| tool | cipher suite | GB/s | x ncat | x socat | runs | correctness pass |"
	echo "|---|---|---:|---:|---:|---|---|"
	for tool in "${TOOLS[@]}"; do
		# shellcheck disable=SC2086
		MED[$tool]=$(median ${RATES[$tool]:-})
	done
	for tool in "${TOOLS[@]}"; do
		echo "| $(label "$tool") | ${CIPHER[$tool]} | ${MED[$tool]:-n/a} | $(ratio "${MED[$tool]:-}" "${MED[ncat]:-}") | $(ratio "${MED[$tool]:-}" "${MED[socat]:-}") | ${RATES[$tool]:-} | ${OK[$tool]} |"
	done
	echo
fi

# ---- 2. termination rate ----------------------------------------------------

# start_term NAME BACKENDPORT -> TPID PID TPORT
start_term() {
	local name=$1 target=$2 try port
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		case $name in
		gnc) run_bg timeout "$T" "$GNC" relay "tls-listen:127.0.0.1:$port,cert=$CERT,key=$KEY" "127.0.0.1:$target" ;;
		socat) run_bg timeout "$T" socat "OPENSSL-LISTEN:$port,bind=127.0.0.1,reuseaddr,fork,cert=$CERT,key=$KEY,verify=0" "TCP:127.0.0.1:$target" ;;
		esac
		TPID=$BGPID
		track "$TPID"
		if wait_listen "$port" "$TPID" 5; then
			TPORT=$port
			PID=$(child_of "$TPID")
			return 0
		fi
		stop_pid "$TPID"
	done
	return 1
}

if has_section rate; then
	start_backend reply || exit 1
	declare -A RATE ROW
	for name in none gnc socat; do
		port=$BACKEND_PORT tls=()
		if [ "$name" != none ]; then
			start_term "$name" "$BACKEND_PORT" || { ROW[$name]="| $name | did not start | | | | | |"; continue; }
			port=$TPORT tls=(-tls)
		fi
		log "rate: $name"
		t0=$(proc_ticks "${PID:-}")
		j=$("$BIN/loadgen" -addr "127.0.0.1:$port" -c "$CLIENTS" -d "$DURATION" "${tls[@]}" {BACKEND_FD}>&-)
		t1=$(proc_ticks "${PID:-}")
		conns=$(jget "$j" conns)
		RATE[$name]=$(jget "$j" rate)
		cpu=""
		[ "$name" != none ] && cpu=$(us_per $((t1 - t0)) "$conns")
		ROW[$name]="| $name | $CLIENTS | ${RATE[$name]} | $(jget "$j" p50_ms) | $(jget "$j" p99_ms) | $(jget "$j" errors) | XSOCAT | $cpu |"
		[ "$name" != none ] && stop_pid "$TPID"
		PID=""
	done
	stop_backend
	echo "## TLS termination: new connections per second"
	echo
	echo "\`bench/cmd/loadgen -tls -c $CLIENTS -d $DURATION\` through each relay to \`bench/cmd/backend -mode reply\`: each connection is a full handshake (no resumption), 64 B, close_notify and FIN, a 64 B reply read to EOF. The \"none\" row is plain TCP straight to the backend. CPU µs/conn is the relay's busy time (with its reaped children, for socat's forks) per connection."
	echo
	echo "| relay | clients | conns/s | p50 ms | p99 ms | errors | x socat | relay CPU µs/conn |"
	echo "|---|---:|---:|---:|---:|---:|---:|---:|"
	for name in none gnc socat; do
		r=${ROW[$name]:-}
		x=""
		[ "$name" != none ] && x=$(ratio "${RATE[$name]:-}" "${RATE[socat]:-}")
		echo "${r/XSOCAT/$x}"
	done
	echo
fi

# ---- 3. idle pairings -----------------------------------------------------------

if has_section idle; then
	start_backend echo || exit 1
	start_term gnc "$BACKEND_PORT" || exit 1
	mem0=$(rss_kib "$PID") fd0=$(tree_fds "$PID")
	rm -f "$tmp/lg.in"
	mkfifo "$tmp/lg.in"
	"$BIN/loadgen" -addr "127.0.0.1:$TPORT" -tls -idle "$IDLE" -hold 300s -ramp 200 -timeout 30s \
		<"$tmp/lg.in" >"$tmp/lg.out" 2>"$tmp/lg.err" {BACKEND_FD}>&- &
	lgpid=$!
	track "$lgpid"
	exec {lgfd}>"$tmp/lg.in"
	wait_line "$tmp/lg.out" '^READY' "$lgpid" 240 || log "loadgen: $(cat "$tmp/lg.err")"
	json=$(head -1 "$tmp/lg.out")
	open=$(jget "$json" open)
	mem1=$(rss_kib "$PID") fd1=$(tree_fds "$PID")
	echo >&"$lgfd"
	exec {lgfd}>&-
	wait_exit "$lgpid" 60 || stop_pid "$lgpid"
	reap "$lgpid"
	back=no
	for ((i = 0; i < 200; i++)); do
		fd2=$(tree_fds "$PID")
		((fd2 <= fd0)) && { back=yes; break; }
		sleep 0.05
	done
	stop_pid "$TPID"
	stop_backend
	echo "## Idle TLS pairings"
	echo
	echo "\`loadgen -tls -idle $IDLE\` opens TLS connections through \`gnc relay tls-listen:\` to an echo backend, checks a 1-byte echo on each, and holds them idle. Memory is the relay's VmRSS."
	echo
	echo "| relay | pairings | RSS before → loaded (KiB) | KiB per pairing | fds before → loaded | fds back after close |"
	echo "|---|---:|---|---:|---|---|"
	echo "| gnc relay tls-listen: | ${open:-0} of $IDLE | $mem0 → $mem1 ($(awk -v m="$mem1" 'BEGIN{printf "%.1f MiB", m/1024}')) | $(awk -v a="$mem0" -v b="$mem1" -v n="${open:-0}" 'BEGIN{ if (n > 0) printf "%.1f", (b - a) / n; else print "n/a" }') | $fd0 → $fd1 | $back |"
	echo
fi
