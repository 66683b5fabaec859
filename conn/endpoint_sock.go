package conn

import (
	"context"
	"io/fs"
	"net"
	"strconv"

	"gnc/relay"
)

// The relay endpoints of UDP and Unix-domain sockets (see schemes).

// AdmitFunc admits a client by its address (nil) or says why not.
type AdmitFunc = func(remote net.Addr) error

// DropFunc is told of datagrams dropped from a sender, and why, in a few
// words.
type DropFunc = func(from net.Addr, reason string)

func openUDP(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	host, port, to, err := dialTarget(addr, o, d)
	if err != nil {
		return nil, err
	}
	ud, err := NewUDPDialer(host, port, to)
	if err != nil {
		return nil, err
	}
	if ud.Source, ud.SourcePort, err = bindOption(o, "udp"); err != nil {
		return nil, err
	}
	return ud, nil
}

func openUDPListen(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	host, port, err := SplitHostPort(addr)
	if err != nil {
		return nil, err
	}
	if port == "" {
		host, port = "", host // "udp-listen:53": a lone number is the port
	}
	if port == "" {
		return nil, syntaxf("need a port")
	}
	to, err := o.tcp(d.TCP)
	if err != nil {
		return nil, err
	}
	l, err := ListenUDP(ctx, host, port, to, false)
	if err != nil {
		return nil, err
	}
	l.MaxSessions, l.Admit, l.OnDrop = d.MaxSessions, d.Admit, d.OnDrop
	return l, nil
}

func openUnix(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	if addr == "" {
		return nil, syntaxf("need a path")
	}
	ud, err := NewUnixDialer(addr, false)
	if err != nil {
		return nil, err
	}
	if ud.Timeout, err = o.duration("timeout", d.Timeout); err != nil {
		return nil, err
	}
	return ud, nil
}

func openUnixListen(ctx context.Context, addr string, o options, d Defaults) (relay.Endpoint, error) {
	if addr == "" {
		return nil, syntaxf("need a path")
	}
	var lo UnixListenOptions
	var err error
	if lo.Unlink, err = o.flag("unlink"); err != nil {
		return nil, err
	}
	if v, ok := o.get("mode"); ok {
		m, err := strconv.ParseUint(v, 8, 32)
		if err != nil || m == 0 || m > 0o777 {
			return nil, syntaxf("mode takes octal permissions such as 0660, not %q", v)
		}
		lo.Mode = fs.FileMode(m)
	}
	l, err := ListenUnix(addr, lo)
	if err != nil {
		return nil, err
	}
	l.OnDrop = d.OnDrop
	return l, nil
}
