package main

import (
	"time"

	"github.com/urfave/cli/v2"

	"gnc/conn"
	"gnc/relay"
	"gnc/ui"
)

// socketEndpoint is the endpoint nc mode's arguments name with -u (UDP)
// or -U (a Unix-domain socket): a listener with -l, else a dialer.
func socketEndpoint(c *cli.Context, u *ui.UI, o conn.TCPOptions, args []string) (relay.Endpoint, error) {
	udp, listen, keep := c.Bool("udp"), c.Bool("listen"), c.Bool("keep-open")
	switch {
	case c.Bool("unix"):
		if len(args) != 1 {
			return nil, ui.Usagef(`as in "gnc -U /var/run/docker.sock" or "gnc -lU /tmp/gnc.sock"`, "-U takes one path, not %d arguments", len(args))
		}
		if listen {
			l, err := conn.ListenUnix(args[0], conn.UnixListenOptions{Datagram: udp})
			if err != nil {
				return nil, err
			}
			l.OnDrop = u.DatagramDropped
			return l, nil
		}
		d, err := conn.NewUnixDialer(args[0], udp)
		if err != nil {
			return nil, err
		}
		d.Timeout = duration(c, "wait")
		return d, nil
	case listen:
		host, port, err := ui.ListenArgs(args, c.String("source"), c.String("port"))
		if err != nil {
			return nil, err
		}
		l, err := conn.ListenUDP(c.Context, host, port, o, !keep)
		if err != nil {
			return nil, err
		}
		l.MaxSessions, l.OnDrop = c.Int("max-conns"), u.DatagramDropped
		return l, nil
	default:
		host, port, err := conn.ParseUDPTarget(args)
		if err != nil {
			return nil, err
		}
		d, err := conn.NewUDPDialer(host, port, o)
		if err != nil {
			return nil, err
		}
		d.Source = c.String("source")
		if p := c.String("port"); p != "" {
			if d.SourcePort, err = conn.ParsePort(p, "udp", false); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
}

// datagramSession gives nc mode with -u UDP's own manners: -w 0 without
// -q sends stdin and goes, as nc.openbsd does, and a -k listener's
// sessions get UDP's idle expiry.
func datagramSession(c *cli.Context, s *relay.Server) {
	if !c.Bool("udp") {
		return
	}
	if !c.IsSet("q") && c.IsSet("wait") && duration(c, "wait") == 0 {
		s.Options.Linger = -1
	}
	if c.Bool("listen") && c.Bool("keep-open") {
		datagramDefaults(c, s)
	}
}

// socketFlagsCheck refuses the flags that mean nothing with -u or -U.
func socketFlagsCheck(c *cli.Context) error {
	udp, unix, listen, keep := c.Bool("udp"), c.Bool("unix"), c.Bool("listen"), c.Bool("keep-open")
	if keep && !listen {
		return ui.Usagef(`"gnc -l -k PORT" serves many clients; to reconnect, use "gnc relay -k"`, "-k works with -l only")
	}
	if c.Bool("tls") {
		return ui.Usagef("TLS runs over TCP: leave out -u and -U", "--tls does not work with -u or -U")
	}
	for _, name := range append([]string{"proxy"}, proxyOnly...) {
		if c.IsSet(name) {
			return ui.Usagef("proxies carry TCP here: leave out -u and -U", "%s does not work with -u or -U", dashed(name, ""))
		}
	}
	if _, err := tlsOptions(c, nil); err != nil {
		return err
	}
	if !unix {
		return nil
	}
	for _, f := range []struct{ name, flag string }{{"zero", "-z"}, {"port", "-p"}, {"source", "-s"}, {"4", "-4"}, {"6", "-6"}, {"nodns", "-n"}} {
		if c.IsSet(f.name) {
			return ui.Usagef(`-U takes a path, as in "gnc -U /tmp/app.sock"`, "%s means nothing with -U", f.flag)
		}
	}
	if udp && keep {
		return ui.Usagef(`serve one sender with "gnc -lUu PATH", or use UDP for many: "gnc -lu -k PORT"`, "-k does not work with -U -u: a datagram Unix listener serves one sender")
	}
	return nil
}

// datagramDefaults gives a server with a UDP side UDP's own defaults,
// unless the flags say otherwise: its pairings end after conn.UDPIdle
// without a datagram (UDP has no end of file, so a session whose sender
// went away ends only so), and a signal lets them drain for a second, for
// the replies in flight, not for an end that will not come.
func datagramDefaults(c *cli.Context, s *relay.Server) {
	for _, e := range []relay.Endpoint{s.From, s.To} {
		switch e.(type) {
		case *conn.UDPListener, *conn.UDPDialer:
			if !c.IsSet("idle-timeout") {
				s.Options.Idle = conn.UDPIdle
			}
			if !c.IsSet("drain") && s.Drain > udpDrain {
				s.Drain = udpDrain
			}
		}
	}
}

// udpDrain is how long a relay with a UDP side drains on a signal, unless
// --drain says otherwise.
const udpDrain = time.Second

// udpScan is -z -u: which ports refuse a datagram (closed) and which do
// not (open, or open|filtered when nothing came back).
func udpScan(c *cli.Context, u *ui.UI, o conn.TCPOptions, args []string) error {
	if len(args) < 2 {
		return ui.Usagef(`as in "gnc -zu example.com 53 123 161-162"`, "-z needs a host and at least one port")
	}
	ports, err := conn.ParsePortList(args[1:])
	if err != nil {
		return err
	}
	d := &conn.UDPDialer{TCPOptions: o, Host: args[0]}
	wait := time.Second
	if c.IsSet("wait") {
		wait = duration(c, "wait")
	}
	notClosed, err := conn.ScanUDP(c.Context, d, ports, 64, wait, u.UDPScanResult)
	if err != nil {
		return err
	}
	if notClosed == 0 {
		return ui.Quiet(ui.ExitFailure)
	}
	return nil
}
