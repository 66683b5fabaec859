//go:build linux

package main

import (
	"bufio"
	"encoding/binary"
	"gnc/internal/testnet"
	"io"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"gnc/internal/testca"
)

// proxyServer runs "gnc relay -v [extra...] listen:127.0.0.1:0 SPEC" and
// returns it with its address.
func proxyServer(t *testing.T, spec string, extra ...string) (*proc, string) {
	t.Helper()
	p, port := startRelay(t, append(extra, "listen:127.0.0.1:0", spec)...)
	return p, "127.0.0.1:" + port
}

// replyServer answers every connection once its request has ended (a
// half-close): "reply to " and the request, then it closes. A reply
// arrives only if the half-close crossed every hop.
func replyServer(t *testing.T) string {
	t.Helper()
	addr := testnet.ServeEach(t, func(c *net.TCPConn) {
		c.SetDeadline(time.Now().Add(30 * time.Second))
		req, _ := io.ReadAll(c)
		c.Write(append([]byte("reply to "), req...))
	})
	_, port, _ := net.SplitHostPort(addr)
	return port
}

// wantFail runs gnc, which must fail with status and print a line
// matching line (and, if hint is not empty, a hint containing it).
func wantFail(t *testing.T, o opts, status int, line, hint string, args ...string) string {
	t.Helper()
	out, stderr, st := runGNC(t, o, args...)
	ok := st == status && regexp.MustCompile(`(?m)`+line).MatchString(stderr)
	if hint != "" {
		found := false
		for _, l := range strings.Split(stderr, "\n") {
			found = found || strings.HasPrefix(l, "gnc: hint: ") && strings.Contains(l, hint)
		}
		ok = ok && found
	}
	if !ok {
		t.Fatalf("gnc %s: exit %d (want %d), out %q, stderr:\n%s\nwant a line matching %q and a hint with %q", strings.Join(args, " "), st, status, out, stderr, line, hint)
	}
	return stderr
}

// TestProxyKinds: gnc's client through gnc's proxy server in every
// protocol, with credentials in the URL, from --proxy-auth and from -P,
// each a request, a half-close and a late reply.
func TestProxyKinds(t *testing.T) {
	target := replyServer(t)
	_, open := proxyServer(t, "proxy")
	_, auth := proxyServer(t, "proxy,auth=alice:s3cret,auth=bob:b0b")
	for _, c := range []struct {
		env  []string
		args []string
	}{
		{nil, []string{"--proxy", "socks5://" + open, "127.0.0.1"}},
		{nil, []string{"--proxy", "socks5h://" + open, "localhost"}},
		{nil, []string{"--proxy", "socks4://" + open, "127.0.0.1"}},
		{nil, []string{"--proxy", "socks4a://" + open, "localhost"}},
		{nil, []string{"--proxy", "http://" + open, "localhost"}},
		{nil, []string{"--proxy", open, "-X", "4", "127.0.0.1"}},
		{nil, []string{"--proxy", open, "-X", "connect", "localhost"}},
		{nil, []string{"--proxy", open, "--proxy-type", "socks4", "localhost"}},
		{nil, []string{"--proxy", "socks5://alice:s3cret@" + auth, "127.0.0.1"}},
		{nil, []string{"--proxy", "socks5h://" + auth, "--proxy-auth", "bob:b0b", "localhost"}},
		{nil, []string{"--proxy", auth, "--proxy-type", "http", "--proxy-auth", "alice:s3cret", "localhost"}},
		{[]string{"GNC_PROXY_PASSWORD=s3cret"}, []string{"--proxy", auth, "--proxy-user", "alice", "localhost"}},
		{[]string{"GNC_PROXY_PASSWORD=b0b"}, []string{"--proxy", auth, "-X", "connect", "--proxy-user", "bob", "127.0.0.1"}},
	} {
		args := append(c.args, target)
		out, stderr, st := runGNC(t, opts{stdin: "question", env: c.env}, args...)
		if st != 0 || out != "reply to question" || stderr != "" {
			t.Errorf("gnc %s: exit %d, out %q, stderr %q", strings.Join(args, " "), st, out, stderr)
		}
	}
	// Refusals: one line naming the proxy and the target, and a hint.
	lh := "localhost:" + target
	wantFail(t, opts{}, 1, `^gnc: proxy socks5h://`+auth+` \(with credentials\): connect to `+lh+`: authentication refused$`, "check the proxy user name and password",
		"--proxy", "socks5h://alice:wrong@"+auth, "localhost", target)
	wantFail(t, opts{}, 1, `^gnc: proxy socks5h://`+auth+`: connect to `+lh+`: the proxy requires authentication$`, "--proxy-auth",
		"--proxy", "socks5h://"+auth, "localhost", target)
	wantFail(t, opts{}, 1, `^gnc: proxy http://`+auth+`: connect to `+lh+`: HTTP/1.1 407 Proxy Authentication Required$`, "--proxy-auth USER:PASS",
		"--proxy", "http://"+auth, "localhost", target)
	wantFail(t, opts{}, 1, `^gnc: proxy http://`+auth+` \(with credentials\): connect to `+lh+`: HTTP/1.1 407 Proxy Authentication Required$`, "refused the credentials",
		"--proxy", "http://alice:nope@"+auth, "localhost", target)
	wantFail(t, opts{}, 1, `^gnc: proxy socks4a://`+auth+` \(with credentials\): connect to `+lh+`: request rejected or failed$`, "",
		"--proxy", "socks4a://alice@"+auth, "localhost", target)
	dead := "127.0.0.1:" + closedPort(t)
	wantFail(t, opts{}, 1, `^gnc: proxy socks5://`+dead+`: connect to 127.0.0.1:`+target+`: proxy unreachable: connection refused$`, "",
		"--proxy", "socks5://"+dead, "127.0.0.1", target)
}

// fakeSOCKS answers successive clients with the reply codes given, in
// order: SOCKS5 ones after a no-authentication method choice, or SOCKS4
// ones (90-93).
func fakeSOCKS(t *testing.T, codes []byte) string {
	t.Helper()
	l, port := listen(t)
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for _, code := range codes {
			c, err := l.Accept()
			if err != nil {
				return
			}
			c.SetDeadline(time.Now().Add(10 * time.Second))
			r := bufio.NewReader(c)
			if code >= 90 {
				var head [8]byte
				io.ReadFull(r, head[:])
				r.ReadBytes(0) // the user id
				c.Write([]byte{0, code, 0, 0, 0, 0, 0, 0})
			} else {
				var greet [2]byte
				io.ReadFull(r, greet[:])
				io.ReadFull(r, make([]byte, greet[1]))
				c.Write([]byte{5, 0})
				var req [4]byte
				io.ReadFull(r, req[:])
				io.ReadFull(r, make([]byte, 4+2)) // an IPv4 address and a port
				c.Write([]byte{5, code, 0, 1, 0, 0, 0, 0, 0, 0})
			}
			c.Close()
		}
	}()
	return "127.0.0.1:" + port
}

// TestProxyReplyCodes: every SOCKS5 reply code in RFC 1928's words, and
// SOCKS4's 91 to 93, one line each naming the proxy and the target.
func TestProxyReplyCodes(t *testing.T) {
	words := []string{1: "general SOCKS server failure", 2: "connection not allowed by ruleset", 3: "network unreachable", 4: "host unreachable",
		5: "connection refused", 6: "TTL expired", 7: "command not supported", 8: "address type not supported"}
	var codes []byte
	for c := 1; c <= 8; c++ {
		codes = append(codes, byte(c))
	}
	p5 := fakeSOCKS(t, codes)
	for c := 1; c <= 8; c++ {
		wantFail(t, opts{}, 1, `^gnc: proxy socks5://`+p5+`: connect to 192.0.2.1:80: `+words[c]+`$`, "", "--proxy", "socks5://"+p5, "192.0.2.1", "80")
	}
	p4 := fakeSOCKS(t, []byte{91, 92, 93})
	for _, c := range []struct{ words, hint string }{
		{"request rejected or failed", ""},
		{"rejected: the proxy cannot reach identd on the client", "identd"},
		{"rejected: identd reports a different user", "identd"},
	} {
		wantFail(t, opts{}, 1, `^gnc: proxy socks4://`+p4+`: connect to 192.0.2.1:80: `+regexp.QuoteMeta(c.words)+`$`, c.hint, "--proxy", "socks4://"+p4, "192.0.2.1", "80")
	}
}

// TestProxyChainOfThree: a SOCKS5 proxy with credentials, one asked in
// SOCKS4a and an HTTP one, all gnc's, each asked for the next; 16 MiB
// each way, checked with SHA-256, and -v says each hop as it answers.
func TestProxyChainOfThree(t *testing.T) {
	echo := newEchoServer(t)
	_, a := proxyServer(t, "socks5,auth=u:p4ss")
	_, b := proxyServer(t, "proxy")
	_, c := proxyServer(t, "http-proxy")
	size := int64(16 << 20)
	if raceBuild {
		size = 4 << 20
	}
	in, sum := randomFile(t, size, 11)
	f, err := os.Open(in)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := newHashWriter()
	p := start(t, opts{stdin: f, stdout: out}, "-v", "--proxy", "socks5://u:p4ss@"+a, "--proxy", "socks4a://"+b, "--proxy", "http://"+c, "127.0.0.1", echo.port)
	if st := p.wait(); st != 0 || out.n != size || out.sum() != sum {
		t.Fatalf("exit %d, %d of %d bytes back, sum %s want %s; stderr:\n%s", st, out.n, size, out.sum(), sum, p.stderr())
	}
	lines := strings.Split(p.stderr(), "\n")
	want := []string{
		`^Proxy socks5://` + a + ` \(with credentials\): tunnel to ` + b + ` open in \S+$`,
		`^Proxy socks4a://` + b + `: tunnel to ` + c + ` open in \S+$`,
		`^Proxy http://` + c + `: tunnel to 127.0.0.1:` + echo.port + ` open in \S+$`,
		`^Connection to 127.0.0.1 ` + echo.port + ` port \[tcp/[^]]+\] succeeded!$`,
	}
	if len(lines) < len(want) {
		t.Fatalf("stderr:\n%s", p.stderr())
	}
	for i, re := range want {
		if !regexp.MustCompile(re).MatchString(lines[i]) {
			t.Errorf("line %d %q, want %q", i+1, lines[i], re)
		}
	}
	if strings.Contains(p.stderr(), "p4ss") {
		t.Error("the password is in stderr")
	}
}

// TestProxyRules: to-deny refuses an address, and a name that resolves
// to one; with -n the server looks up no name; a refused destination is
// "connection refused" — each in the client's protocol, and the server's
// -v line says why.
func TestProxyRules(t *testing.T) {
	target := replyServer(t)
	srv, deny := proxyServer(t, "proxy,to-deny=127.0.0.0/8,to-deny=::1")
	lt := "localhost:" + target
	wantFail(t, opts{}, 1, `: connect to 127.0.0.1:`+target+`: connection not allowed by ruleset$`, "rules", "--proxy", "socks5://"+deny, "127.0.0.1", target)
	wantFail(t, opts{}, 1, `: connect to `+lt+`: connection not allowed by ruleset$`, "", "--proxy", "socks5h://"+deny, "localhost", target)
	wantFail(t, opts{}, 1, `: connect to `+lt+`: HTTP/1.1 403 Forbidden$`, "", "--proxy", "http://"+deny, "localhost", target)
	wantFail(t, opts{}, 1, `: connect to `+lt+`: request rejected or failed$`, "", "--proxy", "socks4a://"+deny, "localhost", target)
	srv.waitLine(`#\d+ closed: proxy client 127\.0\.0\.1:\d+: socks5h connect to ` + lt + `: denied by to-deny (127\.0\.0\.0/8|::1) \(localhost resolves to (127\.0\.0\.1|::1)\)$`)

	_, nodns := proxyServer(t, "proxy", "-n")
	wantFail(t, opts{}, 1, `: connect to `+lt+`: host unreachable$`, "", "--proxy", "socks5h://"+nodns, "localhost", target)
	out, stderr, st := runGNC(t, opts{stdin: "q"}, "--proxy", "socks5h://"+nodns, "127.0.0.1", target)
	if st != 0 || out != "reply to q" {
		t.Errorf("an address through -n: exit %d, out %q, stderr %q", st, out, stderr)
	}
	wantFail(t, opts{}, 1, `: connect to 127.0.0.1:\d+: connection refused$`, "", "--proxy", "socks5h://"+nodns, "127.0.0.1", closedPort(t))
	wantFail(t, opts{}, 1, `: connect to 127.0.0.1:\d+: HTTP/1.1 502 Bad Gateway$`, "", "--proxy", "http://"+nodns, "127.0.0.1", closedPort(t))
}

// TestProxyOpenRefusal: a proxy without auth on every address, without
// --allow, does not start; loopback, --allow or auth= make it start.
func TestProxyOpenRefusal(t *testing.T) {
	for _, spec := range []string{"proxy", "socks5", "http-proxy,to-deny=10.0.0.0/8"} {
		_, stderr, st := runGNC(t, opts{}, "relay", "listen:0.0.0.0:0", spec)
		if st != 2 || !strings.Contains(stderr, "gnc: refusing to run an open proxy: ") || !strings.Contains(stderr, "gnc: hint: listen on 127.0.0.1") || !strings.Contains(stderr, "--allow CIDR") || !strings.Contains(stderr, "auth=USER:PASS") {
			t.Errorf("%s on 0.0.0.0: exit %d, stderr:\n%s", spec, st, stderr)
		}
	}
	for _, args := range [][]string{
		{"listen:127.0.0.1:0", "proxy"},
		{"--allow", "127.0.0.1", "listen:0.0.0.0:0", "proxy"},
		{"--allow", "127.0.0.1", "listen:0.0.0.0:0", "socks5,auth=u:p"},
	} {
		p, _ := startRelay(t, args...)
		p.stop(os.Interrupt, 0)
	}
	_, stderr, st := runGNC(t, opts{}, "relay", "127.0.0.1:9", "proxy")
	if st != 2 || !strings.Contains(stderr, "serves the clients of a listener") {
		t.Errorf("proxy facing a dialer: exit %d, stderr:\n%s", st, stderr)
	}
}

// TestProxyNoCredentials: with -vv and the hex dump on both sides, a
// password given in the URL, wrong or right, and in the server's auth=,
// shows nowhere: not in a log line, an error, or a dump. The dumps show
// the tunnelled bytes, not the handshake, and the server's pairing lines
// name the destination asked for.
func TestProxyNoCredentials(t *testing.T) {
	const secret = "Zx9-secret-Qw"
	target := replyServer(t)
	dir := t.TempDir()
	srvDump := filepath.Join(dir, "server.dump")
	srv, addr := proxyServer(t, "proxy,auth=alice:"+secret, "-vv", "--hexdump-file", srvDump)
	var logs []string
	for i, url := range []string{"socks5h://alice:" + secret + "@" + addr, "http://alice:" + secret + "@" + addr} {
		dump := filepath.Join(dir, "client"+string(rune('0'+i))+".dump")
		out, stderr, st := runGNC(t, opts{stdin: "question"}, "-vv", "--hexdump-file", dump, "--proxy", url, "localhost", target)
		if st != 0 || out != "reply to question" {
			t.Fatalf("%s: exit %d, out %q, stderr:\n%s", url, st, out, stderr)
		}
		d, _ := os.ReadFile(dump)
		if !strings.Contains(string(d), "question") || strings.Contains(string(d), "alice") {
			t.Errorf("client dump:\n%s", d)
		}
		logs = append(logs, stderr, string(d))
	}
	_, stderr, _ := runGNC(t, opts{}, "-vv", "--proxy", "socks5h://alice:"+secret+"x@"+addr, "localhost", target)
	logs = append(logs, stderr)
	_, stderr, st := runGNC(t, opts{}, "-vv", "--proxy", "socks5h://alice:"+secret+"@"+addr+":x", "localhost", target)
	if st != 2 {
		t.Errorf("a malformed URL: exit %d: %s", st, stderr)
	}
	logs = append(logs, stderr)
	_, stderr, st = runGNC(t, opts{env: []string{"ALL_PROXY=socks5h://alice:" + secret + "@" + addr + "/path"}}, "--proxy", "env", "localhost", target)
	if st != 2 || !strings.Contains(stderr, "ALL_PROXY") {
		t.Errorf("a malformed ALL_PROXY: exit %d: %s", st, stderr)
	}
	logs = append(logs, stderr)
	_, stderr, st = runGNC(t, opts{}, "relay", "listen:127.0.0.1:0", "tcp:localhost:"+target+",proxy=socks5h://alice:"+secret+"@"+addr+",bogus")
	if st != 2 {
		t.Errorf("a bad relay endpoint: exit %d: %s", st, stderr)
	}
	logs = append(logs, stderr)
	srv.waitLines(`#\d+ closed 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:\d+ \(localhost:`+target+`\) after`, 2)
	srv.waitLine(`#\d+ closed: proxy client .*: authentication refused$`)
	srv.waitLine(`#\d+ proxy: socks5h connect to localhost:` + target + ` \(127\.0\.0\.1\) \(authenticated\) for 127\.0\.0\.1:\d+, connected to 127\.0\.0\.1:` + target + ` in `)
	srv.stop(os.Interrupt, 0)
	d, _ := os.ReadFile(srvDump)
	if !strings.Contains(string(d), "question") {
		t.Errorf("server dump:\n%s", d)
	}
	logs = append(logs, srv.stderr(), string(d))
	for _, l := range logs {
		if strings.Contains(l, secret) {
			t.Errorf("the password shows in:\n%s", l)
		}
	}
}

// TestProxyEnv: --proxy env takes ALL_PROXY and honours NO_PROXY; without
// it, gnc ignores the proxy variables.
func TestProxyEnv(t *testing.T) {
	target := replyServer(t)
	_, addr := proxyServer(t, "proxy")
	dead := "socks5://127.0.0.1:" + closedPort(t)
	for _, c := range []struct {
		env  []string
		args []string
		line string
	}{
		{[]string{"ALL_PROXY=socks5h://" + addr}, []string{"--proxy", "env"}, `^Proxy socks5h://` + addr + `: tunnel to 127\.0\.0\.1:\d+ open in `},
		{[]string{"ALL_PROXY=", "all_proxy=" + addr}, []string{"--proxy", "env"}, `^Proxy http://` + addr + `: tunnel to `},
		{[]string{"ALL_PROXY=" + dead, "NO_PROXY=localhost,127.0.0.0/8"}, []string{"--proxy", "env"}, `^gnc: --proxy env: no proxy in the environment for 127\.0\.0\.1: connecting directly$`},
		{[]string{"ALL_PROXY=" + dead, "HTTPS_PROXY=" + dead, "http_proxy=" + dead}, nil, `^Connection to 127\.0\.0\.1 \d+ port`},
	} {
		args := append(append([]string{"-v"}, c.args...), "127.0.0.1", target)
		out, stderr, st := runGNC(t, opts{stdin: "q", env: c.env}, args...)
		if st != 0 || out != "reply to q" || !regexp.MustCompile(`(?m)`+c.line).MatchString(stderr) {
			t.Errorf("%v gnc %s: exit %d, out %q, stderr:\n%s\nwant a line matching %q", c.env, strings.Join(args, " "), st, out, stderr, c.line)
		}
	}
}

// TestProxyUsage: mistakes in what was typed are usage errors (exit 2)
// with a hint, never silently ignored.
func TestProxyUsage(t *testing.T) {
	for _, c := range []struct {
		args       []string
		line, hint string
	}{
		{[]string{"--proxy", "ftp://127.0.0.1:21", "h", "80"}, `unknown scheme "ftp"`, "socks5h://"},
		{[]string{"--proxy", "socks5://127.0.0.1:99999", "h", "80"}, `a port is a number`, "socks5h://"},
		{[]string{"--proxy", "http://127.0.0.1:3128/path", "h", "80"}, `no path`, "http://"},
		{[]string{"--proxy", "https://127.0.0.1:3128", "h", "80"}, `HTTPS proxies`, ""},
		{[]string{"--proxy", "socks4://u:p@127.0.0.1", "h", "80"}, `SOCKS4 has no password`, "socks5"},
		{[]string{"--proxy", "socks5h://127.0.0.1", "-X", "connect", "h", "80"}, `the URL says socks5h but the proxy type says http`, "once"},
		{[]string{"-x", "proxy.example:1080", "example.com", "80"}, `-x is the hex dump in gnc`, "gnc --proxy proxy.example:1080 example.com 80"},
		{[]string{"-n", "--proxy", "socks5h://127.0.0.1:1080", "example.com", "80"}, `-n forbids name lookups`, "numeric address"},
		{[]string{"-n", "--proxy", "socks5://proxy.example:1080", "192.0.2.1", "80"}, `-n forbids name lookups`, "numeric address"},
		{[]string{"-X", "5", "h", "80"}, `-X needs --proxy`, "--proxy"},
		{[]string{"--proxy-auth", "u:p", "h", "80"}, `--proxy-auth needs --proxy`, "--proxy"},
		{[]string{"--proxy", "127.0.0.1", "-X", "7", "h", "80"}, `invalid proxy type "7"`, "-X takes 4, 5 or connect"},
		{[]string{"--proxy", "127.0.0.1", "-X", "4", "--proxy-type", "http", "h", "80"}, `exclude each other`, ""},
		{[]string{"--proxy", "127.0.0.1", "--proxy-user", "alice", "h", "80"}, `--proxy-user: no terminal to ask for the password of alice on`, "GNC_PROXY_PASSWORD"},
		{[]string{"--proxy", "127.0.0.1", "-P", "alice", "h", "80"}, `-P is the progress meter in gnc, not OpenBSD nc's proxy user: alice was taken for a destination`, "--proxy-user alice"},
		{[]string{"--proxy", "127.0.0.1", "-l", "9"}, `--proxy works when connecting`, "relay"},
		{[]string{"--proxy", "socks4://127.0.0.1", "::1", "80"}, `SOCKS4 carries only IPv4`, "socks5"},
		{[]string{"relay", "listen:127.0.0.1:0", "proxy:1080"}, `proxy takes no address`, "proxy,auth=user:pass"},
		{[]string{"relay", "listen:127.0.0.1:0", "tcp:h:80,proxy=socks9://x"}, `unknown scheme "socks9"`, "socks5h://"},
		{[]string{"relay", "listen:127.0.0.1:0", "proxy,auth-file=/nonexistent/users"}, `auth-file= /nonexistent/users: no such file`, "user:password per line"},
	} {
		wantFail(t, opts{}, 2, `^gnc: .*`+regexp.QuoteMeta(c.line), c.hint, c.args...)
	}
}

// TestProxyTLS: TLS through a proxy verifies the target's name, not the
// proxy's: the certificate names localhost only, and the proxy is
// 127.0.0.1.
func TestProxyTLS(t *testing.T) {
	ca := testca.New(t, "gnc proxy CA")
	leaf := ca.Issue("target", []string{"localhost"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	_, addr := proxyServer(t, "proxy")
	srv, port := tlsServerProc(t, opts{stdin: "hello over tls\n"}, "--cert", leaf.CertFile, "--key", leaf.KeyFile)
	out, stderr, st := runGNC(t, opts{stdin: "hi\n"}, "--tls", "--ca", ca.File, "--proxy", "socks5h://"+addr, "localhost", port)
	if st != 0 || out != "hello over tls\n" || stderr != "" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	srv.wait()
	srv, port = tlsServerProc(t, opts{}, "--cert", leaf.CertFile, "--key", leaf.KeyFile)
	wantFail(t, opts{}, 1, `^gnc: tls: 127\.0\.0\.1 port \d+: cannot verify the certificate: name mismatch: 127\.0\.0\.1 is not among the certificate's names \(localhost\)$`, "--servername", "--tls", "--ca", ca.File, "--proxy", "http://"+addr, "127.0.0.1", port)
	srv.stop(os.Interrupt, 130)
}

// TestProxyHTTPEarlyBytes: an HTTP proxy's 200 followed at once by tunnel
// bytes: none of them are lost, they come first, and the dump shows them.
func TestProxyHTTPEarlyBytes(t *testing.T) {
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) {
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || line == "\r\n" {
				break
			}
		}
		c.Write([]byte("HTTP/1.1 200 Connection established\r\n\r\nearly bytes "))
		io.Copy(c, r)
		c.CloseWrite()
	})
	dump := filepath.Join(t.TempDir(), "dump")
	out, stderr, st := runGNC(t, opts{stdin: "late bytes"}, "--hexdump-file", dump, "--proxy", "http://127.0.0.1:"+port, "192.0.2.1", "80")
	if st != 0 || out != "early bytes late bytes" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	if d, _ := os.ReadFile(dump); !strings.Contains(string(d), "early bytes") {
		t.Errorf("dump:\n%s", d)
	}
}

// TestProxyScan: -z through a proxy: an open port is open, a refused one
// closed; an unreachable proxy is one error for the scan.
func TestProxyScan(t *testing.T) {
	target := replyServer(t)
	closed := closedPort(t)
	_, addr := proxyServer(t, "proxy")
	_, stderr, st := runGNC(t, opts{}, "-z", "-vv", "--proxy", "socks5h://"+addr, "localhost", target, closed)
	if st != 0 || !regexp.MustCompile(`(?m)^Connection to localhost `+target+` port \[tcp/[^]]+\] succeeded!$`).MatchString(stderr) ||
		!regexp.MustCompile(`(?m)^gnc: proxy socks5h://`+addr+`: connect to localhost:`+closed+`: connection refused$`).MatchString(stderr) {
		t.Errorf("exit %d, stderr:\n%s", st, stderr)
	}
	dead := "127.0.0.1:" + closed
	_, stderr, st = runGNC(t, opts{}, "-z", "--proxy", "socks5://"+dead, "127.0.0.1", "1-20")
	if st != 1 || strings.Count(stderr, "\n") != 0 || !strings.Contains(stderr, "proxy unreachable: connection refused") {
		t.Errorf("a dead proxy: exit %d, stderr:\n%s", st, stderr)
	}
}

// TestProxyRelayEndpoint: a relay's tcp: endpoint through a chain given
// by repeated proxy= options, 1 MiB each way checked; the relay's -vv
// says each hop.
func TestProxyRelayEndpoint(t *testing.T) {
	echo := newEchoServer(t)
	_, a := proxyServer(t, "socks5,auth=u:pw")
	_, b := proxyServer(t, "http-proxy")
	p, port := startRelay(t, "-vv", "listen:127.0.0.1:0", "tcp:localhost:"+echo.port+",proxy=socks5h://u:pw@"+a+",proxy=http://"+b)
	roundTrip(t, "127.0.0.1:"+port, 1<<20, 3)
	p.waitLine(`proxy socks5h://` + a + ` \(with credentials\): tunnel to ` + b + ` open in `)
	p.waitLine(`#1 open 127\.0\.0\.1:\d+ <-> ` + regexp.QuoteMeta(a) + ` \(localhost:` + echo.port + ` via proxy\)$`)
}

// TestProxyServerRequests: what the server refuses in every protocol's
// words, as the relay's own test client sees them: a plain HTTP proxy
// request gets 501 with a body saying only CONNECT is served, SOCKS5
// BIND and UDP ASSOCIATE "command not supported".
func TestProxyServerRequests(t *testing.T) {
	_, addr := proxyServer(t, "proxy")
	c := dialAddr(t, addr)
	c.Write([]byte("GET http://example.com/ HTTP/1.1\r\nHost: example.com\r\n\r\n"))
	resp, _ := io.ReadAll(c)
	if !strings.HasPrefix(string(resp), "HTTP/1.1 501 Not Implemented\r\n") || !strings.Contains(string(resp), "only CONNECT") {
		t.Errorf("GET: %q", resp)
	}
	for _, cmd := range []byte{2, 3} {
		c := dialAddr(t, addr)
		c.Write([]byte{5, 1, 0})
		var m [2]byte
		io.ReadFull(c, m[:])
		req := []byte{5, cmd, 0, 1, 127, 0, 0, 1, 0, 0}
		binary.BigEndian.PutUint16(req[8:], 9)
		c.Write(req)
		var rep [10]byte
		if _, err := io.ReadFull(c, rep[:]); err != nil || rep[1] != 7 {
			t.Errorf("command %d: reply %v, %v", cmd, rep, err)
		}
	}
}

func dialAddr(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	c.SetDeadline(time.Now().Add(10 * time.Second))
	t.Cleanup(func() { c.Close() })
	return c
}
