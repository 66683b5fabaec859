// Package conn owns gnc's endpoints: parsing what the user wrote (hosts,
// ports, port lists, relay endpoints), dialing, listening, standard I/O,
// and the checks made on accepted clients. Every endpoint satisfies
// relay.Endpoint and hands out unwrapped conns, so the copy engine can use
// the kernel's zero-copy paths on them.
package conn

import (
	"bufio"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// ParseError is a mistake in something the user wrote. It is a usage
// error: gnc reports it with a hint and exits with status 2.
type ParseError struct {
	// What names the kind of thing that was wrong, such as "port" or
	// "endpoint".
	What string
	// Value is the text as the user wrote it.
	Value string
	// Reason, if not empty, says what is wrong with it.
	Reason string
	// Hint, if not empty, suggests a valid form.
	Hint string
}

// Error reads "invalid port \"99999\"", with the reason after a colon
// when there is one, or only the reason when nothing was written.
func (e *ParseError) Error() string {
	if e.Value == "" && e.Reason != "" {
		return e.Reason // nothing was written to quote
	}
	if e.Reason == "" {
		return fmt.Sprintf("invalid %s %q", e.What, e.Value)
	}
	return fmt.Sprintf("invalid %s %q: %s", e.What, e.Value, e.Reason)
}

// FileError is a file named on the command line that gnc cannot use: it
// is missing or unreadable, or a line in it is wrong. It is a usage
// error, reported with the flag, the file and the line.
type FileError struct {
	// Flag names the option that gave the file, such as "--allow-file".
	Flag string
	// Path is the file as the user wrote it.
	Path string
	// Line is the 1-based line at fault; zero when the whole file is.
	Line int
	// Err says what is wrong.
	Err error
	// Hint, if not empty, suggests what to give instead.
	Hint string
}

// Error reads "--allow-file rules.txt:3: invalid CIDR ..." or
// "--hexdump-file /x/dump: no such file or directory".
func (e *FileError) Error() string {
	where := e.Path
	if e.Line > 0 {
		where = fmt.Sprintf("%s:%d", e.Path, e.Line)
	}
	return fmt.Sprintf("%s %s: %s", e.Flag, where, Reason(e.Err))
}

// Unwrap gives the underlying error.
func (e *FileError) Unwrap() error { return e.Err }

const portHint = `a port is a number from 1 to 65535 or a service name from /etc/services, as in "gnc example.com 80" or "gnc example.com http"`

// ParsePort reads a port number or a service name (looked up for network,
// "tcp" or "udp"). Port 0 is accepted only with allowZero, for listeners,
// where it asks the kernel to choose a free port.
func ParsePort(s, network string, allowZero bool) (int, error) {
	if s == "" {
		return 0, &ParseError{What: "port", Value: s, Reason: "no port given", Hint: portHint}
	}
	if s[0] >= '0' && s[0] <= '9' {
		n, err := strconv.Atoi(s)
		if err != nil || n > 65535 || (n == 0 && !allowZero) {
			return 0, &ParseError{What: "port", Value: s, Hint: portHint}
		}
		return n, nil
	}
	if !validServiceName(s) {
		return 0, &ParseError{What: "port", Value: s, Hint: portHint}
	}
	n, err := net.LookupPort(network, s)
	if err != nil || n == 0 {
		return 0, &ParseError{What: "port", Value: s, Reason: "unknown service", Hint: portHint}
	}
	return n, nil
}

// validServiceName accepts the names /etc/services uses, and nothing that
// could make the lookup do more than read that file.
func validServiceName(s string) bool {
	if len(s) > 64 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '+') {
			return false
		}
	}
	return true
}

// maxPortList bounds a port list (all of 1-65535 fits), so a typo cannot
// make gnc allocate without limit.
const maxPortList = 65535

// ParsePortList reads the ports of a scan: any number of arguments, each a
// comma-separated list of ports, service names and inclusive ranges such
// as "20-30". It returns them sorted, without duplicates.
func ParsePortList(args []string) ([]int, error) {
	seen := make(map[int]bool)
	var ports []int
	add := func(p int) {
		if !seen[p] {
			seen[p] = true
			ports = append(ports, p)
		}
	}
	if len(args) == 0 {
		return nil, &ParseError{What: "port list", Value: "", Reason: "no ports given", Hint: `list ports as in "gnc -z host 22 80-90,443"`}
	}
	for _, arg := range args {
		if arg == "" {
			return nil, &ParseError{What: "port list", Value: arg, Reason: "empty port list", Hint: `list ports as in "gnc -z host 22 80-90,443"`}
		}
		for _, item := range strings.Split(arg, ",") {
			// A service name may itself contain '-' (ms-sql-s), so a
			// whole item is tried as one port before as a range.
			p, err := ParsePort(item, "tcp", false)
			if err == nil {
				add(p)
				continue
			}
			lo, hi, isRange := strings.Cut(item, "-")
			if !isRange {
				return nil, err
			}
			a, err := ParsePort(lo, "tcp", false)
			if err != nil {
				return nil, err
			}
			b, err := ParsePort(hi, "tcp", false)
			if err != nil {
				return nil, err
			}
			if a > b {
				return nil, &ParseError{What: "port range", Value: item, Reason: "start is above end", Hint: `write ranges low to high, as in "20-30"`}
			}
			for p := a; p <= b; p++ {
				add(p)
			}
		}
		if len(ports) > maxPortList {
			break
		}
	}
	slices.Sort(ports)
	return ports, nil
}

const targetHint = `give the host and port as "HOST PORT", "HOST:PORT" or "[IPV6]:PORT", as in "gnc example.com 80"`

// ParseTarget reads connect mode's positional arguments: HOST PORT,
// HOST:PORT, [IPV6]:PORT or a bare IPv6 address followed by PORT. It checks
// the port but does not resolve anything.
func ParseTarget(args []string) (host, port string, err error) {
	switch len(args) {
	case 0:
		return "", "", &ParseError{What: "destination", Value: "", Reason: "no host and port given", Hint: targetHint}
	case 1:
		host, port, err = SplitHostPort(args[0])
		if err != nil {
			return "", "", err
		}
		if port == "" {
			return "", "", &ParseError{What: "destination", Value: args[0], Reason: "no port given", Hint: targetHint}
		}
	case 2:
		host, port, err = SplitHostPort(args[0])
		if err != nil {
			return "", "", err
		}
		if port != "" {
			return "", "", &ParseError{What: "destination", Value: strings.Join(args, " "), Reason: "port given twice", Hint: targetHint}
		}
		port = args[1]
	default:
		return "", "", &ParseError{What: "destination", Value: strings.Join(args, " "), Reason: "too many arguments", Hint: targetHint}
	}
	if host == "" {
		return "", "", &ParseError{What: "destination", Value: strings.Join(args, " "), Reason: "no host given", Hint: targetHint}
	}
	if _, err := ParsePort(port, "tcp", false); err != nil {
		return "", "", err
	}
	return host, port, nil
}

// splitHostPort splits "host:port", "[v6]:port", "[v6]", a bare IPv6
// address or a bare host; port is empty when none was written.
func SplitHostPort(s string) (host, port string, err error) {
	if strings.HasPrefix(s, "[") {
		end := strings.IndexByte(s, ']')
		if end < 0 {
			return "", "", &ParseError{What: "address", Value: s, Reason: "missing ]", Hint: targetHint}
		}
		host, rest := s[1:end], s[end+1:]
		if _, err := netip.ParseAddr(host); err != nil {
			return "", "", &ParseError{What: "address", Value: s, Reason: "brackets hold only an IPv6 address", Hint: targetHint}
		}
		switch {
		case rest == "":
			return host, "", nil
		case rest[0] == ':':
			if rest[1:] == "" {
				return "", "", &ParseError{What: "address", Value: s, Reason: "empty port", Hint: targetHint}
			}
			return host, rest[1:], nil
		}
		return "", "", &ParseError{What: "address", Value: s, Reason: "unexpected text after ]", Hint: targetHint}
	}
	switch strings.Count(s, ":") {
	case 0:
		return s, "", nil
	case 1:
		host, port, _ := strings.Cut(s, ":")
		if port == "" {
			return "", "", &ParseError{What: "address", Value: s, Reason: "empty port", Hint: targetHint}
		}
		return host, port, nil
	}
	// Several colons: a bare IPv6 address, whose port must come separately.
	if _, err := netip.ParseAddr(s); err != nil {
		return "", "", &ParseError{What: "address", Value: s, Reason: "IPv6 addresses with a port need brackets", Hint: `write "[::1]:8080" or "::1 8080"`}
	}
	return s, "", nil
}

var services struct {
	once   sync.Once
	byPort map[int]string
}

// ServiceName names a TCP port after /etc/services ("http" for 80), or
// returns "*" when it has no name there, as nc's messages do.
func ServiceName(port int) string {
	services.once.Do(func() { services.byPort = loadServiceNames("tcp") })
	if name, ok := services.byPort[port]; ok {
		return name
	}
	return "*"
}

// loadServiceNames reads /etc/services' names for proto, the first for
// each port.
func loadServiceNames(proto string) map[int]string {
	names := make(map[int]string)
	f, err := os.Open("/etc/services")
	if err != nil {
		return names
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line, _, _ := strings.Cut(sc.Text(), "#")
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		num, pr, ok := strings.Cut(fields[1], "/")
		if !ok || pr != proto {
			continue
		}
		if p, err := strconv.Atoi(num); err == nil {
			if _, dup := names[p]; !dup {
				names[p] = fields[0]
			}
		}
	}
	return names
}

// ParseDuration reads a duration in Go's syntax, or a bare number of
// seconds (fractions and a leading minus allowed).
func ParseDuration(s string) (time.Duration, error) {
	bad := &ParseError{What: "duration", Value: s, Hint: `write durations as "500ms", "2s" or "1m"; a bare number is seconds`}
	t := strings.TrimSpace(s)
	if t == "" {
		return 0, bad
	}
	if f, err := strconv.ParseFloat(t, 64); err == nil {
		// Compare in nanoseconds: 2^63 itself does not fit an int64.
		ns := f * float64(time.Second)
		if ns != ns || ns >= 1<<63 || ns <= -(1<<63) {
			return 0, bad
		}
		return time.Duration(ns), nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, bad
	}
	return d, nil
}

// ParseSize reads a byte count: a number, optionally followed by K, M, G
// or T (powers of 1024, as dd and pv read them), with an optional "B" or
// "iB".
func ParseSize(s string) (int64, error) {
	bad := &ParseError{What: "size", Value: s, Hint: `write sizes as "1048576", "512K", "10M" or "2G"`}
	t := strings.TrimSuffix(strings.TrimSuffix(strings.TrimSpace(s), "B"), "i")
	mult := int64(1)
	if t != "" {
		switch strings.ToUpper(t[len(t)-1:]) {
		case "K":
			mult = 1 << 10
		case "M":
			mult = 1 << 20
		case "G":
			mult = 1 << 30
		case "T":
			mult = 1 << 40
		}
		if mult != 1 {
			t = t[:len(t)-1]
		}
	}
	n, err := strconv.ParseInt(t, 10, 64)
	if err != nil || n < 0 || n > (1<<62)/mult {
		return 0, bad
	}
	return n * mult, nil
}
