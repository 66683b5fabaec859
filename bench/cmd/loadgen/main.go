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
}

// dial connects, with TLS when asked, within deadline.
func (cfg *config) dial(deadline time.Time) (net.Conn, error) {
	d := net.Dialer{Deadline: deadline}
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
