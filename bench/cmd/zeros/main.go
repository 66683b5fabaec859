//go:build linux

// Command zeros writes N zero bytes to stdout using large writes.
//
// It is the data producer for bench/throughput.sh and bench/relay.sh:
//
//	zeros -n 4G | SENDER
//
// Sizes take an optional binary suffix (K, M, G, T = 2^10, 2^20, ...).
//
// Modes:
//
//	-mode write     plain write(2) of -bs bytes at a time (raw syscall, so the
//	                Go scheduler stays out of the way while the pipe is full)
//	-mode vmsplice  vmsplice(2) the same zero buffer into the pipe: the kernel
//	                references the pages instead of copying them, so the
//	                producer costs almost nothing (stdout must be a pipe;
//	                falls back to write otherwise)
//
// -pipesz grows the stdout pipe with F_SETPIPE_SZ (0 leaves it alone).
package main

import (
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"unsafe"
)

const fSetPipeSz = 1031 // F_SETPIPE_SZ

func writeAll(fd int, buf []byte, n int64, splice bool) error {
	for n > 0 {
		chunk := buf
		if int64(len(chunk)) > n {
			chunk = chunk[:n]
		}
		var w uintptr
		var errno syscall.Errno
		if splice {
			iov := syscall.Iovec{Base: &chunk[0]}
			iov.SetLen(len(chunk))
			w, _, errno = syscall.RawSyscall6(syscall.SYS_VMSPLICE, uintptr(fd),
				uintptr(unsafe.Pointer(&iov)), 1, 0, 0, 0)
		} else {
			w, _, errno = syscall.RawSyscall(syscall.SYS_WRITE, uintptr(fd),
				uintptr(unsafe.Pointer(&chunk[0])), uintptr(len(chunk)))
		}
		if errno == syscall.EINTR || errno == syscall.EAGAIN {
			continue
		}
		if errno != 0 {
			return errno
		}
		n -= int64(w)
	}
	return nil
}

func parseSize(s string) (int64, error) {
	s = strings.TrimSpace(s)
	mult := int64(1)
	if n := len(s); n > 0 {
		switch strings.ToUpper(s[n-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult != 1 {
			s = s[:n-1]
		}
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || v < 0 {
		return 0, fmt.Errorf("bad size %q", s)
	}
	return v * mult, nil
}

func main() {
	nflag := flag.String("n", "1G", "number of bytes to write (suffix K/M/G/T allowed)")
	bsflag := flag.String("bs", "1M", "write size")
	mode := flag.String("mode", "write", "write or vmsplice")
	pipesz := flag.Int("pipesz", 0, "F_SETPIPE_SZ on stdout if > 0")
	flag.Parse()
	n, err := parseSize(*nflag)
	if err != nil {
		fmt.Fprintln(os.Stderr, "zeros:", err)
		os.Exit(2)
	}
	bs, err := parseSize(*bsflag)
	if err != nil || bs <= 0 {
		fmt.Fprintln(os.Stderr, "zeros: bad -bs")
		os.Exit(2)
	}
	buf := make([]byte, bs)
	fd := int(os.Stdout.Fd())
	// os.Stdout.Fd() puts the descriptor in blocking mode, which RawSyscall needs.
	var st syscall.Stat_t
	isPipe := syscall.Fstat(fd, &st) == nil && st.Mode&syscall.S_IFMT == syscall.S_IFIFO
	if *pipesz > 0 && isPipe {
		syscall.Syscall(syscall.SYS_FCNTL, uintptr(fd), fSetPipeSz, uintptr(*pipesz))
	}
	var splice bool
	switch *mode {
	case "write":
	case "vmsplice":
		splice = isPipe
	default:
		fmt.Fprintln(os.Stderr, "zeros: -mode must be write or vmsplice")
		os.Exit(2)
	}
	if err := writeAll(fd, buf, n, splice); err != nil {
		if err == syscall.EPIPE {
			os.Exit(141)
		}
		fmt.Fprintln(os.Stderr, "zeros:", err)
		os.Exit(1)
	}
}
