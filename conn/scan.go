package conn

import (
	"context"
	"io"
)

// ScanResult is one port of a scan: Conn is open (the caller closes it)
// or Err says why the port did not accept.
type ScanResult struct {
	Port int
	Conn io.ReadWriteCloser
	Err  error
	// Dialer is the dialer used for this port, for messages.
	Dialer *TCPDialer
}

// Scan connects to each port of d.Host, at most parallel at a time, sending
// nothing, and reports every result in port order. The host is resolved
// once, and every port is tried on its first address. It returns how many
// ports accepted.
func Scan(ctx context.Context, d *TCPDialer, ports []int, parallel int, report func(ScanResult)) (int, error) {
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
				for _, ch := range results[i:] {
					ch <- ScanResult{Port: p, Err: ctx.Err(), Dialer: &pd}
				}
				return
			}
			go func() {
				c, err := pd.Dial(ctx)
				r := ScanResult{Port: p, Err: err, Dialer: &pd}
				if err == nil {
					r.Conn = c
				}
				results[i] <- r
				<-slots
			}()
		}
	}()
	open := 0
	for _, ch := range results {
		r := <-ch
		if r.Err == nil {
			open++
		}
		report(r)
		if r.Conn != nil {
			r.Conn.Close()
		}
	}
	return open, nil
}
