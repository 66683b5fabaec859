package conn

import (
	"os"
	"strconv"

	"golang.org/x/sys/unix"
)

// atomicWrite is the most a write(2) to a pipe may carry without blocking
// once poll(2) has reported the pipe writable: POLLOUT means a free slot
// of a page, and a write of up to PIPE_BUF bytes goes whole into one.
const atomicWrite = 4096

// reopen opens fd's pipe, FIFO or terminal again through /proc/self/fd,
// as a private, non-blocking open file description that Go's poller
// registers; nil if that cannot be done. O_NOCTTY keeps a terminal from
// becoming gnc's controlling terminal.
func reopen(fd int, name string, input bool, st *unix.Stat_t) *os.File {
	flags := unix.O_WRONLY
	if input {
		flags = unix.O_RDONLY
	}
	nfd, err := unix.Open("/proc/self/fd/"+strconv.Itoa(fd), flags|unix.O_NONBLOCK|unix.O_CLOEXEC|unix.O_NOCTTY, 0)
	if err != nil {
		return nil
	}
	var got unix.Stat_t
	if unix.Fstat(nfd, &got) != nil || got.Dev != st.Dev || got.Ino != st.Ino {
		unix.Close(nfd) // not the same object after all
		return nil
	}
	return os.NewFile(uintptr(nfd), name)
}

// growPipe enlarges the pipe behind f to 1 MiB, best effort: the process
// at the other end runs further ahead, which halves the context switches
// per byte. A pipe's capacity belongs to the pipe, not to any descriptor's
// status flags, and nobody relies on a pipe being small, so this is the
// one change gnc makes to something it shares.
func growPipe(f *os.File) {
	rc, err := f.SyscallConn()
	if err != nil {
		return
	}
	rc.Control(func(fd uintptr) {
		if size, err := unix.FcntlInt(fd, unix.F_GETPIPE_SZ, 0); err == nil && size < 1<<20 {
			unix.FcntlInt(fd, unix.F_SETPIPE_SZ, 1<<20)
		}
	})
}

// dupOnto makes newfd refer to what oldfd does, closing newfd's old
// reference atomically.
func dupOnto(oldfd, newfd int) error { return unix.Dup3(oldfd, newfd, 0) }

// ownPipe makes the pipe a pollFD's cancel writes to.
func ownPipe() (r, w int, err error) {
	var p [2]int
	if err := unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		return -1, -1, err
	}
	return p[0], p[1], nil
}
