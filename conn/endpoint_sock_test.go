package conn_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"gnc/conn"
)

// sockKind reports whether s may name a UDP or Unix endpoint, which
// FuzzParseEndpointSock covers (a dialer of these kinds is not a
// TCPDialer, and a listener binds).
func sockKind(s string) bool {
	body, _, _ := strings.Cut(s, ",")
	name, _, _ := strings.Cut(body, ":")
	for _, n := range []string{"udp", "udp-connect", "udp-sendto", "udp-listen", "udp-l", "udp-recvfrom", "unix", "unix-connect", "unix-client", "unix-listen", "unix-l"} {
		if strings.EqualFold(name, n) {
			return true
		}
	}
	return false
}

func FuzzParseEndpointSock(f *testing.F) {
	for _, s := range []string{
		"udp:host:53", "UDP:[::1]:53", "udp:127.0.0.1:domain", "udp:h:syslog,bind=127.0.0.1:0", "udp:h:1,ipv4,ipv6",
		"udp:h", "udp::53", "udp:h:0", "udp-sendto:h:9,bind=[::1]", "udp:h:1,timeout=1s",
		"unix:/tmp/x.sock", "unix:@abstract", "unix:", "unix:@", "unix-connect:/a/b,timeout=2s", "unix:/x,mode=0600",
		"unix-listen:/tmp/x", "udp-listen:53", "unix-l:@x,mode=0660",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if !sockKind(s) {
			t.Skip("FuzzParseEndpoint covers it")
		}
		if l := strings.ToLower(s); strings.Contains(l, "-l") || strings.Contains(l, "-recvfrom") {
			t.Skip("would bind a socket")
		}
		ctx, cancel := context.WithCancel(context.Background())
		cancel() // nothing may need the network
		e, err := conn.ParseEndpoint(ctx, s, conn.Defaults{})
		if err != nil {
			if e != nil {
				e.Close()
				t.Fatalf("ParseEndpoint(%q) returned both %T and %v", s, e, err)
			}
			if err.Error() == "" {
				t.Fatalf("ParseEndpoint(%q): empty error message", s)
			}
			var pe *conn.ParseError
			if errors.As(err, &pe) && (pe.What != "endpoint" || pe.Value != s || pe.Hint == "") {
				t.Fatalf("ParseEndpoint(%q): ParseError %+v: want What endpoint, Value the input and a hint", s, pe)
			}
			return
		}
		defer e.Close()
		switch d := e.(type) {
		case *conn.UDPDialer:
			if d.Host == "" || d.Port < 1 || d.Port > 65535 || d.SourcePort < 0 || d.SourcePort > 65535 {
				t.Fatalf("ParseEndpoint(%q) = %+v: bad host or port", s, d)
			}
			if h, p, proto := d.Target(); h != d.Host || p != d.Port || proto != "udp" {
				t.Fatalf("Target() = %q %d %q", h, p, proto)
			}
		case *conn.UnixDialer:
			if d.Path == "" || d.Path == "@" || d.Datagram {
				t.Fatalf("ParseEndpoint(%q) = %+v", s, d)
			}
			if !strings.HasPrefix(d.String(), "unix:") {
				t.Fatalf("String() = %q", d.String())
			}
		default:
			t.Fatalf("ParseEndpoint(%q) = %T, want a UDP or Unix dialer", s, e)
		}
	})
}

// TestParseEndpointSock checks the forms and their mistakes.
func TestParseEndpointSock(t *testing.T) {
	dir := t.TempDir()
	ok := []struct {
		in   string
		want string // the endpoint's String
	}{
		{"udp:127.0.0.1:53", "udp:127.0.0.1:53"},
		{"udp:[::1]:9,bind=[::1]:0", "udp:[::1]:9"},
		{"unix:" + dir + "/x.sock", "unix:" + dir + "/x.sock"},
		{"unix-listen:" + dir + "/l.sock,mode=0600,unlink", "unix-listen:" + dir + "/l.sock"},
		{"udp-listen:127.0.0.1:0", "udp-listen:127.0.0.1:0"},
	}
	for _, tt := range ok {
		e, err := conn.ParseEndpoint(context.Background(), tt.in, conn.Defaults{})
		if err != nil {
			t.Errorf("ParseEndpoint(%q): %v", tt.in, err)
			continue
		}
		if e.String() != tt.want {
			t.Errorf("ParseEndpoint(%q).String() = %q, want %q", tt.in, e.String(), tt.want)
		}
		e.Close()
	}
	bad := []struct{ in, reason string }{
		{"udp:host", "need both a host and a port"},
		{"udp:h:1,keepalive=1s", `unknown option "keepalive"`},
		{"udp:h:1,ipv4,ipv6", "exclude each other"},
		{"udp-listen:", "need a port"},
		{"unix:", "need a path"},
		{"unix-listen:" + dir + "/m.sock,mode=999", "octal"},
		{"unix-listen:" + dir + "/m.sock,mode=0", "octal"},
		{"unix-listen:@x,mode=0600", "no mode"},
		{"unix:@", "needs a name"},
	}
	for _, tt := range bad {
		_, err := conn.ParseEndpoint(context.Background(), tt.in, conn.Defaults{})
		var pe *conn.ParseError
		if !errors.As(err, &pe) || !strings.Contains(pe.Reason, tt.reason) || pe.Value != tt.in || pe.Hint == "" {
			t.Errorf("ParseEndpoint(%q) = %v, want a ParseError about %q", tt.in, err, tt.reason)
		}
	}
}
