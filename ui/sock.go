package ui

import (
	"errors"
	"fmt"
	"net"
	"time"

	"gnc/conn"
	"gnc/relay"
)

// The lines of UDP and Unix-domain sockets, where they differ from TCP's:
// a Unix listener has a path, not a port; a Unix peer has credentials
// rather than an address; a datagram session counts datagrams, and ends
// by being idle rather than by an end of file.

// unixPeer is a Unix socket conn: its path, and the peer's credentials
// where the kernel gives them.
type unixPeer interface {
	UnixPath() string
}

type peerCreds interface {
	PeerCred() (conn.PeerCred, bool)
}

// unixTarget is a Unix socket endpoint: its path and network.
type unixTarget interface {
	UnixTarget() (path, network string)
}

// droppedCount is a datagram session that dropped datagrams for want of
// room in its queue.
type droppedCount interface {
	Dropped() int64
}

func isDatagram(c relay.Conn) bool {
	_, ok := c.(relay.Datagram)
	return ok
}

// credNote is " (pid P, uid U, gid G)" for a Unix conn whose peer's
// credentials the kernel gives, or "".
func credNote(c relay.Conn) string {
	if pc, ok := c.(peerCreds); ok {
		if cred, ok := pc.PeerCred(); ok {
			return " (" + cred.String() + ")"
		}
	}
	return ""
}

// sockEvent logs e if it is one whose lines differ for UDP and Unix
// sockets, and reports whether it did; false leaves e to the usual lines.
func (u *UI) sockEvent(e relay.Event) bool {
	switch e.Kind {
	case relay.Listening:
		if ua, ok := e.Addr.(*net.UnixAddr); ok && u.Mode == ModeNC {
			u.Logf(1, "Listening on %s", ua.Name)
			return true
		}
	case relay.Accepted:
		up, ok := e.Conn.(unixPeer)
		if !ok {
			return false
		}
		if u.Mode == ModeNC {
			if u.Verbose >= 1 {
				u.Logf(1, "Connection received on %s%s", up.UnixPath(), credNote(e.Conn))
			}
			return true
		}
		if u.Verbose >= 2 {
			u.Logf(2, "%s #%d accepted on %s%s", stamp(), e.ID, e.Endpoint, credNote(e.Conn))
		}
		return true
	case relay.Connected:
		if u.Mode != ModeNC {
			return false
		}
		if d, ok := e.Endpoint.(*conn.UDPDialer); ok {
			u.Logf(1, "%s", udpConnectedLine(d.Host, d.Port, e.Conn))
			return true
		}
		if d, ok := e.Endpoint.(unixTarget); ok {
			path, _ := d.UnixTarget()
			u.Logf(1, "Connection to %s succeeded!%s", path, credNote(e.Conn))
			return true
		}
	case relay.Closed:
		if !isDatagram(e.Conn) && !isDatagram(e.Peer) {
			return false
		}
		if u.Mode == ModeNC {
			u.datagramClosed(e)
		} else {
			u.relayDatagramClosed(e)
		}
		return true
	}
	return false
}

func stamp() string { return time.Now().Format("15:04:05.000") }

// udpConnectedLine is nc's "Connection to HOST PORT port [udp/NAME]
// succeeded!", naming the address used when the host was a name.
func udpConnectedLine(host string, port int, c relay.Conn) string {
	ip, _ := splitAddr(remote(c))
	shown := host
	if net.ParseIP(host) == nil && ip != "" {
		shown = fmt.Sprintf("%s (%s)", host, ip)
	}
	return fmt.Sprintf("Connection to %s %d port [udp/%s] succeeded!", shown, port, conn.UDPServiceName(port))
}

// datagramClosed is nc mode's end of a datagram session.
func (u *UI) datagramClosed(e relay.Event) {
	r := e.Result
	if u.Many && r.Err != nil && u.Verbose >= 1 {
		who := addrString(remote(e.Peer))
		if errors.Is(r.Err, relay.ErrIdle) {
			u.Logf(1, "gnc: session with %s closed after %s: idle timeout", who, seconds(r.Duration))
		} else {
			what := ""
			if errors.Is(r.Err, conn.ErrStalled) {
				what = "dropped "
			}
			u.Logf(1, "gnc: %s%s: %s", what, who, errorLine(r.Err))
		}
	}
	if u.Verbose >= 2 {
		u.Logf(2, "sent %s, received %s in %s (%s)%s", datagrams(r, relay.Forward), datagrams(r, relay.Backward), seconds(r.Duration), rate(r.Bytes[0]+r.Bytes[1], r.Duration), droppedNote(e))
	}
}

// relayDatagramClosed is a relay's line for the end of a pairing with a
// datagram side.
func (u *UI) relayDatagramClosed(e relay.Event) {
	if u.Verbose < 1 {
		return
	}
	r := e.Result
	reason := r.Reason
	if r.Err != nil && !errors.Is(r.Err, relay.ErrIdle) {
		reason += ": " + Describe(r.Err)
	}
	u.Logf(1, "%s #%d closed %s <-> %s after %s, %s >, %s <, %s%s", stamp(), e.ID, relay.PeerName(e.Conn), relay.PeerName(e.Peer), seconds(r.Duration), datagrams(r, relay.Forward), datagrams(r, relay.Backward), reason, droppedNote(e))
}

// datagrams reads "3 datagrams (120 bytes)", or "120 bytes" for a
// direction between streams.
func datagrams(r relay.Result, d relay.Dir) string {
	n := r.Datagrams[d]
	if n == 0 && r.Bytes[d] != 0 {
		return fmt.Sprintf("%d bytes", r.Bytes[d])
	}
	s := "s"
	if n == 1 {
		s = ""
	}
	return fmt.Sprintf("%d datagram%s (%d bytes)", n, s, r.Bytes[d])
}

// droppedNote is ", N datagrams dropped (queue full)" for a session that
// dropped some.
func droppedNote(e relay.Event) string {
	for _, c := range []relay.Conn{e.Conn, e.Peer} {
		if dc, ok := c.(droppedCount); ok {
			if n := dc.Dropped(); n > 0 {
				return fmt.Sprintf(", %d datagrams dropped (queue full)", n)
			}
		}
	}
	return ""
}

// DatagramDropped logs, at -v, a sender whose datagrams a listener drops:
// beyond -m, refused by --allow/--deny, or not answerable. Listeners call
// it once per sender and reason.
func (u *UI) DatagramDropped(from net.Addr, reason string) {
	if u.Verbose < 1 {
		return
	}
	if u.Mode == ModeRelay {
		u.Logf(1, "%s dropping datagrams from %s: %s", stamp(), addrString(from), reason)
		return
	}
	u.Logf(1, "gnc: dropping datagrams from %s: %s", addrString(from), reason)
}

// UDPScanResult logs one port of a -z -u scan: ports that answered or
// stayed silent at -v (silent ones as open|filtered: UDP cannot tell an
// open port from a filtered one), refused ones at -vv.
func (u *UI) UDPScanResult(r conn.UDPScanResult) {
	host := r.Dialer.Host
	if net.ParseIP(host) == nil && r.IP != nil {
		host = fmt.Sprintf("%s (%s)", host, r.IP)
	}
	switch r.State {
	case conn.UDPOpen:
		u.Logf(1, "Connection to %s %d port [udp/%s] succeeded!", host, r.Port, conn.UDPServiceName(r.Port))
	case conn.UDPOpenFiltered:
		u.Logf(1, "Connection to %s %d port [udp/%s] open|filtered: no reply, and no refusal", host, r.Port, conn.UDPServiceName(r.Port))
	default:
		if r.Err != nil {
			u.Logf(2, "gnc: %s", errorLine(r.Err))
		}
	}
}
