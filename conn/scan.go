package conn

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
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
// its first address. It returns how many ports were open.
func Scan(ctx context.Context, d *TCPDialer, ports []int, parallel int, t *TLSOptions, report func(ScanResult)) (int, error) {
	var cfg *tls.Config
	if t != nil {
		var err error
		if cfg, err = t.ClientConfig(d.Host); err != nil {
			return 0, err
		}
	}
	ips, err := d.resolve(ctx, d.Host)
	if err != nil {
		return 0, err
	}
	if parallel < 1 {
		parallel = 1
	}
	results := make([]chan ScanResult, len(ports))
	for i := range results {
		results[i] = make(chan ScanResult, 1)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	slots := make(chan struct{}, parallel)
	go func() {
		for i, p := range ports {
			pd := *d
			pd.Port = p
			pd.pinned = ips[:1]
			select {
			case slots <- struct{}{}:
			case <-ctx.Done():
				for j, ch := range results[i:] {
					ch <- ScanResult{Port: ports[i+j], Err: ctx.Err(), Dialer: &pd}
				}
				return
			}
			go func() {
				results[i] <- scanPort(ctx, &pd, cfg, t)
				<-slots
			}()
		}
	}()
	open := 0
	for _, ch := range results {
		r := <-ch
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

func scanPort(ctx context.Context, d *TCPDialer, cfg *tls.Config, t *TLSOptions) ScanResult {
	r := ScanResult{Port: d.Port, Dialer: d}
	c, err := d.Dial(ctx)
	if err != nil {
		r.Err = err
		return r
	}
	if cfg == nil {
		r.Conn, r.Open = c, true
		return r
	}
	tc := newTLSConn(c, cfg, true, TLSPeer(d.Host, d.Port), t)
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
