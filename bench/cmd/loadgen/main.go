// Command loadgen is a bounded TCP connection-rate load generator for
// bench/relay.sh.
//
// Rate mode (default):
//
//	loadgen -addr 127.0.0.1:PORT -c 50 -d 10s [-n N] [-req 64] [-resp 64]
//
// Each of -c workers loops: dial, write -req bytes, half-close (CloseWrite),
// read until EOF expecting exactly -resp bytes, close. (-halfclose=false skips
// the half-close, for relays that drop the reply after a client's FIN; the
// server must then reply without waiting for EOF. -eof=false stops reading
// once -resp bytes have arrived, for relays that never pass the server's FIN
// on.) The latency of each
// whole connection is recorded. It stops after -d or after -n connections
// (whichever comes first) and prints one JSON line:
//
//	{"conns":N,"errors":E,"rate":CONNS_PER_SEC,"p50_ms":..,"p99_ms":..,"c":C,...}
//
// Idle mode:
//
//	loadgen -addr 127.0.0.1:PORT -idle 8000 -hold 10s [-ramp 500]
//
// Opens -idle connections, -ramp at a time; on each writes one byte and reads
// the echo to prove the path works. It stops ramping after a batch in which
// any connection failed. Then it prints {"open":N,...} and a line READY, and
// keeps them all open and idle until -hold has passed or stdin has a line or
// reaches EOF. Then it closes them all and prints a final JSON line.
//
// -tls speaks TLS on every connection (verification off, no session
// resumption, so each connection costs a full handshake); the half-close
// is then a close_notify followed by the TCP FIN.
//
// -socks5 PROXY:PORT reaches -addr through a SOCKS5 proxy: each connection
// dials the proxy, offers no authentication, waits for the method choice,
// asks for -addr (CONNECT, an address or a name) and reads the reply,
// step by step as clients do, before the usual request and reply.
package main

import (
	"bufio"
	"crypto/tls"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

type config struct {
	addr      string
	c         int
	d         time.Duration
	n         int64
	req, resp int
	timeout   time.Duration
	halfClose bool
	eof       bool
	tls       *tls.Config
	socks5    string // proxy to reach addr through; empty: direct
	connect   []byte // the SOCKS5 CONNECT request for addr
}

// dial connects, with TLS when asked, within deadline.
func (cfg *config) dial(deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
	if cfg.socks5 != "" {
		c, err := d.Dial("tcp", cfg.socks5)
		if err != nil {
			return nil, err
		}
		if err := cfg.socksConnect(c, deadline); err != nil {
			c.Close()
			return nil, err
		}
		return c, nil
	}
	c, err := d.Dial("tcp", cfg.addr)
	if err != nil || cfg.tls == nil {
		return c, err
	}
	tc := tls.Client(c, cfg.tls)
	tc.SetDeadline(deadline)
	if err := tc.Handshake(); err != nil {
		c.Close()
		return nil, fmt.Errorf("tls handshake: %w", err)
	}
	return tc, nil
}

// socksRequest builds the SOCKS5 CONNECT request for addr.
func socksRequest(addr string) ([]byte, error) {
	host, p, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	port, err := strconv.Atoi(p)
	if err != nil || port < 1 || port > 65535 {
		return nil, fmt.Errorf("bad port in %q", addr)
	}
	req := []byte{5, 1, 0}
	if ip := net.ParseIP(host); ip != nil {
		if ip4 := ip.To4(); ip4 != nil {
			req = append(append(req, 1), ip4...)
		} else {
			req = append(append(req, 4), ip.To16()...)
		}
	} else {
		if len(host) > 255 {
			return nil, fmt.Errorf("host name too long")
		}
		req = append(append(req, 3, byte(len(host))), host...)
	}
	return append(req, byte(port>>8), byte(port)), nil
}

// socksConnect runs the SOCKS5 handshake on c for cfg.addr.
func (cfg *config) socksConnect(c net.Conn, deadline time.Time) error {
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte{5, 1, 0}); err != nil {
		return err
	}
	var m [2]byte
	if _, err := io.ReadFull(c, m[:]); err != nil {
		return fmt.Errorf("socks5 method: %w", err)
	}
	if m[0] != 5 || m[1] != 0 {
		return fmt.Errorf("socks5: method %d refused", m[1])
	}
	if _, err := c.Write(cfg.connect); err != nil {
		return err
	}
	var rep [4]byte
	if _, err := io.ReadFull(c, rep[:]); err != nil {
		return fmt.Errorf("socks5 reply: %w", err)
	}
	if rep[1] != 0 {
		return fmt.Errorf("socks5: reply code %d", rep[1])
	}
	n := 0
	switch rep[3] {
	case 1:
		n = 4
	case 4:
		n = 16
	case 3:
		var l [1]byte
		if _, err := io.ReadFull(c, l[:]); err != nil {
			return err
		}
		n = int(l[0])
	default:
		return fmt.Errorf("socks5: address type %d", rep[3])
	}
	if _, err := io.ReadFull(c, make([]byte, n+2)); err != nil {
		return fmt.Errorf("socks5 reply: %w", err)
	}
	return nil
}

// closeWrite ends the sending direction: close_notify and FIN with TLS.
func closeWrite(c net.Conn) error {
	if tc, ok := c.(*tls.Conn); ok {
		if err := tc.CloseWrite(); err != nil {
			return err
		}
		return tc.NetConn().(*net.TCPConn).CloseWrite()
	}
	return c.(*net.TCPConn).CloseWrite()
}

func main() {
	var cfg config
	flag.StringVar(&cfg.addr, "addr", "", "target HOST:PORT (required)")
	flag.IntVar(&cfg.c, "c", 50, "concurrent workers")
	flag.DurationVar(&cfg.d, "d", 10*time.Second, "duration")
	flag.Int64Var(&cfg.n, "n", 0, "stop after this many connections (0: no limit)")
	flag.IntVar(&cfg.req, "req", 64, "request bytes")
	flag.IntVar(&cfg.resp, "resp", 64, "expected response bytes")
	flag.DurationVar(&cfg.timeout, "timeout", 5*time.Second, "per-connection timeout")
	flag.BoolVar(&cfg.halfClose, "halfclose", true, "half-close (CloseWrite) after the request")
	flag.BoolVar(&cfg.eof, "eof", true, "read the response until EOF (false: until -resp bytes)")
	useTLS := flag.Bool("tls", false, "speak TLS (no verification, a full handshake per connection)")
	flag.StringVar(&cfg.socks5, "socks5", "", "reach -addr through this SOCKS5 proxy HOST:PORT (no authentication)")
	idle := flag.Int("idle", 0, "idle mode: open this many connections and hold them")
	hold := flag.Duration("hold", 10*time.Second, "idle mode: how long to hold")
	ramp := flag.Int("ramp", 500, "idle mode: connections opened concurrently per batch")
	flag.Parse()
	if cfg.addr == "" || cfg.c < 1 || cfg.d <= 0 || *ramp < 1 {
		flag.Usage()
		os.Exit(2)
	}
	if *useTLS {
		cfg.tls = &tls.Config{InsecureSkipVerify: true, ClientSessionCache: nil, SessionTicketsDisabled: true}
	}
	if cfg.socks5 != "" {
		if cfg.tls != nil {
			fmt.Fprintln(os.Stderr, "loadgen: -socks5 and -tls do not go together")
			os.Exit(2)
		}
		var err error
		if cfg.connect, err = socksRequest(cfg.addr); err != nil {
			fmt.Fprintln(os.Stderr, "loadgen: -addr:", err)
			os.Exit(2)
		}
	}
	if *idle > 0 {
		idleMode(cfg, *idle, *hold, *ramp)
		return
	}
	rateMode(cfg)
}

func emit(v any) {
	b, _ := json.Marshal(v)
	fmt.Printf("%s\n", b)
}

// ---- rate mode ------------------------------------------------------------

type errStats struct {
	mu     sync.Mutex
	count  int64
	sample map[string]int64
}

func (e *errStats) add(err error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.count++
	if e.sample == nil {
		e.sample = map[string]int64{}
	}
	k := errKind(err)
	if len(e.sample) < 8 || e.sample[k] > 0 {
		e.sample[k]++
	}
}

func errKind(err error) string {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Err != nil {
		return oe.Op + ": " + oe.Err.Error()
	}
	return err.Error()
}

func oneConn(cfg *config, req, buf []byte) error {
	deadline := time.Now().Add(cfg.timeout)
	c, err := cfg.dial(deadline)
	if err != nil {
		return err
	}
	defer c.Close()
	c.SetDeadline(deadline)
	if len(req) > 0 {
		if _, err := c.Write(req); err != nil {
			return err
		}
	}
	if cfg.halfClose {
		if err := closeWrite(c); err != nil {
			return err
		}
	}
	got := 0
	for cfg.eof || got < cfg.resp {
		n, err := c.Read(buf)
		got += n
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
	}
	if got != cfg.resp {
		return fmt.Errorf("short response: got %d bytes, want %d", got, cfg.resp)
	}
	return nil
}

func rateMode(cfg config) {
	req := make([]byte, cfg.req)
	for i := range req {
		req[i] = 'q'
	}
	var (
		issued atomic.Int64
		errs   errStats
		wg     sync.WaitGroup
		lats   = make([][]time.Duration, cfg.c)
	)
	start := time.Now()
	stop := start.Add(cfg.d)
	for w := 0; w < cfg.c; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			buf := make([]byte, 64<<10)
			mine := make([]time.Duration, 0, 1024)
			for {
				t0 := time.Now()
				if t0.After(stop) {
					break
				}
				if cfg.n > 0 && issued.Add(1) > cfg.n {
					break
				}
				if err := oneConn(&cfg, req, buf); err != nil {
					errs.add(err)
					time.Sleep(time.Millisecond) // don't spin on a dead target
					continue
				}
				mine = append(mine, time.Since(t0))
			}
			lats[w] = mine
		}(w)
	}
	wg.Wait()
	elapsed := time.Since(start)

	var all []time.Duration
	for _, l := range lats {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p*float64(len(all))+0.5) - 1
		i = max(0, min(i, len(all)-1))
		return float64(all[i].Microseconds()) / 1000
	}
	out := map[string]any{
		"conns":     len(all),
		"errors":    errs.count,
		"rate":      round(float64(len(all))/elapsed.Seconds(), 1),
		"p50_ms":    round(pct(0.50), 3),
		"p99_ms":    round(pct(0.99), 3),
		"max_ms":    round(pct(1.0), 3),
		"c":         cfg.c,
		"halfclose": cfg.halfClose,
		"eof":       cfg.eof,
		"elapsed_s": round(elapsed.Seconds(), 3),
	}
	if errs.count > 0 {
		out["error_kinds"] = errs.sample
	}
	emit(out)
}

func round(v float64, places int) float64 {
	p := 1.0
	for ; places > 0; places-- {
		p *= 10
	}
	return float64(int64(v*p+0.5)) / p
}

// ---- idle mode ------------------------------------------------------------

func openIdle(cfg *config) (net.Conn, error) {
	deadline := time.Now().Add(cfg.timeout)
	c, err := cfg.dial(deadline)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(deadline)
	if _, err := c.Write([]byte{'i'}); err != nil {
		c.Close()
		return nil, err
	}
	var b [1]byte
	if _, err := io.ReadFull(c, b[:]); err != nil {
		c.Close()
		return nil, fmt.Errorf("echo: %w", err)
	}
	if b[0] != 'i' {
		c.Close()
		return nil, fmt.Errorf("echo: got %q", b[0])
	}
	c.SetDeadline(time.Time{})
	return c, nil
}

func idleMode(cfg config, n int, hold time.Duration, ramp int) {
	var (
		mu    sync.Mutex
		conns = make([]net.Conn, 0, n)
		errs  errStats
	)
	start := time.Now()
	for done := 0; done < n; {
		batch := min(ramp, n-done)
		var wg sync.WaitGroup
		before := errs.count
		for i := 0; i < batch; i++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c, err := openIdle(&cfg)
				if err != nil {
					errs.add(err)
					return
				}
				mu.Lock()
				conns = append(conns, c)
				mu.Unlock()
			}()
		}
		wg.Wait()
		done += batch
		if errs.count > before {
			break // the path is failing (e.g. the relay ran out of fds): stop ramping
		}
	}
	out := map[string]any{
		"open":   len(conns),
		"wanted": n,
		"errors": errs.count,
		"ramp_s": round(time.Since(start).Seconds(), 3),
	}
	if errs.count > 0 {
		out["error_kinds"] = errs.sample
	}
	emit(out)
	fmt.Println("READY")

	stdin := make(chan struct{})
	go func() {
		bufio.NewReader(os.Stdin).ReadString('\n') // a line or EOF
		close(stdin)
	}()
	why := "hold"
	select {
	case <-time.After(hold):
	case <-stdin:
		why = "stdin"
	}
	for _, c := range conns {
		c.Close()
	}
	emit(map[string]any{"closed": len(conns), "why": why, "held_s": round(time.Since(start).Seconds(), 3)})
}
