package conn

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"time"

	"gnc/relay"
)

// UnixError is a Unix-domain socket that could not be connected to or
// bound, or whose peer went away.
type UnixError struct {
	// Op is "connect to" or "bind to".
	Op string
	// Path is the socket's path as the user wrote it ("@name" for an
	// abstract one).
	Path string
	// Network is "unix" (stream) or "unixgram".
	Network string
	// Err says what went wrong.
	Err error
	// Hint, if not empty, suggests what to do.
	Hint string
}

// Error reads as nc's messages do: "connect to PATH (unix) failed: REASON".
func (e *UnixError) Error() string {
	return fmt.Sprintf("%s %s (%s) failed: %s", e.Op, e.Path, e.Network, Reason(e.Err))
}

// Unwrap gives the system call's error.
func (e *UnixError) Unwrap() error { return e.Err }

// HintText is the hint printed after the error.
func (e *UnixError) HintText() string { return e.Hint }

// errNotSocket is a path that exists and is not a socket, which gnc never
// removes.
var errNotSocket = errors.New("it exists and is not a socket")

// isAbstract reports a name in Linux's abstract namespace, written "@name":
// it has no file, and goes away with its last socket.
func isAbstract(path string) bool { return len(path) > 0 && path[0] == '@' }

// checkUnixPath refuses what no Unix socket can be.
func checkUnixPath(path string) error {
	switch {
	case path == "":
		return &ParseError{What: "socket path", Value: path, Reason: "no path given", Hint: `as in "gnc -U /var/run/docker.sock"`}
	case isAbstract(path) && !abstractNames:
		return &ParseError{What: "socket path", Value: path, Reason: "abstract names (@name) exist only on Linux", Hint: "give the path of a socket file"}
	case path == "@":
		return &ParseError{What: "socket path", Value: path, Reason: "an abstract name needs a name after @", Hint: `as in "@gnc-test"`}
	}
	return nil
}

// connectHint suggests what to do about a failed connection to path.
func connectHint(path string, err error) string {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return "nothing is at " + path + ": is its server running?"
	case isRefused(err):
		return path + " is a socket nobody accepts on: its server may have exited"
	case errors.Is(err, fs.ErrPermission):
		return "you may not write to " + path + ": ask its owner, or use a group that may"
	case errors.Is(err, syscall.EPROTOTYPE):
		return "the socket there is of the other kind: add or drop -u (datagram)"
	}
	return ""
}

// isRefused reports a connection refused, as each platform spells it.
func isRefused(err error) bool {
	var en syscall.Errno
	if !errors.As(err, &en) {
		return false
	}
	return en == syscall.ECONNREFUSED || runtime.GOOS == "windows" && en == 10061 // WSAECONNREFUSED
}

func unixNetwork(datagram bool) string {
	if datagram {
		return "unixgram"
	}
	return "unix"
}

// PeerCred is the process at the other end of a Unix socket, as the
// kernel recorded it when the connection was made.
type PeerCred struct {
	PID, UID, GID int
}

// String reads "pid 812, uid 0, gid 0".
func (p PeerCred) String() string { return fmt.Sprintf("pid %d, uid %d, gid %d", p.PID, p.UID, p.GID) }

// UnixDialer is an endpoint that connects to a Unix-domain socket: a
// stream socket, or with Datagram a datagram socket, for which it binds a
// socket of its own in the temporary directory (removed when the conn
// closes) so that replies can reach it, as nc.openbsd -U -u does.
type UnixDialer struct {
	// Path is the socket's path, or "@name" for a Linux abstract socket.
	Path string
	// Datagram selects a datagram socket (unixgram) instead of a stream.
	Datagram bool
	// Timeout bounds the connection; zero or negative: no bound of gnc's.
	Timeout time.Duration
}

// NewUnixDialer makes a dialer for path, which it checks.
func NewUnixDialer(path string, datagram bool) (*UnixDialer, error) {
	if err := checkUnixPath(path); err != nil {
		return nil, err
	}
	return &UnixDialer{Path: path, Datagram: datagram}, nil
}

// String is "unix:PATH", as written in a relay endpoint.
func (d *UnixDialer) String() string { return "unix:" + d.Path }

// UnixTarget is the path and network ("unix" or "unixgram") dialed, for
// messages.
func (d *UnixDialer) UnixTarget() (path, network string) {
	return d.Path, unixNetwork(d.Datagram)
}

// Close does nothing: a dialer holds nothing between connections.
func (d *UnixDialer) Close() error { return nil }

// Open connects: a stream gives a UnixConn, a datagram socket a
// *UnixgramConn.
func (d *UnixDialer) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if d.Datagram {
		return d.openDatagram()
	}
	nd := net.Dialer{Timeout: d.Timeout}
	c, err := nd.DialContext(ctx, "unix", d.Path)
	if err != nil {
		return nil, &UnixError{Op: "connect to", Path: d.Path, Network: "unix", Err: err, Hint: connectHint(d.Path, err)}
	}
	return UnixConn{UnixConn: c.(*net.UnixConn)}, nil
}

func (d *UnixDialer) openDatagram() (io.ReadWriteCloser, error) {
	if runtime.GOOS == "windows" {
		return nil, &UnixError{Op: "connect to", Path: d.Path, Network: "unixgram", Err: errors.New("Windows has no Unix datagram sockets")}
	}
	local, err := tempSocketPath()
	if err != nil {
		return nil, &UnixError{Op: "connect to", Path: d.Path, Network: "unixgram", Err: err}
	}
	c, err := net.DialUnix("unixgram", &net.UnixAddr{Name: local, Net: "unixgram"}, &net.UnixAddr{Name: d.Path, Net: "unixgram"})
	if err != nil {
		os.Remove(local)
		return nil, &UnixError{Op: "connect to", Path: d.Path, Network: "unixgram", Err: err, Hint: connectHint(d.Path, err)}
	}
	return &UnixgramConn{c: c, path: d.Path, raddr: &net.UnixAddr{Name: d.Path, Net: "unixgram"}, local: local}, nil
}

// tempSocketPath names a socket file of gnc's own in the temporary
// directory.
func tempSocketPath() (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(os.TempDir(), fmt.Sprintf("gnc-%d-%s.sock", os.Getpid(), hex.EncodeToString(b[:]))), nil
}

// UnixConn is a Unix stream socket gnc dialed or accepted and alone
// holds. It embeds the *net.UnixConn, so the copy engine splices it and
// half-closes it as it does a TCP socket, and it says so with
// relay.OwnSocket.
type UnixConn struct {
	*net.UnixConn
	path string // the listener's path, for an accepted conn
}

// OwnSocket is always true: see relay.OwnSocket.
func (UnixConn) OwnSocket() bool { return true }

// PeerCred returns the credentials of the peer process where the kernel
// gives them (SO_PEERCRED on Linux); false elsewhere.
func (c UnixConn) PeerCred() (PeerCred, bool) { return peerCred(c.UnixConn) }

// UnixPath is the socket's path as the user wrote it: the listener's for
// an accepted conn, the server's for a dialed one.
func (c UnixConn) UnixPath() string {
	if c.path != "" {
		return c.path
	}
	if a := c.UnixConn.RemoteAddr(); a != nil {
		return a.String()
	}
	return "?"
}

// LocalAddr is the socket's address; for an accepted conn, the listener's
// path as the user wrote it.
func (c UnixConn) LocalAddr() net.Addr {
	if c.path != "" {
		return &net.UnixAddr{Name: c.path, Net: "unix"}
	}
	return c.UnixConn.LocalAddr()
}

// UnixgramConn is a connected Unix datagram socket: each Read returns one
// datagram and each Write sends one (see relay.Datagram). Like a UDP
// conn it has neither CloseWrite nor relay.OwnSocket.
type UnixgramConn struct {
	c     *net.UnixConn
	path  string   // the peer's path, for errors
	raddr net.Addr // the peer's address
	local string   // a socket file of gnc's own, removed by Close
	first *[]byte  // a listener's first datagram, until read
	fn    int
	once  sync.Once
}

// errTruncated is a datagram larger than the reader's buffer.
var errTruncated = errors.New("datagram larger than the 64 KiB buffer: truncated")

// MaxDatagram is MaxDatagram: see relay.Datagram.
func (c *UnixgramConn) MaxDatagram() int { return MaxDatagram }

// Read returns the next datagram.
func (c *UnixgramConn) Read(p []byte) (int, error) {
	if bp := c.first; bp != nil {
		c.first = nil
		n := copy(p, (*bp)[:c.fn])
		dgramBufs.Put(bp)
		return n, nil
	}
	n, _, flags, _, err := c.c.ReadMsgUnix(p, nil)
	if err != nil {
		return n, c.fail(err)
	}
	if msgTrunc != 0 && flags&msgTrunc != 0 {
		return n, &net.OpError{Op: "read", Net: "unixgram", Source: c.LocalAddr(), Addr: c.raddr, Err: errTruncated}
	}
	return n, nil
}

// Write sends p as one datagram.
func (c *UnixgramConn) Write(p []byte) (int, error) {
	n, err := c.c.Write(p)
	return n, c.fail(err)
}

// fail names the peer's path when it has gone away.
func (c *UnixgramConn) fail(err error) error {
	if err == nil || !isRefused(err) && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return &UnixError{Op: "connect to", Path: c.path, Network: "unixgram", Err: err, Hint: connectHint(c.path, err)}
}

// Close closes the socket and removes the file gnc bound for it, if any.
func (c *UnixgramConn) Close() error {
	var err error
	c.once.Do(func() {
		err = c.c.Close()
		if c.local != "" {
			os.Remove(c.local)
		}
	})
	return err
}

// LocalAddr is the socket's own address.
func (c *UnixgramConn) LocalAddr() net.Addr { return c.c.LocalAddr() }

// RemoteAddr is the peer's address.
func (c *UnixgramConn) RemoteAddr() net.Addr { return c.raddr }

// UnixPath is the peer's path.
func (c *UnixgramConn) UnixPath() string { return c.path }

// SetDeadline sets the socket's read and write deadlines.
func (c *UnixgramConn) SetDeadline(t time.Time) error { return c.c.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *UnixgramConn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline.
func (c *UnixgramConn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }

// UnixListenOptions shape a Unix socket listener.
type UnixListenOptions struct {
	// Datagram listens on a datagram socket (unixgram): the first sender
	// becomes the peer, as with nc -U -u -l. Otherwise a stream socket.
	Datagram bool
	// Mode is the socket file's permissions, set before anybody can
	// connect; zero leaves them to the umask.
	Mode fs.FileMode
	// Unlink removes any socket already at the path, even one a server
	// still listens on (its open connections go on; new ones come here).
	// Without it only a stale socket, which nothing accepts on, is
	// replaced. A path that is not a socket is never removed.
	Unlink bool
}

// UnixListener is an endpoint that listens on a Unix-domain socket. It
// binds when made: a stale socket file at the path (nothing accepts on
// it) is replaced, a live one is reported as in use, and anything that is
// not a socket is left alone with an error. Close removes the socket file
// if it is still the one gnc made.
type UnixListener struct {
	ln    *net.UnixListener // stream
	pc    *net.UnixConn     // datagram
	path  string
	desc  string
	made  os.FileInfo // the socket file as bound, nil for an abstract name
	dgram bool

	// OnDrop, if not nil, is told of datagrams a datagram listener drops
	// while it waits for its peer: from an unnamed socket, which nothing
	// can answer.
	OnDrop func(from net.Addr, reason string)

	mu     sync.Mutex
	handed bool // datagram: the socket belongs to the peer's conn now
	closed bool
}

// ListenUnix listens at path (or "@name", abstract, on Linux).
func ListenUnix(path string, o UnixListenOptions) (*UnixListener, error) {
	if err := checkUnixPath(path); err != nil {
		return nil, err
	}
	network := unixNetwork(o.Datagram)
	fail := func(err error, hint string) error {
		return &UnixError{Op: "bind to", Path: path, Network: network, Err: err, Hint: hint}
	}
	if o.Datagram && runtime.GOOS == "windows" {
		return nil, fail(errors.New("Windows has no Unix datagram sockets"), "")
	}
	if isAbstract(path) && o.Mode != 0 {
		return nil, &ParseError{What: "socket path", Value: path, Reason: "an abstract socket has no file, so no mode", Hint: "leave out mode=, or give a path"}
	}
	if o.Mode != 0 && runtime.GOOS == "windows" {
		return nil, &ParseError{What: "socket path", Value: path, Reason: "mode= is not supported on Windows", Hint: "leave out mode="}
	}
	if !isAbstract(path) {
		if err := clearStale(path, o.Unlink, fail); err != nil {
			return nil, err
		}
	}
	l := &UnixListener{path: path, dgram: o.Datagram, desc: "unix-listen:" + path}
	bindAt := path
	if o.Mode != 0 {
		// Bound under a name of its own, given its mode, then linked into
		// place: nobody can connect before the mode is set, and a file
		// that appeared meanwhile is not replaced (link fails).
		var err error
		if bindAt, err = tempSocketIn(filepath.Dir(path)); err != nil {
			return nil, fail(err, "")
		}
	}
	if err := l.bind(bindAt, network); err != nil {
		return nil, fail(err, bindHint(err))
	}
	if o.Mode != 0 {
		err := os.Chmod(bindAt, o.Mode.Perm())
		if err == nil {
			err = os.Link(bindAt, path)
		}
		os.Remove(bindAt)
		if err != nil {
			l.closeSocket()
			if errors.Is(err, fs.ErrExist) {
				return nil, fail(syscall.EADDRINUSE, "something appeared at "+path+" meanwhile")
			}
			return nil, fail(err, "")
		}
	}
	if !isAbstract(path) {
		l.made, _ = os.Lstat(path)
	}
	return l, nil
}

func (l *UnixListener) bind(at, network string) error {
	addr := &net.UnixAddr{Name: at, Net: network}
	if l.dgram {
		pc, err := net.ListenUnixgram(network, addr)
		l.pc = pc
		return err
	}
	ln, err := net.ListenUnix(network, addr)
	if err == nil {
		ln.SetUnlinkOnClose(false) // Close removes the file, if it is still ours
	}
	l.ln = ln
	return err
}

func (l *UnixListener) closeSocket() error {
	if l.ln != nil {
		return l.ln.Close()
	}
	return l.pc.Close()
}

func bindHint(err error) string {
	switch {
	case errors.Is(err, syscall.EADDRINUSE):
		return "another socket has that name: choose another"
	case errors.Is(err, fs.ErrPermission):
		return "you may not create files in that directory"
	case errors.Is(err, fs.ErrNotExist):
		return "the directory does not exist"
	}
	return ""
}

// tempSocketIn names a socket file of gnc's own in dir.
func tempSocketIn(dir string) (string, error) {
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return filepath.Join(dir, ".gnc-"+hex.EncodeToString(b[:])+".sock"), nil
}

// clearStale makes room at path for a new socket: nothing to do if
// nothing is there; a socket nobody accepts on (or any socket, with
// unlink) is removed; a live socket is in use; anything else is an error.
func clearStale(path string, unlink bool, fail func(error, string) error) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fail(err, "")
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fail(errNotSocket, "gnc removes only sockets nobody listens on: choose another path, or remove "+path+" yourself")
	}
	if !unlink && boundHere(path) {
		return fail(syscall.EADDRINUSE, "a server listens there: stop it, or choose another path")
	}
	if !unlink {
		c, err := net.DialTimeout("unix", path, time.Second)
		switch {
		case err == nil:
			c.Close()
			return fail(syscall.EADDRINUSE, "a server listens there: stop it, or choose another path")
		case errors.Is(err, syscall.EPROTOTYPE):
			// A datagram socket is bound there: stream connects are
			// refused by type, not for want of a listener.
			return fail(syscall.EADDRINUSE, "a datagram socket is bound there: stop its program, or choose another path")
		case !isRefused(err):
			return fail(err, "")
		}
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fail(err, "")
	}
	return nil
}

// Addr is the path listened on.
func (l *UnixListener) Addr() net.Addr { return &net.UnixAddr{Name: l.path, Net: unixNetwork(l.dgram)} }

// String is the endpoint as the user wrote it, such as
// "unix-listen:/run/app.sock".
func (l *UnixListener) String() string { return l.desc }

// UnixTarget is the path and network listened on, for messages.
func (l *UnixListener) UnixTarget() (path, network string) { return l.path, unixNetwork(l.dgram) }

// Close stops accepting and removes the socket file if it is still the
// one gnc bound (another program may have replaced it meanwhile).
// Connections already accepted, and a datagram listener's peer, go on.
func (l *UnixListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	handed := l.handed
	l.mu.Unlock()
	var err error
	if !handed {
		err = l.closeSocket()
	}
	if l.made != nil {
		if fi, serr := os.Lstat(l.path); serr == nil && os.SameFile(fi, l.made) {
			os.Remove(l.path)
		}
	}
	return err
}

// Open accepts the next client as a UnixConn; a datagram listener waits
// for the first datagram and hands its socket, connected to the sender,
// over as a *UnixgramConn (once).
func (l *UnixListener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if l.dgram {
		return l.openDatagram(ctx)
	}
	stop := context.AfterFunc(ctx, func() { l.ln.SetDeadline(time.Unix(1, 0)) })
	c, err := l.ln.AcceptUnix()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return UnixConn{UnixConn: c, path: l.path}, nil
}

func (l *UnixListener) openDatagram(ctx context.Context) (io.ReadWriteCloser, error) {
	l.mu.Lock()
	handed := l.handed
	l.mu.Unlock()
	if handed {
		return nil, fmt.Errorf("%s: %w", l.desc, relay.ErrExhausted)
	}
	stop := context.AfterFunc(ctx, func() { l.pc.SetReadDeadline(time.Unix(1, 0)) })
	defer stop()
	bp := dgramBufs.Get().(*[]byte)
	for {
		n, from, err := l.pc.ReadFromUnix(*bp)
		if err != nil {
			dgramBufs.Put(bp)
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			return nil, err
		}
		if from == nil || from.Name == "" || from.Name == "@" {
			if l.OnDrop != nil {
				l.OnDrop(&net.UnixAddr{Name: "(unnamed)", Net: "unixgram"}, "sent from a socket with no name, which no reply can reach")
			}
			continue
		}
		rc, err := l.pc.SyscallConn()
		var cerr error
		if err == nil {
			err = rc.Control(func(fd uintptr) { cerr = connectFD(fd, &syscall.SockaddrUnix{Name: from.Name}) })
		}
		if err == nil {
			err = cerr
		}
		if err != nil {
			dgramBufs.Put(bp)
			return nil, &UnixError{Op: "connect to", Path: from.Name, Network: "unixgram", Err: err}
		}
		l.mu.Lock()
		l.handed = true
		l.mu.Unlock()
		return &UnixgramConn{c: l.pc, path: from.Name, raddr: from, first: bp, fn: n}, nil
	}
}
