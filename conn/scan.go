package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"net"
	"sync"
)

// ScanResult is one port of a scan: Conn is open (the caller closes it)
// or Err says why the port did not accept, or did not speak TLS.
type ScanResult struct {
	Port int
	Conn io.ReadWriteCloser
	Err  error
	// Open says the port counts as open: it accepted, and with TLS it
	// completed a handshake or at least showed a certificate (one that
	// failed verification, whose reason is in Err).
	Open bool
	// Dialer is the dialer used for this port, for messages.
	Dialer *TCPDialer
}

// Scan connects to each port of d.Host, at most parallel at a time,
// sending nothing (with t, only a TLS handshake), and reports every result
// in port order. The host is resolved once, and every port is tried on
// its first address. Through d.Proxies, each port is asked of the chain:
// a proxy's refusal closes that port, while a failure that every port
// would meet (the first proxy unreachable, authentication refused) ends
// the scan with that error. It returns how many ports were open.
func Scan(ctx context.Context, d *TCPDialer, ports []int, parallel int, t *TLSOptions, report func(ScanResult)) (int, error) {
	var cfg *tls.Config
	if t != nil {
		var err error
		if cfg, err = t.ClientConfig(d.Host); err != nil {
			return 0, err
		}
	}
	// Through proxies that resolve names themselves, the name goes to
	// the last proxy as it is; otherwise it is resolved here, once.
	var ips []net.IP
	if len(d.Proxies) == 0 || !d.Proxies[len(d.Proxies)-1].Kind.RemoteDNS() || isAddr(d.Host) {
		var err error
		if ips, err = d.resolve(ctx, d.Host); err != nil {
			return 0, err
		}
	}
	port := func(i int) *TCPDialer {
		pd := *d
		pd.Port = ports[i]
		if ips != nil {
			pd.pinned = ips[:1]
		}
		return &pd
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	results, wait := probePorts(ctx, len(ports), parallel,
		func(i int) ScanResult { return scanPort(ctx, port(i), cfg, t) },
		func(i int, err error) ScanResult { return ScanResult{Port: ports[i], Err: err, Dialer: port(i)} })
	defer wait()
	open := 0
	for i, ch := range results {
		r := <-ch
		if len(d.Proxies) > 0 && r.Err != nil && wholeScanError(r.Err) {
			// Every port would fail alike: one error for the scan. The
			// ports still being tried end, and what they opened closes.
			cancel()
			for _, rest := range results[i+1:] {
				if x := <-rest; x.Conn != nil {
					x.Conn.Close()
				}
			}
			return open, r.Err
		}
		if r.Open {
			open++
		}
		report(r)
		if r.Conn != nil {
			r.Conn.Close()
		}
	}
	return open, nil
}

// probePorts runs probe(i) for each of n ports, at most parallel at a
// time (fewer than 1: one), and returns a channel per port, in order,
// each of which gets exactly one result: the probe's, or skipped's for a
// port not started before ctx ended. wait returns once every goroutine
// probePorts started has finished; the caller reads every channel first.
func probePorts[R any](ctx context.Context, n, parallel int, probe func(i int) R, skipped func(i int, err error) R) (results []chan R, wait func()) {
	parallel = max(parallel, 1)
	results = make([]chan R, n)
	for i := range results {
		results[i] = make(chan R, 1)
	}
	slots := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := range n {
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for j := i; j < n; j++ {
					results[j] <- skipped(j, ctx.Err())
				}
				return
			}
			wg.Go(func() {
				results[i] <- probe(i)
				<-slots
			})
		}
	})
	return results, wg.Wait
}

func scanPort(ctx context.Context, d *TCPDialer, cfg *tls.Config, t *TLSOptions) ScanResult {
	r := ScanResult{Port: d.Port, Dialer: d}
	c, prefix, err := d.dial(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	if cfg == nil {
		r.Conn, r.Open = c, true
		return r
	}
	tc := newTLSConn(withPrefix(c, prefix), cfg, true, TLSPeer(d.Host, d.Port), t)
	if err := tc.HandshakeContext(ctx); err != nil {
		c.Close()
		var cve *tls.CertificateVerificationError
		var pe *PinError
		r.Err, r.Open = err, errors.As(err, &cve) || errors.As(err, &pe)
		return r
	}
	r.Conn, r.Open = tc, true
	return r
}
