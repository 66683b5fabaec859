// Package ui is everything gnc says to a person: the command line's
// argument order, its messages on stderr (all prefixed "gnc: ", lowercase,
// with "gnc: hint:" lines that suggest the right command), the -v logs,
// and the exit status that goes with each failure.
package ui

import (
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strconv"
	"sync"
	"syscall"
	"time"

	"gnc/conn"
	"gnc/proxy"
	"gnc/relay"
	"gnc/tty"
)

// Exit statuses.
const (
	ExitOK      = 0
	ExitFailure = 1 // a runtime failure: refused, reset, timed out
	ExitUsage   = 2 // the command line was wrong
)

// UsageError is a command line gnc cannot run; it exits with status 2.
type UsageError struct {
	Msg  string
	Hint string // may be empty
}

// Error is the message without its hint.
func (e *UsageError) Error() string { return e.Msg }

// Usagef makes a UsageError with a hint.
func Usagef(hint, format string, args ...any) error {
	return &UsageError{Msg: fmt.Sprintf(format, args...), Hint: hint}
}

// Mode selects the style of the -v logs.
type Mode int

const (
	// ModeNC logs as nc does: "Listening on 127.0.0.1 4444",
	// "Connection received on ...".
	ModeNC Mode = iota
	// ModeRelay logs one timestamped line per pairing opened and closed.
	ModeRelay
)

// UI writes to stderr. Its methods may be called from many goroutines:
// every line, and every block written with WriteBlock, goes out whole, so
// logs never split a line or a block of the hex dump.
type UI struct {
	// Verbose is the number of -v flags.
	Verbose int
	Mode    Mode
	// Many says that the server may make several pairings (-k, a relay
	// listener), so that one pairing's failure is a -v line rather than
	// gnc's own end.
	Many bool

	// Progress says a progress meter is shown: it prints the summary that
	// -vv would.
	Progress bool

	insecureOnce sync.Once
	overlay      io.Writer // set while a progress line is on the screen
	mu           sync.Mutex
	fd           int
}

// New returns a UI writing to fd 2.
func New() *UI { return &UI{fd: 2} }

// WriteBlock writes p to stderr as one unit. It copes with a stderr that
// some other process sharing its file description made non-blocking.
func (u *UI) WriteBlock(p []byte) (int, error) {
	u.mu.Lock()
	over := u.overlay
	u.mu.Unlock()
	if over != nil {
		// The progress line is on the screen: it prints p above itself.
		return over.Write(p)
	}
	return u.Stderr().Write(p)
}

// Stderr writes to stderr as one unit, past any progress line: for the
// progress meter itself.
func (u *UI) Stderr() io.Writer { return stderrWriter{u} }

type stderrWriter struct{ u *UI }

func (w stderrWriter) Write(p []byte) (int, error) {
	w.u.mu.Lock()
	defer w.u.mu.Unlock()
	return writeFull(w.u.fd, p)
}

// SetOverlay routes every message through w while a status line is shown
// on stderr (w prints them above it), or directly again with nil.
func (u *UI) SetOverlay(w io.Writer) {
	u.mu.Lock()
	u.overlay = w
	u.mu.Unlock()
}

// Write is WriteBlock, so a UI can be an io.Writer.
func (u *UI) Write(p []byte) (int, error) { return u.WriteBlock(p) }

// Logf prints a line at verbosity level or above.
func (u *UI) Logf(level int, format string, args ...any) {
	if u.Verbose < level {
		return
	}
	u.WriteBlock([]byte(fmt.Sprintf(format, args...) + "\n"))
}

// Errorf prints a "gnc: " line, whatever the verbosity.
func (u *UI) Errorf(format string, args ...any) {
	u.WriteBlock([]byte("gnc: " + fmt.Sprintf(format, args...) + "\n"))
}

// Hintf prints a "gnc: hint: " line.
func (u *UI) Hintf(format string, args ...any) {
	u.WriteBlock([]byte("gnc: hint: " + fmt.Sprintf(format, args...) + "\n"))
}

// Fail reports err, if any, and returns the exit status that goes with it.
func (u *UI) Fail(err error) int {
	if err == nil {
		return ExitOK
	}
	var ue *UsageError
	var pe *conn.ParseError
	var ppe *proxy.ParseError
	var pxe *proxy.Error
	var fe *conn.FileError
	var de *conn.DialError
	var qe *QuietError
	var se *SignalError
	switch {
	case errors.As(err, &qe):
		return qe.Code
	case errors.As(err, &se):
		u.Logf(1, "gnc: %v", se)
		return se.code()
	case errors.As(err, &ue):
		u.Errorf("%s", ue.Msg)
		if ue.Hint != "" {
			u.Hintf("%s", ue.Hint)
		}
		return ExitUsage
	case errors.As(err, &fe):
		u.Errorf("%s", fe.Error())
		if fe.Hint != "" {
			u.Hintf("%s", fe.Hint)
		}
		return ExitUsage
	case errors.As(err, &pe):
		// The whole message: what wraps the ParseError says where it was.
		u.Errorf("%s", err.Error())
		if pe.Hint != "" {
			u.Hintf("%s", pe.Hint)
		}
		return ExitUsage
	case errors.As(err, &ppe):
		u.Errorf("%s", err.Error())
		if ppe.Hint != "" {
			u.Hintf("%s", ppe.Hint)
		}
		return ExitUsage
	case brokenStdout(err):
		// The reader of stdout went away (gnc ... | head): stop quietly.
		return ExitOK
	case errors.As(err, &pxe):
		// Before DialError: an unreachable proxy wraps the dial's error,
		// and the line must name the proxy and the target.
		u.Errorf("%s", err.Error())
		if h := hintOf(err); h != "" {
			u.Hintf("%s", h)
		}
		return ExitFailure
	case errors.As(err, &de):
		if u.Verbose > 0 {
			for i := range len(de.Attempts) - 1 {
				u.Errorf("%s", de.AttemptError(i))
			}
		}
		u.Errorf("%s", de.Error())
		return ExitFailure
	case errors.Is(err, relay.ErrIdle):
		u.Errorf("idle timeout expired")
		return ExitFailure
	case errors.Is(err, tty.ErrInterrupt):
		// Ctrl-C at the line editor: as SIGINT would have ended it.
		return 128 + int(syscall.SIGINT)
	case errors.Is(err, tty.ErrDisconnect):
		return ExitOK // ~. in raw mode: the user's own way out
	}
	u.Errorf("%s", Describe(err))
	if h := hintOf(err); h != "" {
		u.Hintf("%s", h)
	}
	return ExitFailure
}

// hintOf is the hint an error carries: through a HintText method, or a
// proxy's error's Hint.
func hintOf(err error) string {
	var h interface{ HintText() string }
	if errors.As(err, &h) && h.HintText() != "" {
		return h.HintText()
	}
	var pe *proxy.Error
	if errors.As(err, &pe) {
		return pe.Hint
	}
	return ""
}

// brokenStdout reports a write to stdout whose reader has gone.
func brokenStdout(err error) bool {
	var pe *os.PathError
	return errors.As(err, &pe) && pe.Path == "/dev/stdout" && errors.Is(err, syscall.EPIPE)
}

// Describe renders err on one line: a network failure names the operation
// and both addresses, and the system call's name is left out.
func Describe(err error) string {
	// Only an error that is itself a *net.OpError or *os.PathError is
	// rewritten: gnc's own errors already read well and wrap one.
	if oe, ok := err.(*net.OpError); ok {
		where := ""
		switch {
		case oe.Source != nil && oe.Addr != nil:
			where = " " + oe.Source.String() + "->" + oe.Addr.String()
		case oe.Addr != nil:
			where = " " + oe.Addr.String()
		}
		return fmt.Sprintf("%s %s%s: %s", oe.Op, oe.Net, where, conn.Reason(err))
	}
	if pe, ok := err.(*os.PathError); ok {
		return fmt.Sprintf("%s %s: %s", pe.Op, pe.Path, conn.Reason(pe.Err))
	}
	return err.Error()
}

// Event logs what a relay.Server reports, in the style of u.Mode.
func (u *UI) Event(e relay.Event) {
	if u.sockEvent(e) {
		return
	}
	if u.Mode == ModeRelay {
		u.relayEvent(e)
		return
	}
	switch e.Kind {
	case relay.Listening:
		u.selfMade(e)
		host, port := splitAddr(e.Addr)
		u.Logf(1, "Listening on %s %s", host, port)
	case relay.Accepted:
		host, port := splitAddr(remote(e.Conn))
		u.Logf(1, "Connection received on %s %s%s", host, port, clientCert(e.Conn))
		u.tlsDetails(e.Conn, "")
	case relay.Connected:
		if d, ok := e.Endpoint.(target); ok {
			u.Logf(1, "%s", connectedLine(d, e.Conn))
		}
		u.insecure(e.Conn)
		u.tlsDetails(e.Conn, "")
	case relay.Rejected:
		u.Logf(1, "gnc: refused %s: %v", addrString(remote(e.Conn)), e.Err)
	case relay.HandshakeFailed:
		u.Logf(1, "gnc: %s", errorLine(e.Err)) // it names the peer
	case relay.OpenFailed:
		u.Logf(1, "gnc: %s", errorLine(e.Err))
	case relay.Retrying:
		u.Logf(1, "gnc: %s; trying again in %v", errorLine(e.Err), e.Delay)
	case relay.Closed:
		r := e.Result
		u.unclean(e, "")
		u.exited(e)
		if u.Many && r.Err != nil && u.Verbose >= 1 {
			// One client of many failed; gnc goes on serving the others.
			what := ""
			if errors.Is(r.Err, conn.ErrStalled) {
				what = "dropped "
			}
			u.Logf(1, "gnc: %s%s: %s", what, addrString(remote(e.Peer)), errorLine(r.Err))
		}
		if u.Verbose >= 2 && !u.Progress {
			u.Logf(2, "sent %d bytes, received %d bytes in %s (%s)", r.Bytes[relay.Forward], r.Bytes[relay.Backward], seconds(r.Duration), rate(r.Bytes[0]+r.Bytes[1], r.Duration))
		}
	case relay.DrainExpired:
		u.drainExpired(e)
	}
}

// drainExpired says, whatever the verbosity, how many pairings a drain
// that ran out cut off: they ended without finishing.
func (u *UI) drainExpired(e relay.Event) {
	s := "s"
	if e.Count == 1 {
		s = ""
	}
	u.Errorf("drain time %v ran out: cut %d open pairing%s", e.Delay, e.Count, s)
}

// relayLevel is the verbosity at which each relay event is logged.
var relayLevel = map[relay.EventKind]int{
	relay.Listening: 1, relay.Accepted: 2, relay.Connected: 2, relay.Rejected: 1,
	relay.OpenFailed: 1, relay.Retrying: 1, relay.Opened: 1, relay.Closed: 1, relay.Draining: 1,
	relay.DrainExpired: 0, relay.HandshakeFailed: 1,
}

// relayAlways are the relay events that say something at any verbosity.
var relayAlways = map[relay.EventKind]bool{relay.Listening: true, relay.Connected: true}

func (u *UI) relayEvent(e relay.Event) {
	if u.Verbose < relayLevel[e.Kind] && !relayAlways[e.Kind] {
		return // before any formatting: this runs for every connection
	}
	now := time.Now().Format("15:04:05.000")
	switch e.Kind {
	case relay.Listening:
		u.selfMade(e)
		u.Logf(1, "%s listening on %s (%s)", now, addrString(e.Addr), e.Endpoint)
	case relay.Accepted:
		u.Logf(2, "%s #%d accepted %s on %s%s", now, e.ID, addrString(remote(e.Conn)), e.Endpoint, clientCert(e.Conn))
		if u.Verbose >= 2 {
			u.tlsDetails(e.Conn, fmt.Sprintf("%s #%d ", now, e.ID))
		}
	case relay.Connected:
		u.insecure(e.Conn)
		if hs, ok := e.Conn.(interface{ Handshake() string }); ok && hs.Handshake() != "" && e.Peer != nil {
			// A proxy endpoint's client asked for this destination.
			u.Logf(2, "%s #%d %s: %s for %s, connected to %s in %v", now, e.ID, e.Endpoint, hs.Handshake(), addrString(remote(e.Peer)), addrString(remote(e.Conn)), e.Elapsed.Round(time.Microsecond))
		} else {
			u.Logf(2, "%s #%d connected to %s (%s) in %v", now, e.ID, addrString(remote(e.Conn)), e.Endpoint, e.Elapsed.Round(time.Microsecond))
		}
		if u.Verbose >= 2 {
			u.tlsDetails(e.Conn, fmt.Sprintf("%s #%d ", now, e.ID))
		}
	case relay.Rejected:
		u.Logf(1, "%s #%d refused %s: %v", now, e.ID, addrString(remote(e.Conn)), e.Err)
	case relay.HandshakeFailed:
		u.Logf(1, "%s #%d closed: %s", now, e.ID, errorLine(e.Err))
	case relay.OpenFailed:
		u.Logf(1, "%s #%d closed: %s", now, e.ID, errorLine(e.Err))
	case relay.Retrying:
		if e.Err != nil {
			u.Logf(1, "%s %s; retrying in %v (attempt %d)", now, errorLine(e.Err), e.Delay, e.Attempt)
		} else {
			u.Logf(1, "%s pairing ended quickly; reconnecting in %v", now, e.Delay)
		}
	case relay.Opened:
		u.Logf(1, "%s #%d open %s <-> %s", now, e.ID, peerLabel(e.Conn), peerLabel(e.Peer))
	case relay.Closed:
		r := e.Result
		u.unclean(e, fmt.Sprintf("%s #%d ", now, e.ID))
		reason := r.Reason
		reason += exitNote(r)
		if r.Err != nil && !errors.Is(r.Err, relay.ErrIdle) {
			reason += ": " + Describe(r.Err)
		}
		u.Logf(1, "%s #%d closed %s <-> %s after %s, %d bytes >, %d bytes <, %s", now, e.ID, peerLabel(e.Conn), peerLabel(e.Peer), seconds(r.Duration), r.Bytes[relay.Forward], r.Bytes[relay.Backward], reason)
	case relay.Draining:
		u.Logf(1, "%s stopped accepting; waiting up to %v for %d open pairings", now, e.Delay, e.Count)
	case relay.DrainExpired:
		u.drainExpired(e)
	}
}

// peerLabel names the far end of c: its address, and the destination
// asked of a proxy when the address does not say it, as in
// "93.184.215.14:443 (example.com:443)".
func peerLabel(c relay.Conn) string {
	name := relay.PeerName(c)
	if d, ok := c.(interface{ Destination() string }); ok && d.Destination() != "" {
		return name + " (" + d.Destination() + ")"
	}
	return name
}

// ProxyHop logs, at -v (-vv in a relay), a proxy that opened its tunnel: "Proxy
// socks5h://127.0.0.1:1080 (with credentials): tunnel to example.com:443
// open in 1.2ms". It never shows credentials.
func (u *UI) ProxyHop(hop proxy.Hop, next string, elapsed time.Duration) {
	if u.Mode == ModeRelay {
		if u.Verbose < 2 {
			return // before any formatting: this runs for every connection
		}
		u.Logf(2, "%s proxy %s: tunnel to %s open in %v", time.Now().Format("15:04:05.000"), hop, next, elapsed.Round(time.Microsecond))
		return
	}
	u.Logf(1, "Proxy %s: tunnel to %s open in %v", hop, next, elapsed.Round(time.Microsecond))
}

// errorLine renders a failure without the "gnc: " prefix.
func errorLine(err error) string {
	var pe *proxy.Error
	if errors.As(err, &pe) {
		return err.Error() // it names the proxy and the target
	}
	var de *conn.DialError
	if errors.As(err, &de) {
		return de.Error()
	}
	return Describe(err)
}

// target is implemented by endpoints that dial a host and port: the host
// as typed, the port, and the protocol ("tcp").
type target interface {
	Target() (host string, port int, proto string)
}

// connectedLine is nc's success message, naming the address actually
// used when the host was a name (not through proxies, where the address
// is the first proxy's).
func connectedLine(d target, c relay.Conn) string {
	ip, _ := splitAddr(remote(c))
	if v, ok := d.(interface{ Via() []proxy.Hop }); ok && len(v.Via()) > 0 {
		ip = ""
	}
	h, port, proto := d.Target()
	host := h
	if net.ParseIP(h) == nil && ip != "" {
		host = fmt.Sprintf("%s (%s)", h, ip)
	}
	return fmt.Sprintf("Connection to %s %d port [%s/%s] succeeded!", host, port, proto, conn.ServiceName(port))
}

// ScanResult logs one port of a -z scan: open ports at -v (with what TLS
// showed, when the scan handshakes), closed ones at -vv.
func (u *UI) ScanResult(r conn.ScanResult) {
	switch {
	case r.Open && r.Err == nil:
		u.Logf(1, "%s", connectedLine(r.Dialer, r.Conn))
		u.tlsDetails(r.Conn, "")
	case r.Open:
		u.Logf(1, "%s", connectedLine(r.Dialer, nil))
		u.Logf(1, "gnc: %s", errorLine(r.Err))
	case r.Conn == nil && r.Err != nil:
		var te *conn.TLSError
		level := 2
		if errors.As(r.Err, &te) {
			level = 1 // it accepted, but TLS failed: worth saying at -v
		}
		u.Logf(level, "gnc: %s", errorLine(r.Err))
	}
}

func remote(c relay.Conn) net.Addr {
	if rc, ok := c.(interface{ RemoteAddr() net.Addr }); ok {
		return rc.RemoteAddr()
	}
	return nil
}

func splitAddr(a net.Addr) (host, port string) {
	if a == nil {
		return "", ""
	}
	h, p, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String(), ""
	}
	return h, p
}

func addrString(a net.Addr) string {
	if a == nil {
		return "?"
	}
	return a.String()
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64) + "s"
}

// rate renders bytes per second in decimal units, as network tools do.
func rate(n int64, d time.Duration) string {
	if d <= 0 {
		d = time.Nanosecond
	}
	r := float64(n) / d.Seconds()
	units := []string{"B/s", "kB/s", "MB/s", "GB/s"}
	i := 0
	for r >= 1000 && i < len(units)-1 {
		r /= 1000
		i++
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + " " + units[i]
}
