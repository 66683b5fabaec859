package conn_test

import (
	"errors"
	"math"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"gnc/conn"
)

// needService skips t unless the system's services database maps name to
// port over TCP, as the tests relying on /etc/services assume.
func needService(t *testing.T, name string, port int) {
	t.Helper()
	needServiceOn(t, "tcp", name, port)
}

func needServiceOn(t *testing.T, network, name string, port int) {
	t.Helper()
	if p, err := net.LookupPort(network, name); err != nil || p != port {
		t.Skipf("service %q is not %d/%s here (got %d, %v)", name, port, network, p, err)
	}
}

// parseError asserts that err is a *conn.ParseError about what (if what is
// not empty), with a hint, and returns it.
func parseError(t *testing.T, err error, what string) *conn.ParseError {
	t.Helper()
	var pe *conn.ParseError
	if !errors.As(err, &pe) {
		t.Fatalf("error %v (%T) is not a *conn.ParseError", err, err)
	}
	if what != "" && pe.What != what {
		t.Errorf("ParseError.What = %q, want %q (error %q)", pe.What, what, err)
	}
	if pe.Hint == "" {
		t.Errorf("ParseError %q has no hint", err)
	}
	return pe
}

func TestParseErrorMessage(t *testing.T) {
	tests := []struct {
		e    conn.ParseError
		want string
	}{
		{conn.ParseError{What: "port", Value: "99999"}, `invalid port "99999"`},
		{conn.ParseError{What: "port", Value: "x", Reason: "unknown service", Hint: "h"}, `invalid port "x": unknown service`},
		{conn.ParseError{What: "endpoint", Value: `a"b`}, `invalid endpoint "a\"b"`},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestParsePort(t *testing.T) {
	tests := []struct {
		in        string
		network   string // "tcp" when empty
		allowZero bool
		want      int
		err       bool
		service   string
		bug       string // non-empty: a known bug, skipped while present
	}{
		{in: "80", want: 80},
		{in: "1", want: 1},
		{in: "443", want: 443},
		{in: "080", want: 80},
		{in: "65535", want: 65535},
		{in: "65536", err: true},
		{in: "99999", err: true},
		{in: "0", err: true},
		{in: "00", err: true},
		{in: "0", allowZero: true, want: 0},
		{in: "00", allowZero: true, want: 0},
		{in: "65536", allowZero: true, err: true},
		{in: "http", want: 80, service: "http"},
		{in: "ssh", want: 22, service: "ssh"},
		{in: "HTTP", want: 80, service: "http"},
		{in: "www", want: 80, service: "www"},
		{in: "ms-sql-s", want: 1433, service: "ms-sql-s"},
		{in: "domain", network: "udp", want: 53, service: "domain"},
		{in: "no-such-service-gnc", err: true},
		{in: "8o", err: true},
		{in: "80x", err: true},
		{in: "0x50", err: true},
		{in: "1e3", err: true},
		{in: "-1", err: true},
		{in: "-0", err: true},
		{in: "-80", err: true},
		{in: "+0", err: true},
		{in: "+", err: true},
		{in: " 80", err: true},
		{in: "80 ", err: true},
		{in: "8 0", err: true},
		{in: "", err: true},
		{in: "80,81", err: true},
		{in: "80-81", err: true},
		{in: "/etc/passwd", err: true},
		{in: "http/tcp", err: true},
		{in: "ht\x00tp", err: true},
		{in: "٨٠", err: true}, // Arabic-Indic digits
		{in: strings.Repeat("1", 400), err: true},
		{in: strings.Repeat("9", 20), err: true},
		{in: strings.Repeat("a", 64), err: true},
		{in: strings.Repeat("a", 65), err: true},
		{in: strings.Repeat("a", 100000), err: true},
		{in: "+80", err: true, bug: `ParsePort("+80") returns 80: a '+' sign passes validServiceName and net.LookupPort reads it as a number; want an error, "+80" is neither a port number nor a service name`},
		{in: "+443", err: true, bug: `ParsePort("+443") returns 443 (see "+80")`},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:20] + "...(" + strconv.Itoa(len(tt.in)) + " bytes)"
		}
		t.Run(name, func(t *testing.T) {
			network := tt.network
			if network == "" {
				network = "tcp"
			}
			if tt.service != "" {
				needServiceOn(t, network, tt.service, tt.want)
			}
			got, err := conn.ParsePort(tt.in, network, tt.allowZero)
			if tt.bug != "" && err == nil {
				t.Skip("BUG: " + tt.bug)
			}
			if tt.err {
				if err == nil {
					t.Fatalf("ParsePort(%q, %q, %v) = %d, want an error", tt.in, network, tt.allowZero, got)
				}
				parseError(t, err, "port")
				return
			}
			if err != nil {
				t.Fatalf("ParsePort(%q, %q, %v): %v", tt.in, network, tt.allowZero, err)
			}
			if got != tt.want {
				t.Errorf("ParsePort(%q, %q, %v) = %d, want %d", tt.in, network, tt.allowZero, got, tt.want)
			}
		})
	}
}

func TestParsePortMessage(t *testing.T) {
	_, err := conn.ParsePort("99999", "tcp", false)
	if err == nil {
		t.Fatal(`ParsePort("99999") succeeded`)
	}
	if got, want := err.Error(), `invalid port "99999"`; got != want {
		t.Errorf("error = %q, want %q", got, want)
	}
	pe := parseError(t, err, "port")
	if pe.Value != "99999" {
		t.Errorf("Value = %q, want %q", pe.Value, "99999")
	}

	_, err = conn.ParsePort("no-such-service-gnc", "tcp", false)
	if pe := parseError(t, err, "port"); pe.Reason != "unknown service" {
		t.Errorf("unknown service: Reason = %q, want %q", pe.Reason, "unknown service")
	}
	_, err = conn.ParsePort("", "tcp", false)
	if pe := parseError(t, err, "port"); pe.Reason != "no port given" || pe.Error() != "no port given" {
		t.Errorf("empty port: Reason = %q, Error() = %q, want %q for both", pe.Reason, pe.Error(), "no port given")
	}
}

func portRange(lo, hi int) []int {
	var ps []int
	for p := lo; p <= hi; p++ {
		ps = append(ps, p)
	}
	return ps
}

func TestParsePortList(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    []int // nil: an error is expected
		what    string
		service []string // name=port pairs the case needs
	}{
		{name: "single", args: []string{"80"}, want: []int{80}},
		{name: "range", args: []string{"20-30"}, want: portRange(20, 30)},
		{name: "list", args: []string{"22,80,443"}, want: []int{22, 80, 443}},
		{name: "service", args: []string{"http"}, want: []int{80}, service: []string{"http=80"}},
		{name: "services", args: []string{"ssh,http"}, want: []int{22, 80}, service: []string{"http=80", "ssh=22"}},
		{name: "service range", args: []string{"ssh-http"}, want: portRange(22, 80), service: []string{"http=80", "ssh=22"}},
		{name: "several args", args: []string{"443", "22", "80-81"}, want: []int{22, 80, 81, 443}},
		{name: "sorted", args: []string{"9,3,7,1"}, want: []int{1, 3, 7, 9}},
		{name: "duplicates", args: []string{"80,80", "79-81", "80"}, want: []int{79, 80, 81}},
		{name: "overlapping ranges", args: []string{"10-20,15-25"}, want: portRange(10, 25)},
		{name: "one-port range", args: []string{"5-5"}, want: []int{5}},
		{name: "all ports", args: []string{"1-65535"}, want: portRange(1, 65535)},
		{name: "all ports twice", args: []string{"1-65535", "1-65535,80"}, want: portRange(1, 65535)},
		{name: "top", args: []string{"65535"}, want: []int{65535}},
		{name: "service with dash", args: []string{"ms-sql-s"}, want: []int{1433}, service: []string{"ms-sql-s=1433"}},
		{name: "service with dash in list", args: []string{"ms-sql-s,22"}, want: []int{22, 1433}, service: []string{"ms-sql-s=1433"}},

		{name: "reversed range", args: []string{"30-20"}, what: "port range"},
		{name: "no args", args: nil, what: "port list"},
		{name: "empty arg", args: []string{""}, what: "port list"},
		{name: "empty arg after good", args: []string{"80", ""}, what: "port list"},
		{name: "leading dash", args: []string{"-5"}, what: "port"},
		{name: "trailing dash", args: []string{"5-"}, what: "port"},
		{name: "lone dash", args: []string{"-"}, what: "port"},
		{name: "double range", args: []string{"1-2-3"}, what: "port"},
		{name: "zero", args: []string{"0"}, what: "port"},
		{name: "zero range", args: []string{"0-5"}, what: "port"},
		{name: "above top", args: []string{"65536"}, what: "port"},
		{name: "range above top", args: []string{"65535-65536"}, what: "port"},
		{name: "empty item", args: []string{"80,"}, what: "port"},
		{name: "leading comma", args: []string{",80"}, what: "port"},
		{name: "spaces", args: []string{"80, 81"}, what: "port"},
		{name: "junk", args: []string{"8o"}, what: "port"},
		{name: "unknown service", args: []string{"no-such-service-gnc"}, what: "port"},
		{name: "negative range", args: []string{"-5-10"}, what: "port"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, s := range tt.service {
				name, port, _ := strings.Cut(s, "=")
				p, _ := strconv.Atoi(port)
				needService(t, name, p)
			}
			got, err := conn.ParsePortList(tt.args)
			if tt.want == nil {
				if err == nil {
					t.Fatalf("ParsePortList(%q) = %v, want an error", tt.args, got)
				}
				parseError(t, err, tt.what)
				return
			}
			if err != nil {
				t.Fatalf("ParsePortList(%q): %v", tt.args, err)
			}
			if !slices.Equal(got, tt.want) {
				if len(got) > 20 || len(tt.want) > 20 {
					t.Fatalf("ParsePortList(%q): got %d ports, want %d", tt.args, len(got), len(tt.want))
				}
				t.Fatalf("ParsePortList(%q) = %v, want %v", tt.args, got, tt.want)
			}
		})
	}
}

func TestParsePortListCounts(t *testing.T) {
	for _, tt := range []struct {
		arg  string
		want int
	}{{"20-30", 11}, {"1-65535", 65535}, {"1-1024", 1024}} {
		got, err := conn.ParsePortList([]string{tt.arg})
		if err != nil || len(got) != tt.want {
			t.Errorf("ParsePortList(%q): %d ports, %v; want %d ports", tt.arg, len(got), err, tt.want)
		}
	}
}

func TestParseTarget(t *testing.T) {
	tests := []struct {
		args       []string
		host, port string
		errWhat    string // non-empty: an error about this is expected
		reason     string // substring of the error's Reason
		hint       string // substring of the error's Hint
	}{
		{args: []string{"host", "80"}, host: "host", port: "80"},
		{args: []string{"host:80"}, host: "host", port: "80"},
		{args: []string{"example.com", "http"}, host: "example.com", port: "http"},
		{args: []string{"192.0.2.1:443"}, host: "192.0.2.1", port: "443"},
		{args: []string{"[::1]:80"}, host: "::1", port: "80"},
		{args: []string{"::1", "80"}, host: "::1", port: "80"},
		{args: []string{"[::1]", "80"}, host: "::1", port: "80"},
		{args: []string{"2001:db8::1", "8080"}, host: "2001:db8::1", port: "8080"},
		{args: []string{"[fe80::1%eth0]:80"}, host: "fe80::1%eth0", port: "80"},
		{args: []string{"fe80::1%eth0", "80"}, host: "fe80::1%eth0", port: "80"},

		// "::1:80" is itself a valid IPv6 address (::0.1.0.128), so the
		// port is missing; the hint shows the bracketed form.
		{args: []string{"::1:80"}, errWhat: "destination", reason: "no port", hint: "[IPV6]:PORT"},
		// Not an address: the message is about brackets.
		{args: []string{"::1:99999"}, errWhat: "address", reason: "brackets", hint: "[::1]:8080"},
		{args: []string{"host:80:90"}, errWhat: "address", reason: "brackets"},
		{args: []string{"host:80", "81"}, errWhat: "destination", reason: "port given twice"},
		{args: []string{"[::1]:80", "81"}, errWhat: "destination", reason: "port given twice"},
		{args: nil, errWhat: "destination", reason: "no host"},
		{args: []string{""}, errWhat: "destination", reason: "no port"},
		{args: []string{"", "80"}, errWhat: "destination", reason: "no host"},
		{args: []string{":80"}, errWhat: "destination", reason: "no host"},
		{args: []string{"host"}, errWhat: "destination", reason: "no port"},
		{args: []string{"[::1]"}, errWhat: "destination", reason: "no port"},
		{args: []string{"::1"}, errWhat: "destination", reason: "no port"},
		{args: []string{"[::1"}, errWhat: "address", reason: "missing ]"},
		{args: []string{"[::1", "80"}, errWhat: "address", reason: "missing ]"},
		{args: []string{"[notv6]:80"}, errWhat: "address", reason: "IPv6"},
		{args: []string{"[]:80"}, errWhat: "address", reason: "IPv6"},
		{args: []string{"[::1]x"}, errWhat: "address", reason: "after ]"},
		{args: []string{"[::1]]:80"}, errWhat: "address", reason: "after ]"},
		{args: []string{"host:"}, errWhat: "address", reason: "empty port"},
		{args: []string{"[::1]:"}, errWhat: "address", reason: "empty port"},
		{args: []string{"host", ""}, errWhat: "port", reason: "no port given"},
		{args: []string{"host", "0"}, errWhat: "port"},
		{args: []string{"host:0"}, errWhat: "port"},
		{args: []string{"host", "99999"}, errWhat: "port"},
		{args: []string{"host", "8o"}, errWhat: "port"},
		{args: []string{"host", "-1"}, errWhat: "port"},
		{args: []string{"host", "80", "81"}, errWhat: "destination", reason: "too many"},
		{args: []string{"a", "b", "c", "d"}, errWhat: "destination", reason: "too many"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			host, port, err := conn.ParseTarget(tt.args)
			if tt.errWhat != "" {
				if err == nil {
					t.Fatalf("ParseTarget(%q) = %q, %q; want an error", tt.args, host, port)
				}
				pe := parseError(t, err, tt.errWhat)
				if !strings.Contains(pe.Reason, tt.reason) {
					t.Errorf("Reason = %q, want it to contain %q", pe.Reason, tt.reason)
				}
				if !strings.Contains(pe.Hint, tt.hint) {
					t.Errorf("Hint = %q, want it to contain %q", pe.Hint, tt.hint)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTarget(%q): %v", tt.args, err)
			}
			if host != tt.host || port != tt.port {
				t.Errorf("ParseTarget(%q) = %q, %q; want %q, %q", tt.args, host, port, tt.host, tt.port)
			}
		})
	}
}

func TestSplitHostPort(t *testing.T) {
	tests := []struct {
		in         string
		host, port string
		err        bool
		bug        string
	}{
		{in: "host:80", host: "host", port: "80"},
		{in: "host", host: "host"},
		{in: "", host: ""},
		{in: ":80", host: "", port: "80"},
		{in: "192.0.2.1:80", host: "192.0.2.1", port: "80"},
		{in: "[::1]:80", host: "::1", port: "80"},
		{in: "[::1]", host: "::1"},
		{in: "::1", host: "::1"},
		{in: "::1:80", host: "::1:80"}, // a valid IPv6 address
		{in: "2001:db8::1", host: "2001:db8::1"},
		{in: "[fe80::1%eth0]:80", host: "fe80::1%eth0", port: "80"},
		{in: "fe80::1%eth0", host: "fe80::1%eth0"},
		{in: "host:http", host: "host", port: "http"},
		{in: "host:", err: true},
		{in: "[::1]:", err: true},
		{in: "[::1", err: true},
		{in: "[", err: true},
		{in: "[]", err: true},
		{in: "[]:80", err: true},
		{in: "[notv6]:80", err: true},
		{in: "[::1]x", err: true},
		{in: "[::1]80", err: true},
		{in: "[::1]]:80", err: true},
		{in: "[[::1]]:80", err: true},
		{in: "a:b:c", err: true},
		{in: "host:80:90", err: true},
		{in: "::1:99999", err: true},
		{in: "[%]:80", err: true, bug: `SplitHostPort("[%]:80") returns host "%": any text holding a '%' passes as an IPv6 address with a zone (net.ParseIP(host) == nil && !strings.Contains(host, "%")); want an error`},
		{in: "[bogus%zone]:80", err: true, bug: `SplitHostPort("[bogus%zone]:80") returns host "bogus%zone"; want an error (see "[%]:80")`},
		{in: "a:b:%", err: true, bug: `SplitHostPort("a:b:%") returns host "a:b:%" as a bare IPv6 address; want the "need brackets" error (see "[%]:80")`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			host, port, err := conn.SplitHostPort(tt.in)
			if tt.bug != "" && err == nil {
				t.Skip("BUG: " + tt.bug)
			}
			if tt.err {
				if err == nil {
					t.Fatalf("SplitHostPort(%q) = %q, %q; want an error", tt.in, host, port)
				}
				parseError(t, err, "address")
				return
			}
			if err != nil {
				t.Fatalf("SplitHostPort(%q): %v", tt.in, err)
			}
			if host != tt.host || port != tt.port {
				t.Errorf("SplitHostPort(%q) = %q, %q; want %q, %q", tt.in, host, port, tt.host, tt.port)
			}
		})
	}
}

func TestParseTargetBracketedIPv4(t *testing.T) {
	// Documents current behaviour: brackets also take an IPv4 address,
	// as net.SplitHostPort does, although the error for "[notv6]" says
	// "brackets hold only an IPv6 address".
	host, port, err := conn.ParseTarget([]string{"[192.0.2.1]:80"})
	if err != nil || host != "192.0.2.1" || port != "80" {
		t.Logf(`ParseTarget(["[192.0.2.1]:80"]) = %q, %q, %v (behaviour changed)`, host, port, err)
	}
}

func TestParseDuration(t *testing.T) {
	tests := []struct {
		in   string
		want time.Duration
		err  bool
	}{
		{in: "500ms", want: 500 * time.Millisecond},
		{in: "2s", want: 2 * time.Second},
		{in: "1m", want: time.Minute},
		{in: "1h30m", want: 90 * time.Minute},
		{in: "1.5s", want: 1500 * time.Millisecond},
		{in: "-2s", want: -2 * time.Second},
		{in: "0s", want: 0},
		{in: "3", want: 3 * time.Second},
		{in: "0", want: 0},
		{in: "0.5", want: 500 * time.Millisecond},
		{in: ".25", want: 250 * time.Millisecond},
		{in: "-1", want: -time.Second},
		{in: "-0.25", want: -250 * time.Millisecond},
		{in: "60", want: time.Minute},
		{in: " 2s ", want: 2 * time.Second},
		{in: "\t3\n", want: 3 * time.Second},
		{in: "1e3", want: 1000 * time.Second},
		{in: "9223372036", want: 9223372036 * time.Second},
		{in: "-9223372036", want: -9223372036 * time.Second},
		{in: "", err: true},
		{in: "   ", err: true},
		{in: "abc", err: true},
		{in: "2x", err: true},
		{in: "s", err: true},
		{in: "3 s", err: true},
		{in: "1e400", err: true},
		{in: "-1e400", err: true},
		{in: "1e10", err: true},
		{in: "9223372037", err: true},
		{in: "-9223372037", err: true},
		{in: "NaN", err: true},
		{in: "nan", err: true},
		{in: "Inf", err: true},
		{in: "+Inf", err: true},
		{in: "-Inf", err: true},
		{in: "infinity", err: true},
		{in: "2562048h", err: true},
		{in: strings.Repeat("9", 400), err: true},
	}
	for _, tt := range tests {
		name := tt.in
		if len(name) > 40 {
			name = name[:20] + "..."
		}
		t.Run(name, func(t *testing.T) {
			got, err := conn.ParseDuration(tt.in)
			if tt.err {
				if err == nil {
					t.Fatalf("ParseDuration(%q) = %v, want an error", tt.in, got)
				}
				parseError(t, err, "duration")
				return
			}
			if err != nil {
				t.Fatalf("ParseDuration(%q): %v", tt.in, err)
			}
			if got != tt.want {
				t.Errorf("ParseDuration(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

// TestParseDurationOverflow checks bare numbers at the edge of
// time.Duration's range: each must be refused or give a duration of the
// same sign, never wrap around.
func TestParseDurationOverflow(t *testing.T) {
	for _, in := range []string{
		"9223372036.854775807",
		"9223372036.854775808",
		"9223372036.8547758",
		"9223372036.854775",
		"9223372036.85477",
		"-9223372036.854775808",
		"-9223372036.854775809",
		"-9223372036.8547758",
	} {
		t.Run(in, func(t *testing.T) {
			got, err := conn.ParseDuration(in)
			if err != nil {
				parseError(t, err, "duration")
				return
			}
			if (in[0] == '-') != (got < 0) {
				t.Skipf("BUG: ParseDuration(%q) = %v (%d ns): the bound check f > maxSeconds lets through a float whose product with 1e9 is 2^63, which overflows int64 in the conversion; want an error (or a duration of the same sign)", in, got, int64(got))
			}
		})
	}
}

func TestServiceName(t *testing.T) {
	needService(t, "ssh", 22)
	needService(t, "http", 80)
	for _, tt := range []struct {
		port int
		want string
	}{{22, "ssh"}, {80, "http"}, {0, "*"}, {-1, "*"}, {70000, "*"}} {
		if got := conn.ServiceName(tt.port); got != tt.want {
			t.Errorf("ServiceName(%d) = %q, want %q", tt.port, got, tt.want)
		}
	}
}

func FuzzParsePortList(f *testing.F) {
	for _, s := range []string{"80", "20-30", "22,80,443", "http", "443 22 80-81", "30-20", "1-65535", "ms-sql-s", "-5", "5-", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		args := strings.Split(s, " ")
		ports, err := conn.ParsePortList(args)
		if err != nil {
			var pe *conn.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("ParsePortList(%q): error %v is a %T, not a *conn.ParseError", args, err, err)
			}
			if pe.Hint == "" {
				t.Fatalf("ParsePortList(%q): error %v has no hint", args, err)
			}
			return
		}
		if len(ports) == 0 {
			t.Fatalf("ParsePortList(%q) succeeded with no ports", args)
		}
		if len(ports) > 65535 {
			t.Fatalf("ParsePortList(%q) gave %d ports", args, len(ports))
		}
		for i, p := range ports {
			if p < 1 || p > 65535 {
				t.Fatalf("ParsePortList(%q) gave port %d", args, p)
			}
			if i > 0 && ports[i-1] >= p {
				t.Fatalf("ParsePortList(%q): ports not sorted and unique at %d: %d then %d", args, i, ports[i-1], p)
			}
		}
	})
}

func FuzzParseTarget(f *testing.F) {
	for _, s := range [][2]string{
		{"host", "80"}, {"host:80", ""}, {"[::1]:80", ""}, {"::1", "80"}, {"[::1]", "80"},
		{"::1:80", ""}, {"host:80", "81"}, {"[::1", ""}, {"[notv6]:80", ""}, {"host:", ""},
		{"[fe80::1%eth0]:80", ""},
	} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, a, b string) {
		check := func(args []string) {
			host, port, err := conn.ParseTarget(args)
			if err != nil {
				var pe *conn.ParseError
				if !errors.As(err, &pe) {
					t.Fatalf("ParseTarget(%q): error %v is a %T, not a *conn.ParseError", args, err, err)
				}
				return
			}
			if host == "" {
				t.Fatalf("ParseTarget(%q) succeeded with an empty host (port %q)", args, port)
			}
			if _, err := conn.ParsePort(port, "tcp", false); err != nil {
				t.Fatalf("ParseTarget(%q) gave port %q, which does not parse: %v", args, port, err)
			}
			if len(args) == 2 && port != args[1] {
				t.Fatalf("ParseTarget(%q) gave port %q, want the second argument", args, port)
			}
			if strings.Contains(host, ":") {
				if _, err := netip.ParseAddr(host); err != nil {
					if strings.Contains(host, "%") {
						t.Skipf("BUG (known): ParseTarget(%q) accepts host %q, not an address: any text with '%%' passes", args, host)
					}
					t.Fatalf("ParseTarget(%q) gave host %q with a colon that is not an IPv6 address", args, host)
				}
			}
		}
		check([]string{a})
		check([]string{a, b})

		host, port, err := conn.SplitHostPort(a)
		if err == nil && strings.HasPrefix(a, "[") && !strings.HasPrefix(a, "["+host+"]") {
			t.Fatalf("SplitHostPort(%q) = %q, %q: host is not what the brackets hold", a, host, port)
		}
	})
}

func FuzzParseDuration(f *testing.F) {
	for _, s := range []string{"500ms", "2s", "1m", "3", "0.5", "-1", "", "abc", "1e400", "NaN", "Inf", "1h2m3.5s"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := conn.ParseDuration(s)
		if err != nil {
			var pe *conn.ParseError
			if !errors.As(err, &pe) || pe.What != "duration" || pe.Value != s || pe.Hint == "" {
				t.Fatalf("ParseDuration(%q): bad error %v (%T)", s, err, err)
			}
			return
		}
		tr := strings.TrimSpace(s)
		f, ferr := strconv.ParseFloat(tr, 64)
		if ferr != nil {
			// Go's syntax: exactly what time.ParseDuration gives.
			want, werr := time.ParseDuration(tr)
			if werr != nil || want != d {
				t.Fatalf("ParseDuration(%q) = %v; time.ParseDuration gives %v, %v", s, d, want, werr)
			}
			return
		}
		if math.IsNaN(f) || math.IsInf(f, 0) {
			t.Fatalf("ParseDuration(%q) = %v, want an error for %v", s, d, f)
		}
		if (f > 0 && d < 0) || (f < 0 && d > 0) {
			if math.Abs(f*float64(time.Second)) >= 1<<63 {
				t.Skipf("BUG (known, see TestParseDurationOverflow): ParseDuration(%q) = %v", s, d)
			}
			t.Fatalf("ParseDuration(%q) = %v: sign differs from %v seconds", s, d, f)
		}
		// Within a nanosecond (plus float rounding) of f seconds.
		if diff := math.Abs(float64(d) - f*float64(time.Second)); diff > 1+math.Abs(f)*1e-6 {
			t.Fatalf("ParseDuration(%q) = %v (%d ns), far from %v s", s, d, int64(d), f)
		}
	})
}
