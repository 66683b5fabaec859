package conn

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"time"

	"gnc/proxy"
)

// TCPOptions are the settings shared by TCP dialers and listeners.
type TCPOptions struct {
	// Network is "tcp" (either family), "tcp4" or "tcp6"; empty means "tcp".
	Network string
	// NoDNS refuses host names: only numeric addresses are accepted (-n).
	NoDNS bool
	// KeepAlive is the TCP keep-alive period. Zero or negative: keep-alives
	// off, as in nc, which also saves system calls on every connection.
	KeepAlive time.Duration
}

func (o TCPOptions) network() string {
	if o.Network == "" {
		return "tcp"
	}
	return o.Network
}

func (o TCPOptions) keepAlive() time.Duration {
	if o.KeepAlive <= 0 {
		return -1
	}
	return o.KeepAlive
}

// resolve turns host into the addresses to try, in the resolver's order,
// keeping only the family the network allows.
func (o TCPOptions) resolve(ctx context.Context, host string) ([]net.IP, error) {
	if host == "" {
		return nil, nil
	}
	if ip := net.ParseIP(host); ip != nil {
		if !familyOK(o.network(), ip) {
			// What was typed contradicts itself: a usage error, not a
			// failed lookup.
			return nil, &ParseError{What: "address", Value: host, Reason: fmt.Sprintf("not an %s address, and %s allows only %s", familyName(o.network()), familyFlag(o.network()), familyName(o.network())), Hint: "give an address of that family, or leave out " + familyFlag(o.network())}
		}
		return []net.IP{ip}, nil
	}
	if o.NoDNS {
		return nil, &ResolveError{Host: host, Err: errors.New("not a numeric address, and -n forbids name lookups")}
	}
	addrs, err := net.DefaultResolver.LookupIPAddr(ctx, host)
	if err != nil {
		var dnsErr *net.DNSError
		if errors.As(err, &dnsErr) && dnsErr.IsNotFound {
			err = errors.New("no such host")
		}
		return nil, &ResolveError{Host: host, Err: err}
	}
	var ips []net.IP
	for _, a := range addrs {
		if familyOK(o.network(), a.IP) {
			ips = append(ips, a.IP)
		}
	}
	if len(ips) == 0 {
		return nil, &ResolveError{Host: host, Err: fmt.Errorf("no %s address", familyName(o.network()))}
	}
	return ips, nil
}

func familyOK(network string, ip net.IP) bool {
	switch network {
	case "tcp4":
		return ip.To4() != nil
	case "tcp6":
		return ip.To4() == nil
	}
	return true
}

// familyFlag is the flag (or endpoint option) that asks for network.
func familyFlag(network string) string {
	if network == "tcp6" {
		return "-6"
	}
	return "-4"
}

func familyName(network string) string {
	if network == "tcp6" {
		return "IPv6"
	}
	return "IPv4"
}

// ResolveError is a host name that could not be turned into an address.
type ResolveError struct {
	Host string
	Err  error
}

// Error reads "lookup HOST: REASON".
func (e *ResolveError) Error() string { return fmt.Sprintf("lookup %s: %v", e.Host, e.Err) }

// Unwrap gives the resolver's own error.
func (e *ResolveError) Unwrap() error { return e.Err }

// TCPDialer is an endpoint that connects to Host and Port over TCP, trying
// each of Host's addresses in turn, directly or through a chain of
// proxies.
type TCPDialer struct {
	TCPOptions
	// Host is a name or numeric address, as the user wrote it.
	Host string
	// Port is the destination port.
	Port int
	// Source is the local address to connect from; empty lets the kernel
	// choose.
	Source string
	// SourcePort is the local port to connect from; zero lets the kernel
	// choose.
	SourcePort int
	// Timeout bounds each connection attempt, and each proxy's handshake;
	// zero or negative: the kernel's own limit for a connection, and
	// DefaultProxyTimeout for a handshake.
	Timeout time.Duration
	// Proxies is the chain to connect through, in order: the first proxy
	// is dialed as Host would be (from Source, in the family of Network,
	// within Timeout), each is asked for the next and the last for Host
	// and Port. Empty: connect directly. Set it with SetProxies, which
	// checks it against the options.
	Proxies []proxy.Hop
	// OnHop, if not nil, is called as each proxy of Proxies opens its
	// tunnel, with what it was asked for and how long its handshake took;
	// nil: nothing is told.
	OnHop func(hop proxy.Hop, next string, elapsed time.Duration)

	pinned []net.IP // addresses already resolved, used instead of Host
}

// NewTCPDialer makes a dialer for host and port (a number or a service
// name).
func NewTCPDialer(host, port string, o TCPOptions) (*TCPDialer, error) {
	p, err := ParsePort(port, "tcp", false)
	if err != nil {
		return nil, err
	}
	return &TCPDialer{TCPOptions: o, Host: host, Port: p}, nil
}

// Target is the host as typed, the port and the protocol, for messages
// such as nc's "Connection to HOST PORT port [tcp/http] succeeded!".
func (d *TCPDialer) Target() (host string, port int, proto string) {
	return d.Host, d.Port, "tcp"
}

// String is "host:port", as written in a relay endpoint.
func (d *TCPDialer) String() string {
	return net.JoinHostPort(d.Host, strconv.Itoa(d.Port))
}

// Close does nothing: a dialer holds nothing between connections.
func (d *TCPDialer) Close() error { return nil }

// TCPConn is a TCP connection gnc dialed or accepted and alone holds, as
// the endpoints' Open returns it. It embeds the *net.TCPConn, so every
// method (SyscallConn, CloseWrite, SetLinger, the addresses, deadlines)
// is the socket's own and the copy engine still splices it; and it says
// what it is with relay.OwnSocket, so the engine may shut it down, send
// its last bytes with the FIN and raise its socket options.
type TCPConn struct{ *net.TCPConn }

// OwnSocket is always true: see relay.OwnSocket.
func (TCPConn) OwnSocket() bool { return true }

// Open connects, trying each resolved address in turn, and returns a
// TCPConn; through proxies, a *TunnelConn.
func (d *TCPDialer) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	c, prefix, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	if len(d.Proxies) == 0 {
		return TCPConn{c}, nil
	}
	return &TunnelConn{TCPConn: TCPConn{c}, dest: d.targetAddr(), via: true, prefix: prefix}, nil
}

// Dial is Open with the plain *net.TCPConn as its result. Through
// proxies, a last proxy that sent bytes with its reply (an HTTP proxy
// may) makes it fail, as they would be lost: use Open then.
func (d *TCPDialer) Dial(ctx context.Context) (*net.TCPConn, error) {
	c, prefix, err := d.dial(ctx)
	if err == nil && len(prefix) > 0 {
		c.Close()
		return nil, &proxy.Error{Proxy: d.Proxies[len(d.Proxies)-1].String(), Target: d.targetAddr(), Op: "connect", Reason: "the proxy sent data with its reply, which Dial cannot hand over", Err: proxy.ErrProtocol}
	}
	return c, err
}

// dial connects directly or through d.Proxies, and returns the socket
// with the bytes the last proxy sent past its reply.
func (d *TCPDialer) dial(ctx context.Context) (*net.TCPConn, []byte, error) {
	if len(d.Proxies) > 0 {
		return d.dialProxies(ctx)
	}
	c, err := d.connect(ctx, d.Host, d.Port, d.pinned)
	return c, nil, err
}

// connect dials host and port (or the addresses in pinned, if any) from
// d's source, trying each address in turn.
func (d *TCPDialer) connect(ctx context.Context, host string, port int, pinned []net.IP) (*net.TCPConn, error) {
	ips := pinned
	if ips == nil {
		var err error
		if ips, err = d.resolve(ctx, host); err != nil {
			return nil, err
		}
	}
	var local *net.TCPAddr
	if d.Source != "" || d.SourcePort != 0 {
		local = &net.TCPAddr{Port: d.SourcePort}
		if d.Source != "" {
			sips, err := d.resolve(ctx, d.Source)
			if err != nil {
				return nil, err
			}
			local.IP = sips[0]
		}
	}
	dialer := net.Dialer{Timeout: d.Timeout, LocalAddr: local, KeepAlive: d.keepAlive()}
	derr := &DialError{Host: host, Port: port, Network: d.network()}
	for _, ip := range ips {
		c, err := dialer.DialContext(ctx, d.network(), net.JoinHostPort(ip.String(), strconv.Itoa(port)))
		if err == nil {
			return c.(*net.TCPConn), nil
		}
		derr.Attempts = append(derr.Attempts, Attempt{IP: ip, Err: err})
		if ctx.Err() != nil {
			break
		}
	}
	return nil, derr
}

// Attempt is one address tried by a dialer, and why it failed.
type Attempt struct {
	IP  net.IP
	Err error // a *net.OpError naming both endpoints
}

// DialError is a connection that could not be made to any of a host's
// addresses.
type DialError struct {
	Host     string
	Port     int
	Network  string
	Attempts []Attempt
}

// Error reads as nc's message does, naming the address when the host had
// several.
func (e *DialError) Error() string {
	if len(e.Attempts) == 0 {
		return fmt.Sprintf("connect to %s port %d (%s) failed", e.Host, e.Port, e.proto())
	}
	return e.AttemptError(len(e.Attempts) - 1)
}

// AttemptError describes attempt i alone.
func (e *DialError) AttemptError(i int) string {
	a := e.Attempts[i]
	host := e.Host
	if len(e.Attempts) > 1 || (net.ParseIP(e.Host) == nil && a.IP != nil) {
		host = fmt.Sprintf("%s (%s)", e.Host, a.IP)
	}
	return fmt.Sprintf("connect to %s port %d (%s) failed: %s", host, e.Port, e.proto(), Reason(a.Err))
}

// Unwrap gives the last attempt's error, so errors.Is sees through to
// the system call's errno.
func (e *DialError) Unwrap() error {
	if len(e.Attempts) == 0 {
		return nil
	}
	return e.Attempts[len(e.Attempts)-1].Err
}

// Reason reduces a network error to the few words at its core ("connection
// refused", "timed out"), without the addresses that the surrounding
// message already names.
func Reason(err error) string {
	var se *os.SyscallError
	if errors.As(err, &se) {
		return se.Err.Error()
	}
	var pe *os.PathError
	if errors.As(err, &pe) {
		return pe.Err.Error()
	}
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return "timed out"
	}
	if errors.Is(err, context.Canceled) {
		return "cancelled"
	}
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Err.Error()
	}
	return err.Error()
}

// TCPListener is an endpoint that accepts TCP connections. It binds when
// made, so that a busy port is reported before anything else happens.
type TCPListener struct {
	ln   *net.TCPListener
	desc string
}

// BindError is an address that could not be listened on.
type BindError struct {
	Addr string
	Port int
	Err  error
}

// Error reads as nc's message: "bind to ADDR port PORT failed: REASON".
func (e *BindError) Error() string {
	return fmt.Sprintf("bind to %s port %d failed: %s", e.Addr, e.Port, Reason(e.Err))
}

// Unwrap gives the listen call's *net.OpError.
func (e *BindError) Unwrap() error { return e.Err }

// ListenTCP binds host and port. An empty host listens on every address
// of the network's families; port "0" lets the kernel choose (see Addr).
func ListenTCP(ctx context.Context, host, port string, o TCPOptions) (*TCPListener, error) {
	p, err := ParsePort(port, "tcp", true)
	if err != nil {
		return nil, err
	}
	ip, network := "", o.network()
	if host != "" {
		ips, err := o.resolve(ctx, host)
		if err != nil {
			return nil, err
		}
		ip = ips[0].String()
		if ips[0].To4() != nil {
			// Go listens on both families for "tcp" with 0.0.0.0; an
			// IPv4 address means IPv4, as for nc and socat. Only no
			// address, or "::", means both.
			network = "tcp4"
		}
	}
	lc := net.ListenConfig{KeepAlive: o.keepAlive()}
	l, err := lc.Listen(ctx, network, net.JoinHostPort(ip, strconv.Itoa(p)))
	if err != nil {
		shown := ip
		if shown == "" {
			shown = anyAddr(network)
		}
		return nil, &BindError{Addr: shown, Port: p, Err: err}
	}
	desc := "listen:" + net.JoinHostPort(host, port)
	if host == "" {
		desc = "listen:" + port
	}
	return &TCPListener{ln: l.(*net.TCPListener), desc: desc}, nil
}

func anyAddr(network string) string {
	if network == "tcp4" {
		return "0.0.0.0"
	}
	return "::"
}

// Addr is the bound address, with the port the kernel chose.
func (l *TCPListener) Addr() net.Addr { return l.ln.Addr() }

// String is the endpoint as the user wrote it, such as "listen:8080".
func (l *TCPListener) String() string { return l.desc }

// Close stops accepting; connections already accepted stay open.
func (l *TCPListener) Close() error { return l.ln.Close() }

// Open accepts the next client, as a TCPConn. Cancelling ctx makes a
// pending accept return at once (through the listener's deadline, so no
// goroutine is left blocked behind).
func (l *TCPListener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	stop := context.AfterFunc(ctx, func() { l.ln.SetDeadline(time.Unix(1, 0)) })
	c, err := l.ln.AcceptTCP()
	stop()
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}
	return TCPConn{c}, nil
}
