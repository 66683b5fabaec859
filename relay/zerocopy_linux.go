package relay

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// devNull is /dev/null's device number (major 1, minor 3).
var devNull = unix.Mkdev(1, 3)

// fdOf looks behind r or w for a descriptor the zero-copy paths can use;
// its kind is kindOther when there is none. A conn that says it is our own
// socket is taken at its word; anything else is classified by fstat(2),
// so that a socket or pipe on stdin or stdout is still spliced. Pipes and
// sockets must be non-blocking (and so registered with Go's poller)
// because the engine waits for them through syscall.RawConn; a blocking
// one takes the buffered path.
func fdOf(x any, forWrite bool) rawFD {
	sc, ok := x.(syscall.Conn)
	if !ok {
		return rawFD{}
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return rawFD{}
	}
	if ownSocket(x) {
		return rawFD{rc: rc, kind: kindSocket, own: true}
	}
	var st unix.Stat_t
	var flags int
	var serr, ferr error
	if err := rc.Control(func(fd uintptr) {
		serr = unix.Fstat(int(fd), &st)
		flags, ferr = unix.FcntlInt(fd, unix.F_GETFL, 0)
	}); err != nil || serr != nil || ferr != nil {
		return rawFD{}
	}
	nonblock := flags&unix.O_NONBLOCK != 0
	kind := kindOther
	switch st.Mode & unix.S_IFMT {
	case unix.S_IFIFO:
		if nonblock {
			kind = kindPipe
		}
	case unix.S_IFSOCK:
		if typ, err := sockType(rc); err == nil && typ == unix.SOCK_STREAM && nonblock {
			kind = kindSocket
		}
	case unix.S_IFREG:
		// splice(2) refuses files opened for appending.
		if !forWrite || flags&unix.O_APPEND == 0 {
			kind = kindFile
		}
	case unix.S_IFCHR:
		if forWrite && uint64(st.Rdev) == devNull {
			kind = kindDevNull
		}
	}
	if kind == kindOther {
		return rawFD{}
	}
	return rawFD{rc: rc, kind: kind}
}

func sockType(rc syscall.RawConn) (typ int, err error) {
	cerr := rc.Control(func(fd uintptr) {
		typ, err = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_TYPE)
	})
	if cerr != nil {
		return 0, cerr
	}
	return typ, err
}

// ready waits for a descriptor through a syscall.RawConn.
type ready func(func(fd uintptr) bool) error

// tryIO runs op on a descriptor until it neither is interrupted nor would
// block, waiting for readiness through wait (a syscall.RawConn's Read or
// Write) in between. It returns op's result and error, and wait's.
func tryIO(wait ready, op func(fd int) (int64, error)) (n int64, opErr, waitErr error) {
	waitErr = wait(func(fd uintptr) bool {
		for {
			n, opErr = op(int(fd))
			switch opErr {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true
		}
	})
	return n, opErr, waitErr
}

// splice moves bytes from a socket or pipe through a pipe taken from a pool
// to any splice target, or from a regular file to a socket, until the
// source ends or fails. A file is read from its current position, which
// advances as with read(2), so a caller that shares the descriptor sees
// where gnc stopped. The pipe is held only while bytes move: a source with
// nothing to read gives its pipe back before waiting, so an idle pairing
// costs no descriptors beyond its own two sockets. When no pipe can be had
// before a read, splice returns errNoPipe having lost nothing.
//
// Going through a pipe of our own even when one end already is a pipe keeps
// every EAGAIN unambiguous: filling, our pipe is empty, so EAGAIN means the
// source has nothing; draining, our pipe holds data, so it means the
// destination is full.
//
// With fin, a fill that found bytes looks once more at once: if the
// source has already ended (a request and its FIN, a reply and its close),
// the bytes go out with SPLICE_F_MORE and the caller's shutdown or close
// carries them out in one segment with the FIN. That spares a packet, and
// its processing on both hosts, at each end of every short connection.
// With bulk, a long stream raises the source's low-water mark (lowWater).
func (c *copier) splice(dst rawFD, fin, bulk bool) error {
	s := splicer{
		fin: fin,
		// Between sockets and pipes splice never blocks (both ends are
		// non-blocking), so it is made as a raw system call: the
		// scheduler is not told, which spares a handoff of the processor
		// and wake-ups of the runtime's monitor thread on every call. A
		// file or /dev/null target may block on the device, so it is
		// told.
		rawIn:  c.src.kind != kindFile,
		rawOut: dst.kind == kindSocket || dst.kind == kindPipe,
		flags:  spliceFlags,
	}
	defer s.release()
	var lw *lowWater
	if bulk {
		lw = newLowWater(c.src.rc, c.r)
		defer lw.stop()
	}
	fill, drain := s.fill, s.drain // method values made once, not per call
	for {
		lw.arm()
		in, serr, rerr := tryIO(c.src.rc.Read, fill)
		if lw.expired(rerr) {
			continue // the bytes that came in short of the mark go now
		}
		switch {
		case s.noPipe:
			return errNoPipe
		case rerr != nil:
			return opError("read", c.r, rerr)
		case serr != nil:
			return opError("read", c.r, os.NewSyscallError("splice", serr))
		case in == 0:
			c.eof = true
			return nil
		}
		s.p.n = int(in)
		if s.eof {
			s.flags |= unix.SPLICE_F_MORE
		}
		if err := s.drainAll(dst, drain); err != nil {
			c.delivered(in - int64(s.p.n))
			return opError("write", c.w, err)
		}
		c.delivered(in)
		lw.moved(in)
		if s.lateErr != nil {
			return opError("read", c.r, os.NewSyscallError("splice", s.lateErr))
		}
		if s.eof {
			c.eof = true
			return nil
		}
	}
}

// splicer is the state one splice call's fill and drain share.
type splicer struct {
	p             *pipe // the pipe held, nil between bursts
	rawIn, rawOut bool  // make the system call without telling the scheduler
	fin           bool
	flags         int   // for drain: SPLICE_F_MORE once the source has ended
	eof           bool  // the source ended right after what the pipe holds
	lateErr       error // the source failed right after what the pipe holds
	noPipe        bool  // getPipe failed before anything was read
}

// fill moves what the source has into the pipe, taking one from the pool
// first if none is held; the pipe goes back when the source is empty.
func (s *splicer) fill(fd int) (int64, error) {
	if s.p == nil {
		p, err := getPipe()
		if err != nil {
			s.noPipe = true
			return 0, err
		}
		s.p = p
	}
	n, err := spliceNB(fd, s.p.w, s.p.size, s.rawIn, spliceFlags)
	if err == unix.EAGAIN {
		s.release() // empty: nothing is held while we wait
		return n, err
	}
	if s.fin && err == nil && n > 0 && int(n) < s.p.size {
		m, err := spliceNB(fd, s.p.w, s.p.size-int(n), s.rawIn, spliceFlags)
		switch err {
		case nil:
			n += m
			s.eof = m == 0
		case unix.EAGAIN, unix.EINTR:
		default:
			// A reset is reported once: keep it for after the bytes
			// before it have gone.
			s.lateErr = err
		}
	}
	return n, err
}

// drain moves what the pipe holds to the destination.
func (s *splicer) drain(fd int) (int64, error) {
	return spliceNB(s.p.r, fd, s.p.n, s.rawOut, s.flags)
}

// drainAll empties the pipe into the destination, waiting for it to take
// more as needed.
func (s *splicer) drainAll(dst rawFD, drain func(int) (int64, error)) error {
	for s.p.n > 0 {
		out, serr, werr := tryIO(dst.rc.Write, drain)
		switch {
		case werr != nil:
			return werr
		case serr != nil:
			return os.NewSyscallError("splice", serr)
		}
		s.p.n -= int(out)
	}
	return nil
}

// release gives the pipe back, if one is held.
func (s *splicer) release() {
	if s.p != nil {
		putPipe(s.p)
		s.p = nil
	}
}

// A stream that has been pouring in wakes its reader for every segment
// that arrives, 8-16 KiB at a time on loopback; each wake-up costs the
// sender too, which on a loaded machine shares the cores. lowWater raises
// the socket's SO_RCVLOWAT once a direction has moved bulkAfter bytes, so
// that epoll reports it readable only with bulkMark bytes queued, or at
// its end, an error, or a nearly closed window (tcp_epollin_ready). The
// kernel never times that wait out, so every wait is bounded by a read
// deadline of bulkWait; at the deadline whatever has come is moved at
// once and the mark drops back until the next bulkAfter bytes. Only a
// socket of our own takes part (a deadline on a shared descriptor could
// undo someone else's), and only towards stdout or a file, where a wait
// of at most bulkWait at the tail of a burst goes unnoticed: a relay
// between two sockets forwards every segment at once.
type lowWater struct {
	rc    syscall.RawConn
	dl    interface{ SetReadDeadline(time.Time) error }
	on    bool
	count int64 // bytes moved since the mark last dropped
}

const (
	bulkAfter = 4 << 20
	bulkMark  = 1 << 20 // a pool pipe's worth: one fill per wake-up
	bulkWait  = 2 * time.Millisecond
)

func newLowWater(rc syscall.RawConn, r io.Reader) *lowWater {
	c, ok := r.(interface{ SetReadDeadline(time.Time) error })
	if !ok || !ownSocket(r) {
		return nil
	}
	return &lowWater{rc: rc, dl: c}
}

// arm bounds the coming wait while the mark is up.
func (l *lowWater) arm() {
	if l != nil && l.on {
		l.dl.SetReadDeadline(time.Now().Add(bulkWait))
	}
}

// expired reports whether err is the bound of a wait running out, and
// if so drops the mark.
func (l *lowWater) expired(err error) bool {
	if l == nil || !l.on || !errors.Is(err, os.ErrDeadlineExceeded) {
		return false
	}
	l.set(1)
	return true
}

// moved counts n bytes moved and raises the mark after bulkAfter.
func (l *lowWater) moved(n int64) {
	if l == nil || l.on {
		return
	}
	if l.count += n; l.count >= bulkAfter {
		l.set(bulkMark)
	}
}

func (l *lowWater) set(mark int) {
	var err error
	if cerr := l.rc.Control(func(fd uintptr) {
		err = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVLOWAT, mark)
	}); cerr != nil || err != nil {
		mark = 1 // leave the socket as the kernel has it
	}
	l.on = mark > 1
	l.count = 0
	if !l.on {
		l.dl.SetReadDeadline(time.Time{})
	}
}

// stop leaves neither a deadline nor a raised mark behind: a buffered
// copy may go on reading the socket (after errNoPipe), and would wait
// for the mark with no deadline to bound it.
func (l *lowWater) stop() {
	if l != nil && l.on {
		l.set(1)
	}
}

// spliceFlags never wait: both ends are non-blocking and polled by Go.
const spliceFlags = unix.SPLICE_F_MOVE | unix.SPLICE_F_NONBLOCK

// spliceNB moves up to n bytes from in to out without waiting, through a
// raw system call when raw is set.
func spliceNB(in, out, n int, raw bool, flags int) (int64, error) {
	if !raw {
		m, err := unix.Splice(in, nil, out, nil, n, flags)
		return int64(m), err // m is an int on 32-bit platforms
	}
	r, _, errno := unix.RawSyscall6(unix.SYS_SPLICE, uintptr(in), 0, uintptr(out), 0, uintptr(n), uintptr(flags))
	if errno != 0 {
		return 0, errno
	}
	return int64(r), nil
}

// pipe is a kernel pipe used as splice's in-kernel buffer.
type pipe struct {
	r, w int
	size int // capacity, the most one splice call moves
	n    int // bytes in the pipe now
}

// maxIdlePipes bounds the pool: enough for bursts of short connections,
// few enough that an idle relay holds almost no descriptors.
const maxIdlePipes = 32

// pipeSize is the capacity asked of each pipe; 1 MiB is Linux's default
// ceiling for unprivileged processes (/proc/sys/fs/pipe-max-size) and moves
// 16 times more per system call than the default 64 KiB.
const pipeSize = 1 << 20

// pipeIdle is how long the pool keeps pipes once none is in use: long
// enough to carry a burst of short connections, short enough that a relay
// whose connections have all closed soon holds no descriptor but its
// listener's.
const pipeIdle = time.Second

var pipePool struct {
	sync.Mutex
	free  []*pipe
	inUse int         // pipes handed out and not yet returned
	trim  *time.Timer // closes the free pipes after pipeIdle unused
}

// pipe2 is unix.Pipe2, replaced by tests.
var pipe2 = unix.Pipe2

func getPipe() (*pipe, error) {
	pipePool.Lock()
	pipePool.inUse++
	if n := len(pipePool.free); n > 0 {
		p := pipePool.free[n-1]
		pipePool.free = pipePool.free[:n-1]
		pipePool.Unlock()
		return p, nil
	}
	pipePool.Unlock()
	var fds [2]int
	if err := pipe2(fds[:], unix.O_NONBLOCK|unix.O_CLOEXEC); err != nil {
		pipePool.Lock()
		pipePool.inUse--
		pipePool.Unlock()
		return nil, os.NewSyscallError("pipe2", err)
	}
	p := &pipe{r: fds[0], w: fds[1], size: 64 << 10}
	if size, err := unix.FcntlInt(uintptr(p.w), unix.F_SETPIPE_SZ, pipeSize); err == nil {
		p.size = size
	}
	return p, nil
}

// putPipe returns an empty pipe to the pool. A pipe still holding bytes
// (its copy failed halfway) is closed, so the bytes can never leak into
// another connection.
func putPipe(p *pipe) {
	pipePool.Lock()
	pipePool.inUse--
	if pipePool.inUse == 0 {
		if pipePool.trim == nil {
			pipePool.trim = time.AfterFunc(pipeIdle, trimPipes)
		} else {
			pipePool.trim.Reset(pipeIdle)
		}
	}
	if p.n == 0 && len(pipePool.free) < maxIdlePipes {
		pipePool.free = append(pipePool.free, p)
		p = nil
	}
	pipePool.Unlock()
	if p != nil {
		p.close()
	}
}

// trimPipes closes the pooled pipes if none has been taken since the
// pool went unused.
func trimPipes() {
	pipePool.Lock()
	var free []*pipe
	if pipePool.inUse == 0 {
		free, pipePool.free = pipePool.free, nil
	}
	pipePool.Unlock()
	for _, p := range free {
		p.close()
	}
}

func (p *pipe) close() {
	unix.Close(p.r)
	unix.Close(p.w)
}

// waitReadable blocks until a socket has bytes, end of file or an error to
// report, without reading anything, so that no buffer is held while a
// connection sits idle.
func waitReadable(rc syscall.RawConn) error {
	var b [1]byte
	return rc.Read(func(fd uintptr) bool {
		for {
			_, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
			switch err {
			case unix.EINTR:
				continue
			case unix.EAGAIN:
				return false
			}
			return true
		}
	})
}
