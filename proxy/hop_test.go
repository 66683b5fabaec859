package proxy

import (
	"errors"
	"strings"
	"testing"
)

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Hop
	}{
		{"socks5://127.0.0.1", Hop{Kind: SOCKS5, Addr: "127.0.0.1:1080"}},
		{"socks5h://proxy.example:9050", Hop{Kind: SOCKS5h, Addr: "proxy.example:9050"}},
		{"SOCKS5H://proxy.example:9050/", Hop{Kind: SOCKS5h, Addr: "proxy.example:9050"}},
		{"socks4://10.0.0.1:1081", Hop{Kind: SOCKS4, Addr: "10.0.0.1:1081"}},
		{"socks4a://[::1]", Hop{Kind: SOCKS4a, Addr: "[::1]:1080"}},
		{"http://proxy", Hop{Kind: HTTP, Addr: "proxy:3128"}},
		{"http://[2001:db8::1]:8080", Hop{Kind: HTTP, Addr: "[2001:db8::1]:8080"}},
		{"http://" + testUser + ":" + testPass + "@proxy:8080", Hop{Kind: HTTP, Addr: "proxy:8080", User: testUser, Pass: testPass}},
		{"socks5h://" + testUser + ":" + testPass + "@h", Hop{Kind: SOCKS5h, Addr: "h:1080", User: testUser, Pass: testPass}},
		{"socks5://u%40x:p%3Aa%2Fs%23s%25@h", Hop{Kind: SOCKS5, Addr: "h:1080", User: "u@x", Pass: "p:a/s#s%"}},
		{"socks4://" + testUser + "@h", Hop{Kind: SOCKS4, Addr: "h:1080", User: testUser}},
		{"http://:" + testPass + "@h", Hop{Kind: HTTP, Addr: "h:3128", Pass: testPass}},
	} {
		got, err := ParseURL(tc.in)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", Redact(tc.in), clean(t, err))
			continue
		}
		if got != tc.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", Redact(tc.in), got, tc.want)
		}
	}
}

func TestParseURLErrors(t *testing.T) {
	for _, tc := range []struct {
		in, text string
	}{
		{"127.0.0.1:1080", `invalid proxy URL "127.0.0.1:1080": no scheme`},
		{"ftp://h", `invalid proxy URL "ftp://h": unknown scheme "ftp"`},
		{"https://h", `invalid proxy URL "https://h": HTTPS proxies (TLS to the proxy) are not supported`},
		{"socks5://", `invalid proxy URL "socks5://": no host`},
		{"socks5://h:", `invalid proxy URL "socks5://h:": no port after ':'`},
		{"socks5://h:0", `invalid proxy URL "socks5://h:0": a port is a number from 1 to 65535`},
		{"socks5://h:65536", `invalid proxy URL "socks5://h:65536": a port is a number from 1 to 65535`},
		{"socks5://h:socks", `invalid proxy URL "socks5://h:socks": a port is a number from 1 to 65535`},
		{"socks5://h/x", `invalid proxy URL "socks5://h/x": a proxy URL has no path, query or fragment`},
		{"socks5://h?x=1", `invalid proxy URL "socks5://h?x=1": a proxy URL has no path, query or fragment`},
		{"socks5://::1", `invalid proxy URL "socks5://::1": an IPv6 address in a URL goes in brackets, as in [::1]:1080`},
		{"socks5://[::1", `invalid proxy URL "socks5://[::1": missing ']' after an IPv6 address`},
		{"socks5://[1.2.3.4]", `invalid proxy URL "socks5://[1.2.3.4]": not an IPv6 address in brackets`},
		{"socks5://h x", `invalid proxy URL "socks5://h x": not a host name or address`},
		{"socks5://a..b", `invalid proxy URL "socks5://a..b": not a host name or address`},
		// Credentials never appear, however the URL is broken.
		{"socks5://" + testUser + ":" + testPass + "@h:99999", `invalid proxy URL "socks5://***@h:99999": a port is a number from 1 to 65535`},
		{"socks5://" + testUser + ":" + testPass + "/x@h", `invalid proxy URL "socks5://***@h": a proxy URL has no path, query or fragment`},
		{"http://" + testUser + ":" + testPass + "?#@h", `invalid proxy URL "http://***@h": a proxy URL has no path, query or fragment`},
		{"socks5://" + testUser + ":%zz" + testPass + "@h", `invalid proxy URL "socks5://***@h": bad percent-encoding in the credentials`},
		{"socks4://" + testUser + ":" + testPass + "@h", `invalid proxy URL "socks4://***@h": SOCKS4 has no password, only a user id`},
		{"socks5://:" + testPass + "@h", `invalid proxy URL "socks5://***@h": a SOCKS5 user name is 1 to 255 bytes`},
		{"socks5://" + strings.Repeat("u", 256) + ":p@h", `invalid proxy URL "socks5://***@h": a SOCKS5 user name is 1 to 255 bytes`},
		{testUser + ":" + testPass + "@socks5://h", `invalid proxy URL "***@socks5://h": no scheme`},
	} {
		_, err := ParseURL(tc.in)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseURL(%q): got %v, want a *ParseError", Redact(tc.in), err)
			continue
		}
		if got := clean(t, err); got != tc.text {
			t.Errorf("ParseURL(%q):\n got %s\nwant %s", Redact(tc.in), got, tc.text)
		}
		if pe.Hint == "" {
			t.Errorf("ParseURL(%q): no hint", Redact(tc.in))
		}
	}
}

func TestParseHop(t *testing.T) {
	for _, tc := range []struct {
		in, typ string
		want    Hop
	}{
		{"127.0.0.1", "", Hop{Kind: SOCKS5, Addr: "127.0.0.1:1080"}},
		{"127.0.0.1:9050", "5", Hop{Kind: SOCKS5, Addr: "127.0.0.1:9050"}},
		{"h", "4", Hop{Kind: SOCKS4, Addr: "h:1080"}},
		{"h", "connect", Hop{Kind: HTTP, Addr: "h:3128"}},
		{"h:8080", "http", Hop{Kind: HTTP, Addr: "h:8080"}},
		{"h", "socks4", Hop{Kind: SOCKS4, Addr: "h:1080"}},
		{"h", "SOCKS5", Hop{Kind: SOCKS5, Addr: "h:1080"}},
		{"h", "socks4a", Hop{Kind: SOCKS4a, Addr: "h:1080"}},
		{"h", "socks5h", Hop{Kind: SOCKS5h, Addr: "h:1080"}},
		{"::1", "5", Hop{Kind: SOCKS5, Addr: "[::1]:1080"}},
		{"[::1]:1081", "5", Hop{Kind: SOCKS5, Addr: "[::1]:1081"}},
		{"socks5h://h", "", Hop{Kind: SOCKS5h, Addr: "h:1080"}},
		{"socks5h://h", "5", Hop{Kind: SOCKS5h, Addr: "h:1080"}},
		{"http://h", "connect", Hop{Kind: HTTP, Addr: "h:3128"}},
	} {
		got, err := ParseHop(tc.in, tc.typ)
		if err != nil {
			t.Errorf("ParseHop(%q, %q): %v", tc.in, tc.typ, clean(t, err))
			continue
		}
		if got != tc.want {
			t.Errorf("ParseHop(%q, %q) = %+v, want %+v", tc.in, tc.typ, got, tc.want)
		}
	}
	for _, tc := range []struct {
		in, typ, text string
	}{
		{"h", "6", `invalid proxy type "6"`},
		{"h", "https", `invalid proxy type "https"`},
		{"h:x", "5", `invalid proxy "h:x": a port is a number from 1 to 65535`},
		{"", "5", `no proxy given`},
		{"::1:http", "5", `invalid proxy "::1:http": an IPv6 address with a port goes in brackets, as in [::1]:1080`},
		{"socks5://h", "http", `invalid proxy "socks5://h": the URL says socks5 but the proxy type says http`},
		{"socks5://h", "4", `invalid proxy "socks5://h": the URL says socks5 but the proxy type says socks4`},
		{testUser + ":" + testPass + "@h", "5", `invalid proxy "***@h": a bare proxy address cannot carry credentials`},
		{"http://" + testUser + ":" + testPass + "@h", "5", `invalid proxy "http://***@h": the URL says http but the proxy type says socks5`},
	} {
		_, err := ParseHop(tc.in, tc.typ)
		var pe *ParseError
		if !errors.As(err, &pe) {
			t.Errorf("ParseHop(%q, %q): got %v, want a *ParseError", Redact(tc.in), tc.typ, err)
			continue
		}
		if got := clean(t, err); got != tc.text {
			t.Errorf("ParseHop(%q, %q):\n got %s\nwant %s", Redact(tc.in), tc.typ, got, tc.text)
		}
		if pe.Hint == "" {
			t.Errorf("ParseHop(%q, %q): no hint", Redact(tc.in), tc.typ)
		}
	}
}

func TestHopString(t *testing.T) {
	h := Hop{Kind: SOCKS5h, Addr: "127.0.0.1:1080"}
	if got := h.String(); got != "socks5h://127.0.0.1:1080" {
		t.Errorf("String = %q", got)
	}
	h, err := h.WithAuth(testUser, testPass)
	if err != nil {
		t.Fatal(err)
	}
	if got := h.String(); got != "socks5h://127.0.0.1:1080 (with credentials)" {
		t.Errorf("String = %q", got)
	}
	if DefaultPort(SOCKS4a) != 1080 || DefaultPort(HTTP) != 3128 || DefaultPort(0) != 0 {
		t.Error("DefaultPort")
	}
	for k, want := range map[Kind]bool{SOCKS4: false, SOCKS4a: true, SOCKS5: false, SOCKS5h: true, HTTP: true} {
		if k.RemoteDNS() != want {
			t.Errorf("%v.RemoteDNS() = %v", k, !want)
		}
	}
	if Kind(9).String() != "kind(9)" {
		t.Error(Kind(9).String())
	}
}

func TestWithAuth(t *testing.T) {
	for _, tc := range []struct {
		kind       Kind
		user, pass string
		text       string
	}{
		{SOCKS4, testUser, testPass, "SOCKS4 has no password, only a user id"},
		{SOCKS4, testUser + "\x00", "", "a SOCKS4 user id is at most 255 bytes, without NUL"},
		{SOCKS5, "", testPass, "a SOCKS5 user name is 1 to 255 bytes"},
		{SOCKS5h, testUser, strings.Repeat("p", 256), "a SOCKS5 password is at most 255 bytes"},
		{HTTP, testUser + ":x", testPass, "an HTTP Basic user name cannot contain ':'"},
	} {
		_, err := Hop{Kind: tc.kind, Addr: "h:1"}.WithAuth(tc.user, tc.pass)
		if got := clean(t, err); got != tc.text {
			t.Errorf("%v.WithAuth: got %q, want %q", tc.kind, got, tc.text)
		}
	}
	for _, k := range []Kind{SOCKS4, SOCKS4a} {
		if _, err := (Hop{Kind: k, Addr: "h:1"}).WithAuth(testUser, ""); err != nil {
			t.Errorf("%v user id: %v", k, err)
		}
	}
	u, p, err := ParseUserPass(testUser + ":" + testPass + ":x")
	if err != nil || u != testUser || p != testPass+":x" {
		t.Errorf("ParseUserPass: %q %q %v", u, p, err)
	}
	u, p, err = ParseUserPass(testUser)
	if err != nil || u != testUser || p != "" {
		t.Errorf("ParseUserPass: %q %q %v", u, p, err)
	}
	if _, _, err := ParseUserPass(":" + testPass); clean(t, err) != "credentials need a user name before the ':'" {
		t.Errorf("ParseUserPass(:pass): %v", err)
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"socks5://h":          "socks5://h",
		"socks5://u:p@h":      "socks5://***@h",
		"socks5://u:p@x@h":    "socks5://***@h",
		"u:p@h":               "***@h",
		"sch eme://u@h":       "***@h",
		"http://u:p/@h:1/x/y": "http://***@h:1/x/y",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestFromEnvironment(t *testing.T) {
	env := func(m map[string]string) func(string) string {
		return func(k string) string { return m[k] }
	}
	for _, tc := range []struct {
		env  map[string]string
		host string
		tls  bool
		want string // Hop.String, or "" for direct
	}{
		{map[string]string{}, "example.com", false, ""},
		{map[string]string{"ALL_PROXY": "socks5h://p:1"}, "example.com", false, "socks5h://p:1"},
		{map[string]string{"all_proxy": "socks5h://p:1"}, "example.com", false, "socks5h://p:1"},
		{map[string]string{"ALL_PROXY": "p:8080"}, "example.com", false, "http://p:8080"},
		{map[string]string{"HTTPS_PROXY": "http://p:1"}, "example.com", false, ""},
		{map[string]string{"HTTPS_PROXY": "http://p:1"}, "example.com", true, "http://p:1"},
		{map[string]string{"https_proxy": "http://p:1"}, "example.com", true, "http://p:1"},
		{map[string]string{"ALL_PROXY": "socks5://a:1", "HTTPS_PROXY": "http://p:1"}, "example.com", true, "socks5://a:1"},
		{map[string]string{"ALL_PROXY": "socks5://a:1", "NO_PROXY": "example.com"}, "example.com", false, ""},
		{map[string]string{"ALL_PROXY": "socks5://a:1", "no_proxy": ".example.com"}, "www.example.com", false, ""},
		{map[string]string{"ALL_PROXY": "socks5://a:1", "NO_PROXY": "example.com"}, "notexample.com", false, "socks5://a:1"},
		{map[string]string{"ALL_PROXY": "socks5://a:1", "NO_PROXY": "10.0.0.0/8,localhost"}, "10.1.2.3", false, ""},
		{map[string]string{"ALL_PROXY": "socks5://" + testUser + ":" + testPass + "@a:1"}, "h", false, "socks5://a:1 (with credentials)"},
	} {
		h, ok, err := FromEnvironment(env(tc.env), tc.host, tc.tls)
		if err != nil {
			t.Errorf("%v: %v", tc.env, clean(t, err))
			continue
		}
		got := ""
		if ok {
			got = h.String()
		}
		if got != tc.want {
			t.Errorf("%v %s tls=%v: got %q, want %q", tc.env, tc.host, tc.tls, got, tc.want)
		}
	}
	_, _, err := FromEnvironment(env(map[string]string{"ALL_PROXY": "socks5://" + testUser + ":" + testPass + "@a:x"}), "h", false)
	if got := clean(t, err); got != `invalid proxy URL in ALL_PROXY "socks5://***@a:x": a port is a number from 1 to 65535` {
		t.Errorf("malformed ALL_PROXY: %s", got)
	}
}

func TestNoProxy(t *testing.T) {
	for _, tc := range []struct {
		list, host string
		want       bool
	}{
		{"", "h", false},
		{"*", "anything", true},
		{"example.com", "EXAMPLE.com.", true},
		{"example.com", "a.example.com", true},
		{".example.com", "example.com", true},
		{"*.example.com", "a.b.example.com", true},
		{"example.com", "badexample.com", false},
		{"a, b  c", "c", true},
		{"example.com:443", "example.com", true},
		{"192.168.0.0/16", "192.168.7.7", true},
		{"192.168.0.0/16", "10.0.0.1", false},
		{"::1", "[::1]", true},
		{"127.0.0.1", "127.0.0.1", true},
		{"127.0.0.1", "127.0.0.2", false},
	} {
		if got := NoProxy(tc.list, tc.host); got != tc.want {
			t.Errorf("NoProxy(%q, %q) = %v", tc.list, tc.host, got)
		}
	}
}
