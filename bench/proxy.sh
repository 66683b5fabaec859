#!/usr/bin/env bash
# bench/proxy.sh: gnc's proxy server against microsocks and dante, and the
# proxied path against the plain relay, on loopback.
#
# 1. Connection rate through SOCKS5: bench/cmd/backend -mode reply -req 64,
#    bench/cmd/loadgen -socks5 PROXY -c 1 and -c 50 for DURATION. Each
#    connection: dial the proxy, SOCKS5 no-auth handshake step by step,
#    CONNECT to the backend, write 64 B, read the 64 B reply, close. No
#    half-close: microsocks ends a tunnel at the client's first FIN, so
#    the backend replies once 64 bytes arrived and the client reads 64
#    bytes and closes. Rows:
#      direct       loadgen straight to the backend
#      gnc relay    gnc relay listen:127.0.0.1:RP 127.0.0.1:BACKEND (no SOCKS)
#      gnc proxy    gnc relay listen:127.0.0.1:RP proxy
#      microsocks   microsocks -i 127.0.0.1 -p RP
#      dante        danted -f CONF (bench config: /work/shared/peers/danted.conf)
# 2. Throughput, PRODUCER THROUGHPUT_BYTES | gnc ... -> relay -> gnc -l >/dev/null:
#      relay   gnc 127.0.0.1 RP            -> gnc relay listen:RP tcp:127.0.0.1:RECV
#      proxy   gnc --proxy socks5://127.0.0.1:RP 127.0.0.1 RECV -> gnc relay listen:RP proxy
#    median of RUNS, interleaved, after one verification run each.
#
# Usage: bench/proxy.sh             (from any directory)
# Env:   DURATION (10s)  THROUGHPUT_BYTES (2G)  RUNS (3)  SECTIONS ("rate throughput")
#        PROXIES ("gnc-relay gnc microsocks dante")  PRODUCER (default: zeros)
#        QUICK=1 -> DURATION=3s THROUGHPUT_BYTES=256M RUNS=1
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh disable=SC2154 # $tmp comes from bench_setup
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

if [ "${QUICK:-0}" = 1 ]; then
	: "${DURATION:=3s}" "${THROUGHPUT_BYTES:=256M}" "${RUNS:=1}"
fi
DURATION=${DURATION:-10s}
THROUGHPUT_BYTES=$(to_bytes "${THROUGHPUT_BYTES:-2G}") || exit 2
VERIFY_BYTES=$(to_bytes "${VERIFY_BYTES:-64M}") || exit 2
RUNS=${RUNS:-3}
PRODUCER=${PRODUCER:-zeros}
read -r -a PROXIES <<<"${PROXIES:-gnc-relay gnc microsocks dante}"
read -r -a SECTIONS <<<"${SECTIONS:-rate throughput}"
PROXY_MAX=600 # bound for one proxy instance
T=120         # bound for one transfer

bench_setup proxy
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
build_gnc "$tmp"
[ -n "$GNC" ] || { log "gnc does not build: nothing to measure"; exit 1; }

has_section() { [[ " ${SECTIONS[*]} " == *" $1 "* ]]; }
LOAD_PIN=() # lib.sh's start_backend: the backend runs unpinned

# ---- proxies --------------------------------------------------------------

proxy_label() {
	case $1 in
	direct) echo "direct (no proxy)" ;;
	gnc-relay) echo "gnc relay (plain forwarding, no SOCKS)" ;;
	gnc) echo "gnc relay listen:P proxy" ;;
	microsocks) echo "microsocks $(pkgver microsocks)" ;;
	dante) echo "dante $(pkgver dante-server)" ;;
	esac
}

proxy_available() {
	case $1 in
	gnc | gnc-relay | direct) return 0 ;;
	microsocks) command -v microsocks >/dev/null ;;
	dante) command -v danted >/dev/null && [ -r /work/shared/peers/danted.conf ] ;;
	*) return 1 ;;
	esac
}

# start_proxy NAME TARGETPORT -> PX_PID PX_PORT. gnc-relay forwards to
# TARGETPORT; the others are SOCKS5 proxies.
start_proxy() {
	local name=$1 target=$2 try port
	for ((try = 0; try < 5; try++)); do
		port=$(free_port) || return 1
		case $name in
		gnc-relay) timeout "$PROXY_MAX" "$GNC" relay "listen:127.0.0.1:$port" "127.0.0.1:$target" </dev/null >"$tmp/px.out" 2>"$tmp/px.err" & ;;
		gnc) timeout "$PROXY_MAX" "$GNC" relay "listen:127.0.0.1:$port" proxy </dev/null >"$tmp/px.out" 2>"$tmp/px.err" & ;;
		microsocks) timeout "$PROXY_MAX" microsocks -i 127.0.0.1 -p "$port" </dev/null >"$tmp/px.out" 2>"$tmp/px.err" & ;;
		dante)
			sed "s/^internal:.*/internal: 127.0.0.1 port = $port/" /work/shared/peers/danted.conf >"$tmp/danted.conf"
			timeout "$PROXY_MAX" danted -f "$tmp/danted.conf" -p "$tmp/danted.pid" </dev/null >"$tmp/px.out" 2>"$tmp/px.err" &
			;;
		*) return 1 ;;
		esac
		PX_TPID=$!
		track "$PX_TPID"
		if wait_listen "$port" "$PX_TPID" 10; then
			PX_PORT=$port
			return 0
		fi
		log "  $name did not come up on port $port: $(head -c 200 "$tmp/px.err")"
		stop_pid "$PX_TPID"
	done
	return 1
}

# stop_proxy: stop the proxy (timeout's child, and dante's children).
stop_proxy() {
	local kids p
	kids=$(descendants "$PX_TPID" | tail -n +2)
	stop_pid "$PX_TPID"
	for p in $kids; do
		[ -e "/proc/$p" ] && kill "$p" 2>/dev/null
	done
	PX_TPID=""
}

echo "# gnc proxy benchmark on loopback"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), kernel $(uname -sr)"
echo "- tools: gnc (built from $REPO_ROOT), microsocks $(pkgver microsocks), dante $(pkgver dante-server), $(go version | cut -d' ' -f3)"
echo

# ---- 1. connection rate ---------------------------------------------------------

if has_section rate; then
	dsec=$(awk -v d="$DURATION" 'BEGIN{ v = d + 0; if (d ~ /ms$/) v /= 1000; else if (d ~ /m$/) v *= 60; printf "%d", v + 1 }')
	declare -A RATE P50 P99 ERRS
	ROWS=(direct)
	for p in "${PROXIES[@]}"; do
		if proxy_available "$p"; then ROWS+=("$p"); else log "skipping $p: not installed"; fi
	done
	start_backend reply -req 64 || exit 1
	for r in "${ROWS[@]}"; do
		via=() addr=127.0.0.1:$BACKEND_PORT
		if [ "$r" != direct ]; then
			if ! start_proxy "$r" "$BACKEND_PORT"; then
				log "$r did not start"
				continue
			fi
			if [ "$r" = gnc-relay ]; then
				addr=127.0.0.1:$PX_PORT
			else
				via=(-socks5 "127.0.0.1:$PX_PORT")
			fi
		fi
		for c in 1 50; do
			log "rate: $r -c $c for $DURATION"
			j=$(timeout "$((dsec + 60))" "$BIN/loadgen" -addr "$addr" "${via[@]}" -c "$c" -d "$DURATION" -req 64 -resp 64 -halfclose=false -eof=false </dev/null 2>"$tmp/loadgen.err" | tail -1)
			log "  $j"
			RATE["$r $c"]=$(jget "$j" rate)
			P50["$r $c"]=$(jget "$j" p50_ms)
			P99["$r $c"]=$(jget "$j" p99_ms)
			ERRS["$r $c"]=$(jget "$j" errors)
			if [ -n "${ERRS["$r $c"]}" ] && ((ERRS["$r $c"] > 0)); then
				ERRS["$r $c"]+=" ($(sed -n 's/.*"error_kinds":{\([^}]*\)}.*/\1/p' <<<"$j" | tr -d '"' | head -c 120))"
			fi
		done
		[ "$r" != direct ] && stop_proxy
	done
	stop_backend

	echo "## Connections per second through a SOCKS5 proxy"
	echo
	echo "bench/cmd/loadgen for $DURATION per row: each connection dials the proxy, does the SOCKS5 no-auth handshake step by step, CONNECTs to bench/cmd/backend, writes 64 B and reads the 64 B reply (no half-close: microsocks ends a tunnel at the first FIN), then closes. The gnc relay row forwards without SOCKS, for the cost of the handshake."
	echo
	echo "| path | -c | conns/s | p50 ms | p99 ms | errors | x microsocks | x dante |"
	echo "|---|---:|---:|---:|---:|---|---:|---:|"
	for c in 1 50; do
		for r in "${ROWS[@]}"; do
			v=${RATE["$r $c"]:-}
			echo "| $(proxy_label "$r") | $c | ${v:-n/a} | ${P50["$r $c"]:-n/a} | ${P99["$r $c"]:-n/a} | ${ERRS["$r $c"]:-n/a} | $(ratio "$v" "${RATE["microsocks $c"]:-}") | $(ratio "$v" "${RATE["dante $c"]:-}") |"
		done
	done
	echo
fi

# ---- 2. throughput ------------------------------------------------------------

# xfer relay|proxy BYTES OUT -> XFER_US XFER_ERR
xfer() {
	local kind=$1 bytes=$2 out=$3 t0 src rrc=0 sender
	XFER_US=0 XFER_ERR=""
	start_receiver gnc "$out" "$T" || { XFER_ERR="receiver did not start"; return 1; }
	if [ "$kind" = relay ]; then
		start_proxy gnc-relay "$RPORT" || { XFER_ERR="relay did not start"; stop_pid "$RPID"; return 1; }
		sender=("$GNC" 127.0.0.1 "$PX_PORT")
	else
		start_proxy gnc "$RPORT" || { XFER_ERR="proxy did not start"; stop_pid "$RPID"; return 1; }
		sender=("$GNC" --proxy "socks5://127.0.0.1:$PX_PORT" 127.0.0.1 "$RPORT")
	fi
	t0=$(now_us)
	produce "$bytes" | timeout "$T" "${sender[@]}" 2>"$tmp/send.err"
	src=${PIPESTATUS[1]}
	if wait_exit "$RPID" 10; then
		reap "$RPID"
		rrc=$?
	else
		XFER_ERR="receiver still running 10 s after the sender exited"
		stop_pid "$RPID"
	fi
	XFER_US=$(($(now_us) - t0))
	stop_proxy
	((src != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }sender exit $src: $(head -c 160 "$tmp/send.err" | tr '\n' ' ')"
	((rrc != 0)) && XFER_ERR="${XFER_ERR:+$XFER_ERR; }receiver exit $rrc"
	[ -z "$XFER_ERR" ]
}

if has_section throughput; then
	declare -A TP TPNOTE
	for k in relay proxy; do
		log "verify $k ($(human "$VERIFY_BYTES"))"
		rm -f "$tmp/verify.out"
		xfer "$k" "$VERIFY_BYTES" "$tmp/verify.out"
		got=$(stat -c %s "$tmp/verify.out" 2>/dev/null || echo 0)
		TPNOTE[$k]=""
		if [ -n "$XFER_ERR" ]; then
			TPNOTE[$k]="verify failed: $XFER_ERR; "
		elif [ "$got" != "$VERIFY_BYTES" ]; then
			TPNOTE[$k]="lost data: received $got of $VERIFY_BYTES bytes; "
		elif ! cmp -s -n "$VERIFY_BYTES" "$tmp/verify.out" /dev/zero; then
			TPNOTE[$k]="corrupted data in the verification run; "
		fi
	done
	rm -f "$tmp/verify.out"
	for ((run = 1; run <= RUNS; run++)); do
		for k in relay proxy; do
			log "throughput run $run/$RUNS: $k $(human "$THROUGHPUT_BYTES")"
			if xfer "$k" "$THROUGHPUT_BYTES" /dev/null; then
				v=$(gbps "$THROUGHPUT_BYTES" "$XFER_US")
				TP[$k]+="$v "
				log "  $v GB/s"
			else
				TPNOTE[$k]+="run $run: $XFER_ERR; "
				log "  failed: $XFER_ERR"
			fi
		done
	done
	# shellcheck disable=SC2086
	base=$(median ${TP[relay]:-})
	echo "## Throughput through the proxy (GB/s = 10^9 bytes/s, median of $RUNS)"
	echo
	echo "\`$(producer_desc "$PRODUCER") $(human "$THROUGHPUT_BYTES")\` into the sender; the receiver is \`gnc -l 127.0.0.1 PORT >/dev/null\`; wall clock from starting the sender until the receiver has exited."
	echo
	echo "| path | GB/s | x plain relay | runs | notes |"
	echo "|---|---:|---:|---|---|"
	for k in relay proxy; do
		# shellcheck disable=SC2086
		v=$(median ${TP[$k]:-})
		case $k in
		relay) label="\`gnc 127.0.0.1 RP\` → \`gnc relay listen:RP tcp:127.0.0.1:RECV\`" ;;
		proxy) label="\`gnc --proxy socks5://127.0.0.1:RP 127.0.0.1 RECV\` → \`gnc relay listen:RP proxy\`" ;;
		esac
		echo "| $label | ${v:-n/a} | $(ratio "$v" "$base") | ${TP[$k]:-} | ${TPNOTE[$k]%; } |"
	done
	echo
fi
