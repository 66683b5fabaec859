package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"gnc/relay"
)

// MaxDatagram is the most bytes gnc puts in one UDP datagram: the largest
// UDP payload over IPv4 (65,535 less the IPv4 and UDP headers). Each read
// of a stream going to a UDP socket takes at most this much, so that it
// leaves as one datagram; more input becomes more datagrams.
const MaxDatagram = 65507

// UDPIdle is how long a UDP session of a listener serving many senders
// (nc -u -l -k, a relay's udp-listen: or udp: endpoint) may go without a
// datagram either way before it ends, unless -i says otherwise. UDP has
// no end of file, so without a limit the sessions of senders that went
// away would pile up.
const UDPIdle = 2 * time.Minute

// udpNetwork is the UDP network of the TCP options' family.
func udpNetwork(o TCPOptions) string {
	switch o.Network {
	case "tcp4":
		return "udp4"
	case "tcp6":
		return "udp6"
	}
	return "udp"
}

// proto is the protocol a DialError names: "tcp", or "udp" for the
// refusals of UDP peers.
func (e *DialError) proto() string {
	switch e.Network {
	case "udp", "udp4", "udp6":
		return "udp"
	}
	return "tcp"
}

// UDPDialer is an endpoint that opens a connected UDP socket to Host and
// Port: the kernel then passes only that peer's datagrams to it, and
// reports an ICMP port unreachable as a refusal.
type UDPDialer struct {
	TCPOptions
	// Host is a name or numeric address, as the user wrote it.
	Host string
	// Port is the destination port.
	Port int
	// Source is the local address to send from; empty lets the kernel
	// choose.
	Source string
	// SourcePort is the local port to send from; zero lets the kernel
	// choose.
	SourcePort int

	pinned []net.IP // addresses already resolved, used instead of Host
}

// NewUDPDialer makes a dialer for host and port (a number or a UDP
// service name).
func NewUDPDialer(host, port string, o TCPOptions) (*UDPDialer, error) {
	p, err := ParsePort(port, "udp", false)
	if err != nil {
		return nil, err
	}
	return &UDPDialer{TCPOptions: o, Host: host, Port: p}, nil
}

// Target is the host as typed, the port and "udp", for nc's "Connection
// to HOST PORT port [udp/domain] succeeded!".
func (d *UDPDialer) Target() (host string, port int, proto string) {
	return d.Host, d.Port, "udp"
}

// String is "udp:host:port", as written in a relay endpoint.
func (d *UDPDialer) String() string {
	return "udp:" + net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
}

// Close does nothing: a dialer holds nothing between sockets.
func (d *UDPDialer) Close() error { return nil }

// Open returns a connected UDP socket as a *UDPConn.
func (d *UDPDialer) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	c, err := d.Dial(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// Dial connects a UDP socket to the first of Host's addresses that the
// kernel has a route to. Nothing is sent: whether anybody listens shows
// only when a datagram is answered or refused.
func (d *UDPDialer) Dial(ctx context.Context) (*UDPConn, error) {
	ips := d.pinned
	if ips == nil {
		var err error
		if ips, err = d.resolve(ctx, d.Host); err != nil {
			return nil, err
		}
	}
	var local *net.UDPAddr
	if d.Source != "" || d.SourcePort != 0 {
		local = &net.UDPAddr{Port: d.SourcePort}
		if d.Source != "" {
			sips, err := d.resolve(ctx, d.Source)
			if err != nil {
				return nil, err
			}
			local.IP = sips[0]
		}
	}
	dialer := net.Dialer{LocalAddr: local}
	derr := &DialError{Host: d.Host, Port: d.Port, Network: udpNetwork(d.TCPOptions)}
	for _, ip := range ips {
		c, err := dialer.DialContext(ctx, udpNetwork(d.TCPOptions), net.JoinHostPort(ip.String(), strconv.Itoa(d.Port)))
		if err == nil {
			uc := c.(*net.UDPConn)
			uc.SetReadBuffer(dialBuffer)
			return newUDPConn(uc, d.Host, d.Port), nil
		}
		derr.Attempts = append(derr.Attempts, Attempt{IP: ip, Err: err})
		if ctx.Err() != nil {
			break
		}
	}
	return nil, derr
}

// UDPConn is a connected UDP socket gnc opened: each Read returns one
// datagram from its peer and each Write sends one (see relay.Datagram). A
// refusal (an ICMP port unreachable the kernel reports on the next call)
// fails with a *DialError naming the host as typed. It has no CloseWrite,
// as UDP has no end of file to send, and it does not claim relay.OwnSocket:
// nothing may shut it down or splice it.
type UDPConn struct {
	c    *net.UDPConn
	host string // as typed, for errors
	port int

	// The datagrams WaitRead has taken from the socket, for the next
	// reads: waiting through the descriptor and reading in the same step
	// keeps an idle socket from holding a buffer, and takes every datagram
	// already there in one system call where the platform has recvmmsg.
	// Only the copy reading the conn uses them.
	rc    syscall.RawConn
	rx    rxQueue
	tryFn func(fd uintptr) bool // tryRead, made once
}

// rxQueue holds the datagrams a UDPConn's WaitRead took, in lent buffers.
type rxQueue struct {
	bufs  [relay.DatagramBatch]*[]byte
	sizes [relay.DatagramBatch]int
	head  int
	n     int
	err   error // met after the datagrams queued: for the read after them
	want  int   // how many to ask for next: about twice the last batch
}

// pop hands over the next queued datagram into p.
func (q *rxQueue) pop(p []byte) int {
	bp := q.bufs[q.head]
	n := copy(p, (*bp)[:q.sizes[q.head]])
	dgramBufs.Put(bp)
	q.bufs[q.head] = nil
	q.head++
	q.n--
	return n
}

func newUDPConn(c *net.UDPConn, host string, port int) *UDPConn {
	u := &UDPConn{c: c, host: host, port: port}
	if rc, err := c.SyscallConn(); err == nil && canWaitRead {
		u.rc = rc
		u.tryFn = u.tryRead
	}
	return u
}

// MaxDatagram is MaxDatagram: see relay.Datagram.
func (c *UDPConn) MaxDatagram() int { return MaxDatagram }

// Read returns the next datagram, whole when p holds 64 KiB.
func (c *UDPConn) Read(p []byte) (int, error) {
	if c.rx.n > 0 {
		return c.rx.pop(p), nil
	}
	if err := c.rx.err; err != nil {
		c.rx.err = nil
		return 0, c.opError("read", err)
	}
	n, err := c.c.Read(p)
	return n, c.refused(err)
}

// Write sends p as one datagram.
func (c *UDPConn) Write(p []byte) (int, error) {
	n, err := c.c.Write(p)
	return n, c.refused(err)
}

// ReadDatagrams hands over the datagrams WaitRead took, or with wait
// reads the next one (see relay.DatagramReader).
func (c *UDPConn) ReadDatagrams(bufs [][]byte, sizes []int, wait bool) (int, error) {
	n := 0
	for n < len(bufs) && c.rx.n > 0 {
		sizes[n] = c.rx.pop(bufs[n])
		n++
	}
	if n > 0 {
		return n, nil
	}
	if err := c.rx.err; err != nil {
		c.rx.err = nil
		return 0, c.opError("read", err)
	}
	if !wait {
		return 0, nil
	}
	k, err := c.c.Read(bufs[0])
	if err != nil {
		return 0, c.refused(err)
	}
	sizes[0] = k
	return 1, nil
}

// WriteDatagrams sends each of ds as a datagram, in one system call where
// the platform has sendmmsg (see relay.DatagramWriter).
func (c *UDPConn) WriteDatagrams(ds [][]byte) (int, error) {
	if !batchIO || c.rc == nil {
		for i, d := range ds {
			if _, err := c.Write(d); err != nil {
				return i, err
			}
		}
		return len(ds), nil
	}
	n, err := sendDatagrams(c.rc, ds, netip.AddrPort{})
	if err != nil {
		return n, c.opError("write", err)
	}
	return n, nil
}

// opError names the socket's addresses in err, as net does, and turns a
// refusal into nc's line.
func (c *UDPConn) opError(op string, err error) error {
	var oe *net.OpError
	if !errors.As(err, &oe) {
		err = &net.OpError{Op: op, Net: "udp", Source: c.c.LocalAddr(), Addr: c.c.RemoteAddr(), Err: err}
	}
	return c.refused(err)
}

// WaitRead waits for the next datagram and takes it, with the others
// already there, from the socket for the next reads (see
// relay.ReadWaiter), so that a copy waiting on an idle socket holds no
// buffer.
func (c *UDPConn) WaitRead() error {
	if c.rc == nil || c.rx.n > 0 || c.rx.err != nil {
		return nil
	}
	return c.rc.Read(c.tryFn)
}

// tryRead takes what the socket has into c.rx; false means nothing yet
// (the poller waits).
func (c *UDPConn) tryRead(fd uintptr) bool {
	q := &c.rx
	q.want = max(min(q.want, relay.DatagramBatch), 1)
	for i := range q.want {
		q.bufs[i] = dgramBufs.Get().(*[]byte)
	}
	k, err := rxFill(fd, q.bufs[:q.want], q.sizes[:q.want])
	for i := k; i < q.want; i++ {
		dgramBufs.Put(q.bufs[i])
		q.bufs[i] = nil
	}
	if err == syscall.EAGAIN {
		return false
	}
	if err != nil {
		q.err = os.NewSyscallError("read", err)
	}
	q.head, q.n = 0, k
	q.want = 2 * k
	return true
}

// refused turns the kernel's report of an ICMP port unreachable into the
// error of a connection refused, as nc says it.
func (c *UDPConn) refused(err error) error {
	if err == nil || !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	var ip net.IP
	if a, ok := c.c.RemoteAddr().(*net.UDPAddr); ok {
		ip = a.IP
	}
	return &DialError{Host: c.host, Port: c.port, Network: "udp", Attempts: []Attempt{{IP: ip, Err: err}}}
}

// Close closes the socket.
func (c *UDPConn) Close() error { return c.c.Close() }

// LocalAddr is the socket's own address.
func (c *UDPConn) LocalAddr() net.Addr { return c.c.LocalAddr() }

// RemoteAddr is the peer's address.
func (c *UDPConn) RemoteAddr() net.Addr { return c.c.RemoteAddr() }

// SetDeadline sets the socket's read and write deadlines.
func (c *UDPConn) SetDeadline(t time.Time) error { return c.c.SetDeadline(t) }

// SetReadDeadline sets the socket's read deadline.
func (c *UDPConn) SetReadDeadline(t time.Time) error { return c.c.SetReadDeadline(t) }

// SetWriteDeadline sets the socket's write deadline.
func (c *UDPConn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }

// dgramBufs lends buffers that hold any datagram whole.
var dgramBufs = sync.Pool{New: func() any { b := make([]byte, relay.DatagramBuffer); return &b }}

// The buffers that queue datagrams for a session come in three sizes, so
// that a queue of small datagrams (DNS, syslog, metrics, games) holds
// little memory.
const (
	tinyDatagram  = 512
	smallDatagram = 2048
)

var (
	tinyBufs  = sync.Pool{New: func() any { b := make([]byte, tinyDatagram); return &b }}
	smallBufs = sync.Pool{New: func() any { b := make([]byte, smallDatagram); return &b }}
)

func getBuf(n int) *[]byte {
	switch {
	case n <= tinyDatagram:
		return tinyBufs.Get().(*[]byte)
	case n <= smallDatagram:
		return smallBufs.Get().(*[]byte)
	}
	return dgramBufs.Get().(*[]byte)
}

func putBuf(bp *[]byte) {
	switch len(*bp) {
	case tinyDatagram:
		tinyBufs.Put(bp)
	case smallDatagram:
		smallBufs.Put(bp)
	default:
		dgramBufs.Put(bp)
	}
}

// UDPListener is an endpoint that receives datagrams on a bound UDP
// socket. It serves its senders in one of two ways:
//
//   - single (nc -u -l): the first sender becomes the peer, and the
//     socket itself is connected to it and handed over, as nc.openbsd
//     does: the kernel then drops other senders' datagrams, and reports
//     the peer's refusals;
//   - sessions (nc -u -l -k, a relay's udp-listen:): every sender address
//     gets a session conn of its own, which Open returns as a TCP
//     listener returns an accepted conn. One goroutine reads the socket,
//     in batches where the platform has them, and queues each datagram
//     for its sender's session; replies leave from the same socket.
//
// It binds when made, so that a busy port is reported before anything
// else happens.
type UDPListener struct {
	c      *net.UDPConn
	rc     syscall.RawConn // for batched writes; nil if the socket has none
	desc   string
	single bool

	// MaxSessions bounds the sessions open at once (-m): datagrams from a
	// new sender beyond it are dropped. Zero or negative: no bound. Set
	// it, and the fields below, before the first Open.
	MaxSessions int
	// Admit, if not nil, is asked about each new sender before a session
	// is made for it; its datagrams are dropped if it returns an error.
	Admit func(remote net.Addr) error
	// OnDrop, if not nil, is told once per sender and reason when the
	// listener drops a new sender's datagrams (reason says why, in a few
	// words). It is called from the reading goroutine: it must not block.
	OnDrop func(from net.Addr, reason string)

	mu       sync.Mutex
	handed   bool // single: the socket belongs to the peer's conn now
	started  bool
	closed   bool
	closedCh chan struct{}
	done     chan struct{} // closed when the reader has returned
	err      error         // why the reader stopped, if not closed
	refs     int           // the listener itself and each session: the socket closes at zero
	sessions map[netip.AddrPort]*udpSession
	pending  chan *udpSession
	told     map[netip.AddrPort]uint8 // drop reasons already told, per sender
	stats    UDPListenerStats
	queued   atomic.Int64 // bytes of buffers the sessions' queues hold
}

// UDPListenerStats counts what a session listener dropped.
type UDPListenerStats struct {
	// Bound: datagrams from new senders beyond MaxSessions.
	Bound int64
	// Refused: datagrams from senders Admit refused.
	Refused int64
	// Backlog: datagrams from new senders while MaxPending sessions
	// waited to be opened.
	Backlog int64
}

// MaxPending is how many new sessions may wait for Open, as a TCP
// listener's backlog; a new sender beyond it is dropped.
const MaxPending = 128

// maxQueue is how many datagrams a session holds for its conn's Read, and
// maxQueued how many bytes of buffers all the sessions of a listener hold
// at once; a datagram that arrives beyond either is dropped and counted.
// The queues let a burst wait while the copy that takes them is not
// scheduled; the listener's bound keeps many flooded sessions from
// taking memory without limit.
const (
	maxQueue  = 4096
	maxQueued = 64 << 20
)

// The receive buffers asked of the kernel (which caps them at its
// net.core.rmem_max): a listener's is shared by all its senders, and both
// let a burst wait while the process is not scheduled, instead of being
// dropped. Memory is taken only while datagrams wait.
const (
	listenBuffer = 4 << 20
	dialBuffer   = 4 << 20
)

// batchSize is how many datagrams one read of a session listener's
// socket may take.
const batchSize = 32

// ListenUDP binds host and port for UDP. An empty host listens on every
// address of the options' families; port "0" lets the kernel choose (see
// Addr). With single the listener serves one sender, the first, on the
// socket itself; otherwise a session per sender.
func ListenUDP(ctx context.Context, host, port string, o TCPOptions, single bool) (*UDPListener, error) {
	p, err := ParsePort(port, "udp", true)
	if err != nil {
		return nil, err
	}
	ip, network := "", udpNetwork(o)
	if host != "" {
		ips, err := o.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		ip = ips[0].String()
		if ips[0].To4() != nil {
			network = "udp4" // as ListenTCP: an IPv4 address means IPv4
		}
	}
	var lc net.ListenConfig
	pc, err := lc.ListenPacket(ctx, network, net.JoinHostPort(ip, strconv.Itoa(p)))
	if err != nil {
		shown := ip
		if shown == "" {
			shown = "::"
			if network == "udp4" {
				shown = "0.0.0.0"
			}
		}
		return nil, &BindError{Addr: shown, Port: p, Err: err}
	}
	pc.(*net.UDPConn).SetReadBuffer(listenBuffer)
	desc := "udp-listen:" + net.JoinHostPort(host, port)
	if host == "" {
		desc = "udp-listen:" + port
	}
	rc, _ := pc.(*net.UDPConn).SyscallConn()
	return &UDPListener{
		c: pc.(*net.UDPConn), rc: rc, desc: desc, single: single,
		closedCh: make(chan struct{}), done: make(chan struct{}), refs: 1,
		sessions: make(map[netip.AddrPort]*udpSession),
		pending:  make(chan *udpSession, MaxPending),
		told:     make(map[netip.AddrPort]uint8),
	}, nil
}

// Addr is the bound address, with the port the kernel chose.
func (l *UDPListener) Addr() net.Addr { return l.c.LocalAddr() }

// String is the endpoint as the user wrote it, such as "udp-listen:53".
func (l *UDPListener) String() string { return l.desc }

// Stats returns what the listener dropped so far.
func (l *UDPListener) Stats() UDPListenerStats {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.stats
}

// Open waits for the next sender: single, the first one's conn (once);
// otherwise the session of the next new sender.
func (l *UDPListener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	if l.single {
		return l.openSingle(ctx)
	}
	l.mu.Lock()
	if !l.started && !l.closed {
		l.started = true
		go l.read()
	}
	l.mu.Unlock()
	select {
	case s := <-l.pending:
		return s, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-l.closedCh:
		return nil, net.ErrClosed
	case <-l.done:
		l.mu.Lock()
		defer l.mu.Unlock()
		if l.err != nil {
			return nil, l.err
		}
		return nil, net.ErrClosed
	}
}

// Close stops making sessions. Sessions already open go on (their
// datagrams still arrive, and their replies still leave); the socket
// closes with the last of them.
func (l *UDPListener) Close() error {
	l.mu.Lock()
	if l.closed {
		l.mu.Unlock()
		return nil
	}
	l.closed = true
	close(l.closedCh)
	if l.single {
		handed := l.handed
		l.mu.Unlock()
		if handed {
			return nil
		}
		return l.c.Close()
	}
	var waiting []*udpSession
	for {
		select {
		case s := <-l.pending:
			waiting = append(waiting, s)
			continue
		default:
		}
		break
	}
	l.release()
	l.mu.Unlock()
	for _, s := range waiting {
		s.Close()
	}
	return nil
}

// release drops one reference to the socket and closes it at the last;
// l.mu is held.
func (l *UDPListener) release() {
	if l.refs--; l.refs == 0 {
		l.c.Close()
	}
}

// openSingle waits for the first datagram, connects the socket to its
// sender and hands the socket over as that peer's conn.
func (l *UDPListener) openSingle(ctx context.Context) (io.ReadWriteCloser, error) {
	l.mu.Lock()
	if l.handed {
		l.mu.Unlock()
		return nil, fmt.Errorf("%s: %w", l.desc, relay.ErrExhausted)
	}
	l.mu.Unlock()
	stop := context.AfterFunc(ctx, func() { l.c.SetReadDeadline(time.Unix(1, 0)) })
	bp := dgramBufs.Get().(*[]byte)
	n, from, err := l.c.ReadFromUDPAddrPort(*bp)
	stop()
	if err != nil {
		dgramBufs.Put(bp)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	if err := connectUDP(l.c, from); err != nil {
		dgramBufs.Put(bp)
		return nil, &net.OpError{Op: "connect", Net: "udp", Source: l.c.LocalAddr(), Addr: net.UDPAddrFromAddrPort(from), Err: err}
	}
	l.mu.Lock()
	l.handed = true
	l.mu.Unlock()
	peer := unmapped(from)
	return &udpPeerConn{c: l.c, peer: from, raddr: net.UDPAddrFromAddrPort(peer), first: bp, fn: n}, nil
}

func unmapped(a netip.AddrPort) netip.AddrPort {
	return netip.AddrPortFrom(a.Addr().Unmap(), a.Port())
}

// connectUDP connects c's socket to peer, which Go's UDPConn cannot do
// once the socket exists.
func connectUDP(c *net.UDPConn, peer netip.AddrPort) error {
	rc, err := c.SyscallConn()
	if err != nil {
		return err
	}
	sa := udpSockaddr(peer)
	var cerr error
	if err := rc.Control(func(fd uintptr) { cerr = connectFD(fd, sa) }); err != nil {
		return err
	}
	return cerr
}

// udpSockaddr is a as the socket calls take it. An address as a socket
// reported it has the socket's family: IPv4 for an IPv4 socket, IPv6
// (IPv4 mapped into it) for an IPv6 one.
func udpSockaddr(a netip.AddrPort) syscall.Sockaddr {
	if a.Addr().Is4() {
		return &syscall.SockaddrInet4{Port: int(a.Port()), Addr: a.Addr().As4()}
	}
	sa := &syscall.SockaddrInet6{Port: int(a.Port()), Addr: a.Addr().As16()}
	if z := a.Addr().Zone(); z != "" {
		if n, err := strconv.Atoi(z); err == nil {
			sa.ZoneId = uint32(n)
		} else if ifi, err := net.InterfaceByName(z); err == nil {
			sa.ZoneId = uint32(ifi.Index)
		}
	}
	return sa
}

// datagramReader reads a session listener's socket: read waits for what
// there is (one datagram or more) and says how many; datagram(i) is the
// i-th and its sender, valid until the next read.
type datagramReader interface {
	read() (int, error)
	datagram(i int) ([]byte, netip.AddrPort)
}

// oneReader is a datagramReader that reads one datagram at a time.
type oneReader struct {
	c    *net.UDPConn
	buf  []byte
	n    int
	from netip.AddrPort
}

func (r *oneReader) read() (int, error) {
	n, from, err := r.c.ReadFromUDPAddrPort(r.buf)
	if err != nil {
		return 0, err
	}
	r.n, r.from = n, from
	return 1, nil
}

func (r *oneReader) datagram(int) ([]byte, netip.AddrPort) { return r.buf[:r.n], r.from }

func itoa(n int) string { return strconv.Itoa(n) }

// udpPeerConn is the socket of a single-sender listener, connected to the
// first sender. Datagrams that other senders got in before the connect are
// dropped as they are read.
type udpPeerConn struct {
	c     *net.UDPConn
	peer  netip.AddrPort // as the socket reports it
	raddr *net.UDPAddr
	first *[]byte // the datagram that made the sender the peer, until read
	fn    int
}

func (c *udpPeerConn) MaxDatagram() int { return MaxDatagram }

func (c *udpPeerConn) Read(p []byte) (int, error) {
	if bp := c.first; bp != nil {
		c.first = nil
		n := copy(p, (*bp)[:c.fn])
		dgramBufs.Put(bp)
		return n, nil
	}
	for {
		n, from, err := c.c.ReadFromUDPAddrPort(p)
		if err != nil {
			return n, c.refused(err)
		}
		if from == c.peer {
			return n, nil
		}
	}
}

func (c *udpPeerConn) Write(p []byte) (int, error) {
	n, err := c.c.Write(p)
	return n, c.refused(err)
}

func (c *udpPeerConn) refused(err error) error {
	if !errors.Is(err, syscall.ECONNREFUSED) {
		return err
	}
	return &DialError{Host: c.raddr.IP.String(), Port: c.raddr.Port, Network: "udp", Attempts: []Attempt{{IP: c.raddr.IP, Err: err}}}
}

func (c *udpPeerConn) Close() error {
	if bp := c.first; bp != nil {
		c.first = nil
		dgramBufs.Put(bp)
	}
	return c.c.Close()
}

func (c *udpPeerConn) LocalAddr() net.Addr                { return c.c.LocalAddr() }
func (c *udpPeerConn) RemoteAddr() net.Addr               { return c.raddr }
func (c *udpPeerConn) SetDeadline(t time.Time) error      { return c.c.SetDeadline(t) }
func (c *udpPeerConn) SetReadDeadline(t time.Time) error  { return c.c.SetReadDeadline(t) }
func (c *udpPeerConn) SetWriteDeadline(t time.Time) error { return c.c.SetWriteDeadline(t) }

// read is the session listener's one reader: it takes the socket's
// datagrams in batches and queues each for its sender's session, making
// sessions for new senders. It returns when the socket is closed.
func (l *UDPListener) read() {
	defer close(l.done)
	br := newBatchReader(l.c, batchSize)
	for {
		n, err := br.read()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			if transientRead(err) {
				continue
			}
			l.mu.Lock()
			l.err = err
			l.mu.Unlock()
			return
		}
		// Each session is woken once per batch, with all of its datagrams
		// of the batch queued: its copy then moves them in one go.
		var touched [batchSize]*udpSession
		woken := touched[:0]
		for i := range n {
			b, from := br.datagram(i)
			if s := l.dispatch(b, from); s != nil && !slices.Contains(woken, s) {
				woken = append(woken, s)
			}
		}
		for _, s := range woken {
			s.wake()
		}
	}
}

// transientRead reports a failed read worth retrying: a refusal reported
// on the socket (some platforms do, for an earlier reply), or a
// shortage of memory.
func transientRead(err error) bool {
	for _, e := range []syscall.Errno{syscall.ECONNREFUSED, syscall.ECONNRESET, syscall.ENOBUFS, syscall.ENOMEM, syscall.EINTR} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// Reasons a new sender is dropped, one bit each in UDPListener.told.
const (
	dropBound uint8 = 1 << iota
	dropRefused
	dropBacklog
)

// dispatch queues one datagram for its sender's session, and returns the
// session to wake; nil when the datagram was dropped.
func (l *UDPListener) dispatch(b []byte, from netip.AddrPort) *udpSession {
	l.mu.Lock()
	s := l.sessions[from]
	var reason string
	if s == nil {
		s, reason = l.newSession(from)
	}
	l.mu.Unlock()
	if s != nil {
		s.push(b)
		return s
	}
	if reason != "" && l.OnDrop != nil {
		l.OnDrop(net.UDPAddrFromAddrPort(unmapped(from)), reason)
	}
	return nil
}

// maxTold bounds the senders whose drops are remembered.
const maxTold = 4096

// newSession makes a session for a new sender, or says why not (reason
// is empty when it was said before); l.mu is held.
func (l *UDPListener) newSession(from netip.AddrPort) (*udpSession, string) {
	if l.closed {
		return nil, ""
	}
	told := l.told[from]
	if told&dropRefused != 0 {
		// Refused once: not asked again while remembered.
		l.stats.Refused++
		return nil, ""
	}
	tell := func(bit uint8, reason string) (*udpSession, string) {
		if told&bit != 0 {
			return nil, ""
		}
		if len(l.told) >= maxTold {
			clear(l.told)
		}
		l.told[from] = told | bit
		return nil, reason
	}
	if l.MaxSessions > 0 && len(l.sessions) >= l.MaxSessions {
		l.stats.Bound++
		return tell(dropBound, fmt.Sprintf("%d sessions open, the most -m allows", l.MaxSessions))
	}
	raddr := net.UDPAddrFromAddrPort(unmapped(from))
	if l.Admit != nil {
		if err := l.Admit(raddr); err != nil {
			l.stats.Refused++
			return tell(dropRefused, err.Error())
		}
	}
	s := &udpSession{l: l, peer: from, raddr: raddr, ready: make(chan struct{}, 1), done: make(chan struct{})}
	select {
	case l.pending <- s:
	default:
		l.stats.Backlog++
		return tell(dropBacklog, fmt.Sprintf("%d new sessions already wait to be served", MaxPending))
	}
	l.sessions[from] = s
	l.refs++
	return s, ""
}

// remove forgets s, which has closed.
func (l *UDPListener) remove(s *udpSession) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.sessions[s.peer] == s {
		delete(l.sessions, s.peer)
	}
	l.release()
}

// udpSession is one sender's conn on a session listener's socket: Read
// returns its queued datagrams, Write sends one to it from the socket.
type udpSession struct {
	l     *UDPListener
	peer  netip.AddrPort // as the socket reports it
	raddr *net.UDPAddr

	mu      sync.Mutex
	q       ring
	closed  bool
	dropped int64
	ready   chan struct{} // a datagram was queued (capacity 1)
	done    chan struct{} // closed by Close
	once    sync.Once
}

// push queues a copy of b, or drops it if the queue is full; the caller
// wakes the reader.
func (s *udpSession) push(b []byte) {
	bp := getBuf(len(b))
	size := int64(cap(*bp))
	s.mu.Lock()
	if s.closed || s.q.n >= maxQueue || s.l.queued.Add(size) > maxQueued {
		if !s.closed {
			s.dropped++
		}
		if s.closed || s.q.n >= maxQueue {
			size = 0 // not counted in
		}
		s.mu.Unlock()
		s.l.queued.Add(-size)
		putBuf(bp)
		return
	}
	s.q.push(bp, copy(*bp, b))
	s.mu.Unlock()
}

// wake tells the session's reader that datagrams are queued.
func (s *udpSession) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// release gives back a buffer the queue held.
func (s *udpSession) release(bp *[]byte) {
	s.l.queued.Add(-int64(cap(*bp)))
	putBuf(bp)
}

// Read returns the next datagram from the sender, waiting for one.
func (s *udpSession) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if s.q.n > 0 {
			bp, n := s.q.pop()
			s.mu.Unlock()
			m := copy(p, (*bp)[:n])
			s.release(bp)
			return m, nil
		}
		if s.closed {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		s.mu.Unlock()
		select {
		case <-s.ready:
		case <-s.done:
		}
	}
}

// WaitRead waits until a Read would return at once (see relay.ReadWaiter).
func (s *udpSession) WaitRead() error {
	for {
		s.mu.Lock()
		n, closed := s.q.n, s.closed
		s.mu.Unlock()
		if n > 0 || closed {
			return nil
		}
		select {
		case <-s.ready:
		case <-s.done:
		}
	}
}

// Write sends p to the sender as one datagram.
func (s *udpSession) Write(p []byte) (int, error) {
	return s.l.c.WriteToUDPAddrPort(p, s.peer)
}

// ReadDatagrams returns the sender's queued datagrams, up to len(bufs),
// waiting for one with wait (see relay.DatagramReader).
func (s *udpSession) ReadDatagrams(bufs [][]byte, sizes []int, wait bool) (int, error) {
	for {
		s.mu.Lock()
		if s.q.n > 0 {
			n := 0
			for ; n < len(bufs) && s.q.n > 0; n++ {
				bp, k := s.q.pop()
				sizes[n] = copy(bufs[n], (*bp)[:k])
				s.release(bp)
			}
			s.mu.Unlock()
			return n, nil
		}
		if s.closed {
			s.mu.Unlock()
			return 0, net.ErrClosed
		}
		s.mu.Unlock()
		if !wait {
			return 0, nil
		}
		select {
		case <-s.ready:
		case <-s.done:
		}
	}
}

// WriteDatagrams sends each of ds to the sender, in one system call where
// the platform has sendmmsg (see relay.DatagramWriter).
func (s *udpSession) WriteDatagrams(ds [][]byte) (int, error) {
	if !batchIO || s.l.rc == nil {
		for i, d := range ds {
			if _, err := s.Write(d); err != nil {
				return i, err
			}
		}
		return len(ds), nil
	}
	n, err := sendDatagrams(s.l.rc, ds, s.peer)
	if err != nil {
		return n, &net.OpError{Op: "write", Net: "udp", Source: s.l.c.LocalAddr(), Addr: s.raddr, Err: err}
	}
	return n, nil
}

// Close ends the session: a Read in progress returns, what is queued is
// dropped, and the sender's next datagram makes a new session.
func (s *udpSession) Close() error {
	s.once.Do(func() {
		s.mu.Lock()
		s.closed = true
		for s.q.n > 0 {
			bp, _ := s.q.pop()
			s.release(bp)
		}
		s.q = ring{}
		s.mu.Unlock()
		close(s.done)
		s.l.remove(s)
	})
	return nil
}

// MaxDatagram is MaxDatagram: see relay.Datagram.
func (s *udpSession) MaxDatagram() int { return MaxDatagram }

// Dropped is the number of the sender's datagrams dropped because its
// queue was full (the other side did not take them fast enough).
func (s *udpSession) Dropped() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.dropped
}

// LocalAddr is the listener's address.
func (s *udpSession) LocalAddr() net.Addr { return s.l.c.LocalAddr() }

// RemoteAddr is the sender's address.
func (s *udpSession) RemoteAddr() net.Addr { return s.raddr }

// ring is a session's queue of datagrams: a ring of buffers that grows
// (up to maxQueue) only while datagrams wait.
type ring struct {
	bufs []*[]byte
	lens []int
	head int
	n    int
}

func (r *ring) push(bp *[]byte, n int) {
	if r.n == len(r.bufs) {
		size := max(4, 2*len(r.bufs))
		bufs, lens := make([]*[]byte, size), make([]int, size)
		for i := range r.n {
			j := (r.head + i) % len(r.bufs)
			bufs[i], lens[i] = r.bufs[j], r.lens[j]
		}
		r.bufs, r.lens, r.head = bufs, lens, 0
	}
	i := (r.head + r.n) % len(r.bufs)
	r.bufs[i], r.lens[i] = bp, n
	r.n++
}

func (r *ring) pop() (*[]byte, int) {
	bp, n := r.bufs[r.head], r.lens[r.head]
	r.bufs[r.head] = nil
	r.head = (r.head + 1) % len(r.bufs)
	r.n--
	return bp, n
}

// ParseUDPTarget reads -u connect mode's positional arguments as
// ParseTarget does, with the port a number or a UDP service name.
func ParseUDPTarget(args []string) (host, port string, err error) {
	if len(args) == 1 || len(args) == 2 {
		h, p, err := SplitHostPort(args[0])
		if err == nil && h != "" && (len(args) == 1) == (p != "") {
			if len(args) == 2 {
				p = args[1]
			}
			if _, err := ParsePort(p, "udp", false); err != nil {
				return "", "", err
			}
			return h, p, nil
		}
	}
	return ParseTarget(args) // its errors for every other shape
}

var udpServices struct {
	once   sync.Once
	byPort map[int]string
}

// UDPServiceName names a UDP port after /etc/services ("domain" for 53,
// "syslog" for 514), or returns "*" when it has no name there.
func UDPServiceName(port int) string {
	udpServices.once.Do(func() { udpServices.byPort = loadServiceNames("udp") })
	if name, ok := udpServices.byPort[port]; ok {
		return name
	}
	return "*"
}

// UDPScanState is what probing a UDP port found.
type UDPScanState int

const (
	// UDPClosed: the host answered with an ICMP port unreachable (or the
	// probe could not be sent at all: Err says why).
	UDPClosed UDPScanState = iota
	// UDPOpenFiltered: nothing came back. The port may be open to a
	// program that ignores the probe, or a firewall may drop the probes
	// or the host's refusals (the kernel also limits how many refusals it
	// sends a second): UDP cannot tell.
	UDPOpenFiltered
	// UDPOpen: a datagram came back.
	UDPOpen
)

// UDPScanResult is one port of a UDP scan.
type UDPScanResult struct {
	Port  int
	State UDPScanState
	// Err is the refusal of a closed port, or why the probe failed.
	Err error
	// IP is the address probed.
	IP net.IP
	// Dialer is the dialer used for this port, for messages.
	Dialer *UDPDialer
}

// udpProbes is how many probes a UDP scan sends each port, spread over
// its wait, so that one lost datagram or one refusal the kernel did not
// send for its rate limit does not decide.
const udpProbes = 3

// ScanUDP probes each port of d.Host, at most parallel at a time, as
// nc.openbsd -z -u does: it sends a datagram holding "X" on a connected
// socket and waits up to wait (spread over udpProbes probes) for a reply
// or a refusal. Every result is reported in port order. It returns how
// many ports were not closed.
func ScanUDP(ctx context.Context, d *UDPDialer, ports []int, parallel int, wait time.Duration, report func(UDPScanResult)) (int, error) {
	ips, err := d.resolve(ctx, d.Host)
	if err != nil {
		return 0, err
	}
	if wait <= 0 {
		wait = time.Second
	}
	port := func(i int) *UDPDialer {
		pd := *d
		pd.Port, pd.pinned = ports[i], ips[:1]
		return &pd
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results, done := probePorts(ctx, len(ports), parallel,
		func(i int) UDPScanResult { return probeUDP(ctx, port(i), wait) },
		func(i int, err error) UDPScanResult { return UDPScanResult{Port: ports[i], Err: err, Dialer: port(i)} })
	defer done()
	notClosed := 0
	for _, ch := range results {
		r := <-ch
		if r.State != UDPClosed {
			notClosed++
		}
		report(r)
	}
	return notClosed, nil
}

func probeUDP(ctx context.Context, d *UDPDialer, wait time.Duration) UDPScanResult {
	r := UDPScanResult{Port: d.Port, Dialer: d, IP: d.pinned[0]}
	c, err := d.Dial(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	defer c.Close()
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Unix(1, 0)) })
	defer stop()
	var buf [512]byte
	for range udpProbes {
		if _, err := c.Write([]byte("X")); err != nil {
			r.Err = err
			return r
		}
		c.SetReadDeadline(time.Now().Add(wait / udpProbes))
		_, err := c.Read(buf[:])
		switch {
		case err == nil:
			r.State = UDPOpen
			return r
		case errors.Is(err, os.ErrDeadlineExceeded) && ctx.Err() == nil:
			continue
		}
		r.Err = err
		return r
	}
	r.State = UDPOpenFiltered
	return r
}
