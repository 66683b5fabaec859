package ui

import (
	"fmt"
	"os"
	"strings"
	"syscall"
	"time"

	"gnc/conn"
)

// Duration is a flag value in Go's syntax ("500ms", "2s", "1m") where a
// bare number means seconds, as in nc ("-w 3", "-q 0.5", "-q -1"). The zero
// value is zero.
type Duration struct {
	// Flag names the flag in messages, such as "-w".
	Flag string
	D    time.Duration
	// Text is the value as the user wrote it.
	Text string
	// Err is the mistake in the value given, if any. Set keeps it here
	// rather than returning it, because urfave/cli would flatten it into a
	// string and lose its hint; Value reports it.
	Err error
}

// Set parses s; it implements cli.Generic.
func (d *Duration) Set(s string) error {
	v, err := conn.ParseDuration(s)
	if pe, ok := err.(*conn.ParseError); ok {
		pe.What = d.Flag + " duration"
	}
	d.D, d.Text, d.Err = v, s, err
	return nil
}

// Value returns the duration given, or the usage error in it.
func (d *Duration) Value() (time.Duration, error) { return d.D, d.Err }

// String returns the text given, so that urfave/cli copying the value
// between a flag's aliases (by Set(String())) keeps it intact.
func (d *Duration) String() string {
	switch {
	case d == nil:
		return ""
	case d.Text != "" || d.Err != nil:
		return d.Text
	case d.D == 0:
		return ""
	}
	return d.D.String()
}

const listenHint = `listen as in "gnc -l 9000", "gnc -l 127.0.0.1 9000" or "gnc -l -s 127.0.0.1 -p 9000"`

// ListenArgs reads listen mode's address and port from its positional
// arguments ([ADDR] PORT, ADDR:PORT, [IPV6]:PORT) and the traditional
// -s ADDR and -p PORT flags. An empty host means every address.
func ListenArgs(args []string, source, port string) (host, p string, err error) {
	switch len(args) {
	case 0:
		if port == "" {
			return "", "", Usagef(listenHint, "-l needs a port")
		}
		return source, port, nil
	case 1:
		if port != "" {
			h, pt, err := conn.SplitHostPort(args[0])
			switch {
			case err != nil:
				return "", "", err
			case pt != "":
				return "", "", Usagef(listenHint, "listen port given twice")
			case source != "":
				return "", "", Usagef(listenHint, "listen address given twice")
			}
			return h, port, nil
		}
		if strings.Contains(args[0], ":") {
			h, pt, err := conn.SplitHostPort(args[0])
			if err != nil {
				return "", "", err
			}
			if pt == "" {
				// A bare IPv6 address: its port must come from -p.
				return "", "", Usagef(listenHint, "-l needs a port")
			}
			if source != "" {
				return "", "", Usagef(listenHint, "listen address given twice")
			}
			return h, pt, nil
		}
		return source, args[0], nil
	case 2:
		if port != "" || source != "" {
			return "", "", Usagef(listenHint, "listen address or port given twice")
		}
		h, pt, err := conn.SplitHostPort(args[0])
		if err != nil {
			return "", "", err
		}
		if pt != "" {
			return "", "", Usagef(listenHint, "listen port given twice")
		}
		return h, args[1], nil
	}
	return "", "", Usagef(listenHint, "too many arguments for -l: %s", strings.Join(args, " "))
}

// QuietError ends gnc with a status and no message, as when a scan finds
// no open port.
type QuietError struct{ Code int }

// Error says which status gnc exits with; it is never shown.
func (e *QuietError) Error() string { return fmt.Sprintf("exit status %d", e.Code) }

// Quiet returns a QuietError.
func Quiet(code int) error { return &QuietError{Code: code} }

// SignalError is a run ended by a signal; gnc exits with 128 plus its
// number (130 for SIGINT, 143 for SIGTERM) and says nothing more.
type SignalError struct{ Signal os.Signal }

// Error names the signal, for -v.
func (e *SignalError) Error() string {
	return "stopped by " + signalName(e.Signal)
}

// Signaled returns a SignalError.
func Signaled(s os.Signal) error { return &SignalError{Signal: s} }

func (e *SignalError) code() int {
	if s, ok := e.Signal.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 128 + int(syscall.SIGINT)
}
