package proxy

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// The credentials every test uses, so that every error can be checked
// for them.
const (
	testUser = "alice-Us3r"
	testPass = "s3cr3t-Pa55"
)

// secrets are the forms the credentials could leak in.
var secrets = []string{
	testUser, testPass,
	base64.StdEncoding.EncodeToString([]byte(testUser + ":" + testPass)),
	url.UserPassword(testUser, testPass).String(),
	"s3cr3t", "Us3r",
}

// clean fails the test if err's text (or its hint) holds a credential,
// and returns the text.
func clean(t testing.TB, err error) string {
	t.Helper()
	if err == nil {
		return ""
	}
	texts := []string{err.Error()}
	var e *Error
	if errors.As(err, &e) {
		texts = append(texts, e.Hint, e.Proxy, e.Target)
	}
	var pe *ParseError
	if errors.As(err, &pe) {
		texts = append(texts, pe.Hint, pe.Value)
	}
	for _, s := range texts {
		for _, secret := range secrets {
			if strings.Contains(s, secret) {
				t.Fatalf("error text %q contains a credential (%q)", s, secret)
			}
		}
	}
	return err.Error()
}

// loopback listens on 127.0.0.1 port 0 and closes the listener at the
// end of the test.
func loopback(t testing.TB) *net.TCPListener {
	t.Helper()
	ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// tcpPair returns the two ends of a loopback TCP connection.
func tcpPair(t testing.TB) (client, server *net.TCPConn) {
	t.Helper()
	ln := loopback(t)
	type res struct {
		c   *net.TCPConn
		err error
	}
	ch := make(chan res, 1)
	go func() {
		c, err := ln.AcceptTCP()
		ch <- res{c, err}
	}()
	client, err := net.DialTCP("tcp", nil, ln.Addr().(*net.TCPAddr))
	if err != nil {
		t.Fatal(err)
	}
	r := <-ch
	if r.err != nil {
		t.Fatal(r.err)
	}
	t.Cleanup(func() { client.Close(); r.c.Close() })
	return client, r.c
}

// script plays a proxy's side of a client handshake: it reads exactly
// what the client must send and answers with canned bytes.
type step struct {
	expect []byte // bytes the client must send next
	reply  []byte // then sent back
}

// fakeProxy runs steps on the server end of a pair, reporting the first
// mismatch on the returned channel (nil when all steps ran).
func fakeProxy(t testing.TB, server net.Conn, steps ...step) <-chan error {
	t.Helper()
	done := make(chan error, 1)
	go func() {
		for i, s := range steps {
			if len(s.expect) > 0 {
				got := make([]byte, len(s.expect))
				if _, err := io.ReadFull(server, got); err != nil {
					done <- errors.New("step " + string(rune('0'+i)) + ": " + err.Error())
					return
				}
				if !bytes.Equal(got, s.expect) {
					done <- errors.New("step " + string(rune('0'+i)) + ": got " + quoteBytes(got) + ", want " + quoteBytes(s.expect))
					return
				}
			}
			if len(s.reply) > 0 {
				if _, err := server.Write(s.reply); err != nil {
					done <- err
					return
				}
			}
		}
		done <- nil
	}()
	return done
}

func quoteBytes(b []byte) string {
	var sb strings.Builder
	for _, c := range b {
		if c >= 0x20 && c < 0x7f {
			sb.WriteByte(c)
		} else {
			sb.WriteString("\\x")
			sb.WriteByte("0123456789abcdef"[c>>4])
			sb.WriteByte("0123456789abcdef"[c&15])
		}
	}
	return sb.String()
}

// ctx5 is a context bounded so that a broken test fails instead of
// hanging.
func ctx5(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// fakeResolver resolves the names in m and nothing else.
func fakeResolver(m map[string][]string) Resolver {
	return func(ctx context.Context, host string) ([]net.IP, error) {
		addrs, ok := m[host]
		if !ok {
			return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
		}
		var ips []net.IP
		for _, a := range addrs {
			ips = append(ips, net.ParseIP(a))
		}
		return ips, nil
	}
}

// memConn is an in-memory conn for fuzzing: reads come from in (then
// EOF), writes are kept, deadlines do nothing.
type memConn struct {
	in  *bytes.Reader
	out bytes.Buffer
}

func newMemConn(b []byte) *memConn { return &memConn{in: bytes.NewReader(b)} }

func (m *memConn) Read(p []byte) (int, error)         { return m.in.Read(p) }
func (m *memConn) Write(p []byte) (int, error)        { return m.out.Write(p) }
func (m *memConn) Close() error                       { return nil }
func (m *memConn) LocalAddr() net.Addr                { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1080} }
func (m *memConn) RemoteAddr() net.Addr               { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000} }
func (m *memConn) SetDeadline(t time.Time) error      { return nil }
func (m *memConn) SetReadDeadline(t time.Time) error  { return nil }
func (m *memConn) SetWriteDeadline(t time.Time) error { return nil }

// deadlineConn records the deadlines set on a conn.
type deadlineConn struct {
	net.Conn
	mu   sync.Mutex
	last []time.Time
}

func (d *deadlineConn) SetDeadline(t time.Time) error {
	d.mu.Lock()
	d.last = append(d.last, t)
	d.mu.Unlock()
	return d.Conn.SetDeadline(t)
}

// testProxy is a tiny proxy server of the package's own: accept, Accept,
// dial the first admitted address, Reply, then copy both ways with
// half-close. It returns its address; errors of Accept are sent on errs
// (buffered, dropped when full).
type testProxy struct {
	addr string
	errs chan error
	wg   sync.WaitGroup
}

func startProxy(t testing.TB, cfg *ServerConfig) *testProxy {
	t.Helper()
	ln := loopback(t)
	p := &testProxy{addr: ln.Addr().String(), errs: make(chan error, 64)}
	ctx, cancel := context.WithCancel(context.Background())
	var mu sync.Mutex
	conns := map[net.Conn]bool{}
	track := func(c net.Conn, add bool) {
		mu.Lock()
		defer mu.Unlock()
		if add {
			conns[c] = true
		} else {
			delete(conns, c)
		}
	}
	t.Cleanup(func() {
		cancel()
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		p.wg.Wait()
	})
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			track(c, true)
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				defer func() { track(c, false); c.Close() }()
				p.serve(ctx, c, cfg, track)
			}()
		}
	}()
	return p
}

func (p *testProxy) serve(ctx context.Context, c *net.TCPConn, cfg *ServerConfig, track func(net.Conn, bool)) {
	hctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	req, err := Accept(hctx, c, cfg)
	cancel()
	if err != nil {
		select {
		case p.errs <- err:
		default:
		}
		return
	}
	var d net.Dialer
	up, err := d.DialContext(ctx, "tcp", net.JoinHostPort(req.Addrs[0].String(), itoa(req.Port)))
	if err != nil {
		req.Reply(c, err, nil)
		return
	}
	track(up, true)
	defer func() { track(up, false); up.Close() }()
	if err := req.Reply(c, nil, up.LocalAddr()); err != nil {
		return
	}
	if len(req.Prefix) > 0 {
		if _, err := up.Write(req.Prefix); err != nil {
			return
		}
	}
	pipe(c, up.(*net.TCPConn))
}

// pipe copies both ways until both directions end, passing half-close
// on.
func pipe(a, b *net.TCPConn) {
	var wg sync.WaitGroup
	wg.Add(2)
	cp := func(dst, src *net.TCPConn) {
		defer wg.Done()
		io.Copy(dst, src)
		dst.CloseWrite()
	}
	go cp(a, b)
	go cp(b, a)
	wg.Wait()
}

func itoa(n int) string { return strconv.Itoa(n) }

// echoServer echoes every connection until EOF, then half-closes.
func echoServer(t testing.TB) string {
	t.Helper()
	return serveTCP(t, func(c *net.TCPConn) {
		io.Copy(c, c)
		c.CloseWrite()
	})
}

// serveTCP runs handle for every connection to a loopback listener; the
// test's end closes the listener and every open connection and waits
// for the handlers.
func serveTCP(t testing.TB, handle func(c *net.TCPConn)) string {
	t.Helper()
	ln := loopback(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	conns := map[*net.TCPConn]bool{}
	t.Cleanup(func() {
		ln.Close()
		mu.Lock()
		for c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.AcceptTCP()
			if err != nil {
				return
			}
			mu.Lock()
			conns[c] = true
			mu.Unlock()
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() {
					mu.Lock()
					delete(conns, c)
					mu.Unlock()
					c.Close()
				}()
				handle(c)
			}()
		}
	}()
	return ln.Addr().String()
}
