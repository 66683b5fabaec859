#!/usr/bin/env bash
# bench/ab.sh: gnc against gnc, an older build against this tree, in
# interleaved runs, for the question "did this change slow the data path
# down?" that a ratio against a peer cannot answer (the peer's own speed
# moves it by 10% from run to run).
#
# Each run sends BYTES with one build on both ends, receiver to /dev/null:
#   pipe:  bench/cmd/zeros -bs 8K | gnc 127.0.0.1 P   ->  gnc -l 127.0.0.1 P
#   pipe2: bench/cmd/zeros -mode vmsplice | gnc ...      (the producer copies nothing)
#   file:  gnc 127.0.0.1 P < FILE (FILE_BYTES of zeros on $TMPDIR)
# Runs alternate old, new, old, new... RUNS times each; the table holds the
# medians and new/old.
#
# Usage: bench/ab.sh OLD_REV_OR_BINARY     (e.g. bench/ab.sh ca645cc)
# Env:   MODES ("pipe pipe2 file")  RUNS (5)  BYTES (4G)  FILE_BYTES (2G)
# Output: Markdown on stdout, progress on stderr.
set -u
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

OLD=${1:?usage: bench/ab.sh OLD_REV_OR_BINARY}
read -r -a MODES <<<"${MODES:-pipe pipe2 file}"
RUNS=${RUNS:-5}
BYTES=$(to_bytes "${BYTES:-4G}")
FILE_BYTES=$(to_bytes "${FILE_BYTES:-2G}")

bench_setup ab
BIN=$tmp/bin
mkdir -p "$BIN"
build_bench_tools "$BIN" || exit 1
(cd "$REPO_ROOT" && go build -o "$BIN/gnc-new" .) || { log "build of this tree failed"; exit 1; }
if [ -x "$OLD" ]; then
	cp "$OLD" "$BIN/gnc-old"
	OLD_DESC="$OLD"
else
	git -C "$REPO_ROOT" worktree add -q --detach "$tmp/old" "$OLD" || { log "no such revision: $OLD"; exit 1; }
	(cd "$tmp/old" && go build -o "$BIN/gnc-old" .) || { log "build of $OLD failed"; git -C "$REPO_ROOT" worktree remove --force "$tmp/old"; exit 1; }
	git -C "$REPO_ROOT" worktree remove --force "$tmp/old"
	OLD_DESC="$OLD ($(git -C "$REPO_ROOT" log -1 --format=%s "$OLD" | cut -c1-60))"
fi
if [[ " ${MODES[*]} " == *" file "* ]]; then
	head -c "$FILE_BYTES" /dev/zero >"$tmp/file"
	cat "$tmp/file" >/dev/null # into the page cache before the first run
fi

# one BUILD MODE: one transfer; prints GB/s, or nothing on failure.
one() {
	local gnc=$BIN/gnc-$1 mode=$2 bytes=$BYTES port pid t0 t1 i
	for ((i = 0; i < 5; i++)); do
		port=$(free_port) || return 1
		"$gnc" -l 127.0.0.1 "$port" </dev/null >/dev/null 2>"$tmp/recv.err" &
		pid=$!
		track "$pid"
		wait_listen "$port" "$pid" && break
		stop_pid "$pid"
		pid=""
	done
	[ -n "$pid" ] || return 1
	t0=$(now_us)
	case $mode in
	pipe) "$BIN/zeros" -n "$bytes" -bs 8K | timeout 120 "$gnc" 127.0.0.1 "$port" ;;
	pipe2) "$BIN/zeros" -n "$bytes" -mode vmsplice | timeout 120 "$gnc" 127.0.0.1 "$port" ;;
	file)
		bytes=$FILE_BYTES
		timeout 120 "$gnc" 127.0.0.1 "$port" <"$tmp/file"
		;;
	esac
	wait_exit "$pid" 120 || { stop_pid "$pid"; return 1; }
	t1=$(now_us)
	reap "$pid" || return 1
	gbps "$bytes" $((t1 - t0))
}

echo "# gnc A/B: $OLD_DESC against this tree"
echo
echo "- date: $(date -u '+%Y-%m-%d %H:%M:%S UTC')"
echo "- machine: $(nproc) CPUs, kernel $(uname -sr)"
echo "- $RUNS interleaved runs per build and mode; GB/s = 10^9 bytes/s; pipe and pipe2 $(human "$BYTES"), file $(human "$FILE_BYTES")"
echo
echo "| mode | old GB/s | new GB/s | new / old | old runs | new runs |"
echo "|---|---:|---:|---:|---|---|"
for mode in "${MODES[@]}"; do
	olds=() news=()
	for ((r = 1; r <= RUNS; r++)); do
		for b in old new; do
			log "$mode run $r/$RUNS: $b"
			v=$(one "$b" "$mode")
			log "  ${v:-failed}"
			[ -n "$v" ] || continue
			if [ "$b" = old ]; then olds+=("$v"); else news+=("$v"); fi
		done
	done
	mo=$(median "${olds[@]}")
	mn=$(median "${news[@]}")
	echo "| $mode | $mo | $mn | $(ratio "$mn" "$mo") | ${olds[*]} | ${news[*]} |"
done
