package conn_test

import (
	"errors"
	"io/fs"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gnc/conn"
)

func TestParsePrefix(t *testing.T) {
	tests := []struct {
		in   string
		want string // empty: an error is expected
		what string // the error's What
	}{
		{in: "10.0.0.0/8", want: "10.0.0.0/8"},
		{in: "10.1.2.3/8", want: "10.0.0.0/8"}, // masked
		{in: "192.0.2.7/32", want: "192.0.2.7/32"},
		{in: "0.0.0.0/0", want: "0.0.0.0/0"},
		{in: "192.0.2.7", want: "192.0.2.7/32"},
		{in: " 192.0.2.7\t", want: "192.0.2.7/32"},
		{in: " 10.0.0.0/8 ", want: "10.0.0.0/8"},
		{in: "::1", want: "::1/128"},
		{in: "::1/128", want: "::1/128"},
		{in: "::/0", want: "::/0"},
		{in: "2001:db8::/32", want: "2001:db8::/32"},
		{in: "2001:db8::1/32", want: "2001:db8::/32"},
		{in: "2001:DB8::1", want: "2001:db8::1/128"},
		{in: "fe80::1%eth0", want: "fe80::1/128"}, // the zone is dropped
		// IPv4-mapped IPv6 is plain IPv4.
		{in: "::ffff:10.0.0.1", want: "10.0.0.1/32"},
		{in: "::ffff:a00:1", want: "10.0.0.1/32"},
		{in: "::ffff:10.0.0.0/104", want: "10.0.0.0/8"},
		{in: "::ffff:10.1.2.3/104", want: "10.0.0.0/8"},
		{in: "::ffff:10.0.0.1/128", want: "10.0.0.1/32"},
		{in: "::ffff:0.0.0.0/96", want: "0.0.0.0/0"},

		{in: "", what: "address"},
		{in: "   ", what: "address"},
		{in: "bogus", what: "address"},
		{in: "example.com", what: "address"},
		{in: "10.0.0.256", what: "address"},
		{in: "010.0.0.1", what: "address"},
		{in: "10.0.0", what: "address"},
		{in: "10.0.0.1:80", what: "address"},
		{in: "[::1]", what: "address"},
		{in: "10.0.0.0-10.0.0.9", what: "address"},
		{in: "10.0.0.0/33", what: "CIDR"},
		{in: "10.0.0.0/-1", what: "CIDR"},
		{in: "10.0.0.0/", what: "CIDR"},
		{in: "/8", what: "CIDR"},
		{in: "/", what: "CIDR"},
		{in: "10.0.0.0/8/8", what: "CIDR"},
		{in: "10.0.0.0 /8", what: "CIDR"},
		{in: "10.0.0.0/08", what: "CIDR"},
		{in: "10.0.0.0/255.0.0.0", what: "CIDR"},
		{in: "::1/129", what: "CIDR"},
		{in: "::ffff:0:0/95", what: "CIDR"}, // wider than all of IPv4
		{in: "fe80::1%eth0/64", what: "CIDR"},
		{in: "bogus/8", what: "CIDR"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := conn.ParsePrefix(tt.in)
			if tt.want == "" {
				if err == nil {
					t.Fatalf("ParsePrefix(%q) = %v, want an error", tt.in, got)
				}
				pe := parseError(t, err, tt.what)
				if pe.Value != tt.in {
					t.Errorf("Value = %q, want %q", pe.Value, tt.in)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParsePrefix(%q): %v", tt.in, err)
			}
			if want := netip.MustParsePrefix(tt.want); got != want {
				t.Errorf("ParsePrefix(%q) = %v, want %v", tt.in, got, want)
			}
		})
	}
}

func tcpAddr(s string) *net.TCPAddr {
	return &net.TCPAddr{IP: net.ParseIP(s), Port: 40000}
}

func TestACLCheck(t *testing.T) {
	type probe struct {
		addr net.Addr
		ok   bool
	}
	v4 := func(s string, ok bool) probe { return probe{tcpAddr(s), ok} }
	tests := []struct {
		name        string
		allow, deny []string
		probes      []probe
	}{
		{
			name: "no rules",
			probes: []probe{
				v4("10.0.0.1", true), v4("::1", true),
				{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, true}, {nil, true},
			},
		},
		{
			name:  "allow only",
			allow: []string{"10.0.0.0/8", "192.0.2.7", "2001:db8::/32"},
			probes: []probe{
				v4("10.0.0.1", true), v4("10.255.255.255", true), v4("11.0.0.1", false),
				v4("192.0.2.7", true), v4("192.0.2.8", false),
				v4("2001:db8::5", true), v4("2001:db9::5", false), v4("::1", false),
				v4("::ffff:10.0.0.1", true),                            // IPv4-mapped
				{&net.TCPAddr{IP: net.IP{10, 1, 2, 3}}, true},          // 4-byte form
				{&net.TCPAddr{IP: net.IPv4(10, 1, 2, 3).To16()}, true}, // 16-byte form
				{&net.TCPAddr{IP: net.ParseIP("2001:db8::1"), Zone: "eth0"}, true},
			},
		},
		{
			name: "deny only",
			deny: []string{"10.0.0.0/8", "::1"},
			probes: []probe{
				v4("10.0.0.1", false), v4("::ffff:10.9.9.9", false), v4("11.0.0.1", true),
				v4("::1", false), v4("::2", true), v4("127.0.0.1", true),
			},
		},
		{
			name:  "deny wins",
			allow: []string{"10.0.0.0/8"},
			deny:  []string{"10.0.0.5", "10.1.0.0/16"},
			probes: []probe{
				v4("10.0.0.5", false), v4("10.0.0.6", true), v4("10.1.2.3", false),
				v4("10.2.0.1", true), v4("192.0.2.1", false),
			},
		},
		{
			name:  "mapped rule matches IPv4 clients",
			allow: []string{"::ffff:10.0.0.0/104", "::ffff:192.0.2.1"},
			probes: []probe{
				v4("10.3.3.3", true), v4("::ffff:10.3.3.3", true), v4("192.0.2.1", true),
				v4("192.0.2.2", false), v4("::a03:303", false),
			},
		},
		{
			name:  "IPv6 any does not cover IPv4",
			allow: []string{"::/0"},
			probes: []probe{
				v4("::1", true), v4("2001:db8::1", true), v4("10.0.0.1", false),
			},
		},
		{
			name:  "non-IP addresses are refused when rules are set, but Unix and UDP clients are not",
			allow: []string{"0.0.0.0/0", "::/0"},
			probes: []probe{
				v4("10.0.0.1", true),
				{&net.UnixAddr{Name: "/tmp/x", Net: "unix"}, true}, // admitted by the file's permissions
				{nil, false},
				{&net.TCPAddr{}, false},
				{&net.TCPAddr{IP: net.IP{1, 2, 3}}, false},
				{&net.UDPAddr{IP: net.IPv4(10, 0, 0, 1)}, true},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, err := conn.NewACL(tt.allow, tt.deny, nil, nil)
			if err != nil {
				t.Fatalf("NewACL(%q, %q): %v", tt.allow, tt.deny, err)
			}
			for _, p := range tt.probes {
				err := a.Check(p.addr)
				if p.ok && err != nil {
					t.Errorf("Check(%v) = %v, want admitted", p.addr, err)
				}
				if !p.ok && err == nil {
					t.Errorf("Check(%v) admitted, want refused", p.addr)
				}
			}
		})
	}
}

func TestACLNilAndZero(t *testing.T) {
	var a *conn.ACL
	for _, addr := range []net.Addr{tcpAddr("10.0.0.1"), tcpAddr("::1"), nil, &net.UnixAddr{Name: "x"}} {
		if err := a.Check(addr); err != nil {
			t.Errorf("nil ACL: Check(%v) = %v", addr, err)
		}
		if err := (&conn.ACL{}).Check(addr); err != nil {
			t.Errorf("zero ACL: Check(%v) = %v", addr, err)
		}
	}
}

func TestACLMessages(t *testing.T) {
	a, err := conn.NewACL([]string{"10.0.0.0/8"}, []string{"10.0.0.5"}, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := a.Check(tcpAddr("::ffff:10.0.0.5")); err == nil || !strings.Contains(err.Error(), "10.0.0.5") || strings.Contains(err.Error(), "::ffff") {
		t.Errorf("denied mapped client: error %v, want it to name 10.0.0.5 unmapped", err)
	}
	if err := a.Check(tcpAddr("192.0.2.1")); err == nil || !strings.Contains(err.Error(), "192.0.2.1") {
		t.Errorf("unlisted client: error %v, want it to name 192.0.2.1", err)
	}
}

func writeFile(t *testing.T, dir, name, text string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestACLFiles(t *testing.T) {
	dir := t.TempDir()
	allow := writeFile(t, dir, "allow", "# clients\n\n10.0.0.0/8   # office\n  192.0.2.7\n\t\n::ffff:198.51.100.0/120\r\n2001:db8::/32#v6\n")
	deny := writeFile(t, dir, "deny", "10.0.0.13\n#10.0.0.14\n")
	empty := writeFile(t, dir, "empty", "")
	comments := writeFile(t, dir, "comments", "# nothing\n   # at all\n\n")

	a, err := conn.NewACL(nil, []string{"10.0.0.66"}, []string{allow, empty}, []string{deny, comments})
	if err != nil {
		t.Fatalf("NewACL: %v", err)
	}
	for _, tt := range []struct {
		ip string
		ok bool
	}{
		{"10.0.0.1", true}, {"10.0.0.13", false}, {"10.0.0.14", true}, {"10.0.0.66", false},
		{"192.0.2.7", true}, {"192.0.2.8", false}, {"198.51.100.9", true}, {"198.51.101.9", false},
		{"2001:db8::1", true}, {"::1", false}, {"::ffff:10.0.0.13", false},
	} {
		err := a.Check(tcpAddr(tt.ip))
		if tt.ok != (err == nil) {
			t.Errorf("Check(%s) = %v, want admitted %v", tt.ip, err, tt.ok)
		}
	}

	// Only comments and blank lines: no rule at all.
	a, err = conn.NewACL(nil, nil, []string{comments, empty}, []string{comments})
	if err != nil {
		t.Fatalf("NewACL(comments only): %v", err)
	}
	if err := a.Check(tcpAddr("203.0.113.1")); err != nil {
		t.Errorf("rules from comment-only files: Check = %v, want admitted", err)
	}
}

func TestACLErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad", "10.0.0.0/8\n\n# comment\n   \nnot-an-address # oops\n192.0.2.1\n")
	badCIDR := writeFile(t, dir, "badcidr", "10.0.0.0/33\n")
	long := writeFile(t, dir, "long", strings.Repeat("1", 70000)+"\n")
	missing := filepath.Join(dir, "missing")

	t.Run("bad line", func(t *testing.T) {
		for _, files := range [][2][]string{{{bad}, nil}, {nil, {bad}}} {
			_, err := conn.NewACL(nil, nil, files[0], files[1])
			if err == nil {
				t.Fatal("NewACL with a bad line succeeded")
			}
			if want := bad + ":5:"; !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "--") {
				t.Errorf("error %q, want it to name the flag and %q", err, want)
			}
			pe := parseError(t, err, "address")
			if pe.Value != "not-an-address " {
				t.Errorf("Value = %q, want %q", pe.Value, "not-an-address ")
			}
		}
	})
	t.Run("bad CIDR", func(t *testing.T) {
		_, err := conn.NewACL(nil, nil, []string{badCIDR}, nil)
		if err == nil || err.Error() != "--allow-file "+badCIDR+`:1: invalid CIDR "10.0.0.0/33"` {
			t.Fatalf("error %v, want --allow-file %s:1: invalid CIDR ...", err, badCIDR)
		}
		parseError(t, err, "CIDR")
	})
	t.Run("missing file", func(t *testing.T) {
		_, err := conn.NewACL(nil, nil, nil, []string{missing})
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("error %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("line too long", func(t *testing.T) {
		_, err := conn.NewACL(nil, nil, []string{long}, nil)
		if err == nil || !strings.Contains(err.Error(), long) {
			t.Fatalf("error %v, want one naming %s", err, long)
		}
	})
	t.Run("directory", func(t *testing.T) {
		if _, err := conn.NewACL(nil, nil, []string{dir}, nil); err == nil {
			t.Fatal("NewACL with a directory as a file succeeded")
		}
	})
	for _, tt := range []struct {
		allow, deny []string
		what        string
	}{
		{allow: []string{"10.0.0.0/8", "bogus"}, what: "address"},
		{deny: []string{"10.0.0.0/33"}, what: "CIDR"},
		{allow: []string{""}, what: "address"},
	} {
		_, err := conn.NewACL(tt.allow, tt.deny, nil, nil)
		if err == nil {
			t.Errorf("NewACL(%q, %q) succeeded", tt.allow, tt.deny)
			continue
		}
		parseError(t, err, tt.what)
	}
}

func FuzzParsePrefix(f *testing.F) {
	for _, s := range []string{"10.0.0.0/8", "192.0.2.7", "::1", "2001:db8::1/32", "::ffff:10.0.0.1", "::ffff:10.0.0.0/104", "::ffff:0:0/95", "fe80::1%eth0", "bogus", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := conn.ParsePrefix(s)
		if err != nil {
			var pe *conn.ParseError
			if !errors.As(err, &pe) || pe.Value != s || pe.Hint == "" {
				t.Fatalf("ParsePrefix(%q): bad error %v (%T)", s, err, err)
			}
			return
		}
		if !p.IsValid() {
			t.Fatalf("ParsePrefix(%q) = invalid prefix %v", s, p)
		}
		if p != p.Masked() {
			t.Fatalf("ParsePrefix(%q) = %v, not masked", s, p)
		}
		if p.Addr().Is4In6() || p.Addr().Zone() != "" {
			t.Fatalf("ParsePrefix(%q) = %v: mapped or zoned", s, p)
		}
		if !strings.Contains(s, "/") && p.Bits() != p.Addr().BitLen() {
			t.Fatalf("ParsePrefix(%q) = %v: a single address must be a full-length prefix", s, p)
		}
		q, err := conn.ParsePrefix(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePrefix(%q) = %v, which parses back as %v, %v", s, p, q, err)
		}
		if !p.Contains(p.Addr()) {
			t.Fatalf("ParsePrefix(%q) = %v does not contain its own address", s, p)
		}
	})
}
