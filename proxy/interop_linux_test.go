package proxy

// Interop with real proxies (the client side) and real clients (the
// server side). Each peer runs in the foreground on 127.0.0.1; a test
// skips with the reason when the peer is not installed.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// syncBuffer collects a peer's output.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// peer is a running proxy of another make.
type peer struct {
	addr string
	out  *syncBuffer
}

// startPeer runs bin with args(port) on a random port in 20000-32000,
// where the peer must choose the port itself (none of these reports a
// kernel-chosen one). A start that fails, most likely because the port
// is taken, is retried on another port. The peer is ready when a
// listening socket on the port belongs to it or a child of it (so a
// stranger on that port is never mistaken for it) and accepts a
// connection. It is stopped by its PID at the test's end.
func startPeer(t *testing.T, bin string, args func(port int) []string) *peer {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install it to run this interop test)", bin)
	}
	for attempt := 1; attempt <= 6; attempt++ {
		port := 20000 + rand.IntN(12000)
		out := &syncBuffer{}
		cmd := exec.Command(path, args(port)...)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second // children holding the output pipe
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if waitListening(cmd.Process.Pid, port, exited) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return &peer{addr: "127.0.0.1:" + strconv.Itoa(port), out: out}
		}
		cmd.Process.Kill()
		<-exited
		t.Logf("%s did not start on port %d (attempt %d): %s", bin, port, attempt, out.String())
	}
	t.Fatalf("%s did not start", bin)
	return nil
}

// waitListening polls, for at most 10 s, until pid (or a descendant)
// listens on 127.0.0.1:port and a connect succeeds; false if the process
// exits first or time runs out.
func waitListening(pid, port int, exited <-chan struct{}) bool {
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case <-exited:
			return false
		case <-deadline:
			return false
		case <-tick.C:
		}
		if !ownsListener(pid, port) {
			continue
		}
		c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second)
		if err == nil {
			c.Close()
			return true
		}
	}
}

// ownsListener reports whether a socket listening on 127.0.0.1:port (or
// 0.0.0.0:port) is open in pid or one of its descendants.
func ownsListener(pid, port int) bool {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	loop := fmt.Sprintf("0100007F:%04X", port)
	wild := fmt.Sprintf("00000000:%04X", port) // ncat's proxy mode, see ncatProxy
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && (f[1] == loop || f[1] == wild) && f[3] == "0A" {
			inodes["socket:["+f[9]+"]"] = true
		}
	}
	if len(inodes) == 0 {
		return false
	}
	for _, p := range family(pid) {
		dir := "/proc/" + strconv.Itoa(p) + "/fd"
		fds, _ := os.ReadDir(dir)
		for _, fd := range fds {
			if link, err := os.Readlink(dir + "/" + fd.Name()); err == nil && inodes[link] {
				return true
			}
		}
	}
	return false
}

// family returns pid and its descendants.
func family(pid int) []int {
	parent := map[int]int{}
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		p, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); i >= 0 {
			if f := strings.Fields(s[i+1:]); len(f) > 1 {
				pp, _ := strconv.Atoi(f[1])
				parent[p] = pp
			}
		}
	}
	out := []int{pid}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if pp != 0 && contains(out, pp) && !contains(out, p) {
				out = append(out, p)
				changed = true
			}
		}
	}
	return out
}

func contains(s []int, v int) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// config copies /work/shared/peers/NAME into dir with edit applied.
func config(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	src := filepath.Join("/work/shared/peers", name)
	data, err := os.ReadFile(src)
	if err != nil {
		t.Skipf("no peer config %s: %v", src, err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// replaceLine replaces the line starting with prefix.
func replaceLine(text, prefix, line string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			lines[i] = line
		}
	}
	return strings.Join(lines, "\n")
}

// requestReply sends a line through chain to an echo target and reads
// it back with the sending side held open, for the proxies that end a
// tunnel at the first EOF.
func requestReply(t *testing.T, chain []Hop, target string) error {
	t.Helper()
	c, prefix, err := Dial(ctx5(t), &net.Dialer{}, chain, target, nil)
	if err != nil {
		clean(t, err)
		return err
	}
	defer c.Close()
	msg := []byte("hello through " + chain[len(chain)-1].String() + "\n")
	if _, err := c.Write(msg); err != nil {
		t.Fatal(err)
	}
	got := append([]byte(nil), prefix...)
	rest := make([]byte, len(msg)-len(got))
	if _, err := io.ReadFull(c, rest); err != nil {
		t.Fatalf("%v: reading the echo: %v", chain[0], err)
	}
	if got = append(got, rest...); !bytes.Equal(got, msg) {
		t.Fatalf("%v: echo %q", chain[0], got)
	}
	return nil
}

// halfClose sends data and a half-close through chain, and reads the
// whole echo, which arrives only if the proxy passed the half-close on.
func halfClose(t *testing.T, chain []Hop, target string) {
	t.Helper()
	c, _, err := Dial(ctx5(t), &net.Dialer{}, chain, target, nil)
	if err != nil {
		t.Fatal(clean(t, err))
	}
	defer c.Close()
	msg := bytes.Repeat([]byte("half-close "), 10000)
	go func() {
		c.Write(msg)
		c.(*net.TCPConn).CloseWrite()
	}()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(c)
	if err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("%v: %d of %d bytes back, %v", chain[0], len(got), len(msg), err)
	}
}

// localhostEcho is an echo server on 127.0.0.1 and the target by name.
func localhostEcho(t *testing.T) (addr, byName string) {
	addr = echoServer(t)
	_, port, _ := net.SplitHostPort(addr)
	if ips, err := net.LookupIP("localhost"); err != nil || len(ips) == 0 || !ips[0].Equal(net.IPv4(127, 0, 0, 1)) {
		t.Logf("localhost does not resolve to 127.0.0.1 first (%v %v); name targets skipped", ips, err)
		return addr, ""
	}
	return addr, "localhost:" + port
}

func wantErr(t *testing.T, err error, suffix string, cause error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) || !strings.HasSuffix(err.Error(), suffix) || cause != nil && !errors.Is(err, cause) {
		t.Fatalf("got %v, want ...%s (%v)", err, suffix, cause)
	}
	clean(t, err)
	return e
}

func TestInteropMicrosocks(t *testing.T) {
	target, byName := localhostEcho(t)
	p := startPeer(t, "microsocks", func(port int) []string { return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)} })
	for _, k := range []Kind{SOCKS5, SOCKS5h} {
		if err := requestReply(t, []Hop{{Kind: k, Addr: p.addr}}, target); err != nil {
			t.Errorf("%v: %v", k, err)
		}
		if byName != "" {
			if err := requestReply(t, []Hop{{Kind: k, Addr: p.addr}}, byName); err != nil {
				t.Errorf("%v by name: %v", k, err)
			}
		}
	}
	pa := startPeer(t, "microsocks", func(port int) []string {
		return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-u", testUser, "-P", testPass}
	})
	h := Hop{Kind: SOCKS5h, Addr: pa.addr}
	good, _ := h.WithAuth(testUser, testPass)
	if err := requestReply(t, []Hop{good}, target); err != nil {
		t.Errorf("with credentials: %v", err)
	}
	e := wantErr(t, requestReply(t, []Hop{h}, target), ": the proxy requires authentication", ErrAuth)
	if e.Hint == "" {
		t.Error("no hint for missing credentials")
	}
	bad, _ := h.WithAuth(testUser, "wrong")
	wantErr(t, requestReply(t, []Hop{bad}, target), ": authentication refused", ErrAuth)
}

func TestInteropDante(t *testing.T) {
	if _, err := exec.LookPath("danted"); err != nil {
		t.Skip("danted is not installed (apt-get install dante-server)")
	}
	target, byName := localhostEcho(t)
	dir := t.TempDir()
	p := startPeer(t, "danted", func(port int) []string {
		conf := config(t, dir, "danted.conf", func(s string) string {
			return replaceLine(s, "internal:", fmt.Sprintf("internal: 127.0.0.1 port = %d", port))
		})
		return []string{"-f", conf, "-p", filepath.Join(dir, "danted.pid")}
	})
	for _, k := range []Kind{SOCKS5, SOCKS5h, SOCKS4} {
		chain := []Hop{{Kind: k, Addr: p.addr}}
		if err := requestReply(t, chain, target); err != nil {
			t.Errorf("%v: %v", k, err)
		}
		// Dante passes a client's half-close on.
		halfClose(t, chain, target)
		if byName != "" {
			if err := requestReply(t, chain, byName); err != nil {
				t.Errorf("%v by name: %v", k, err)
			}
		}
	}
	// Dante refuses SOCKS4a, and the error says so in words.
	if byName != "" {
		e := wantErr(t, requestReply(t, []Hop{{Kind: SOCKS4a, Addr: p.addr}}, byName),
			"proxy socks4a://"+p.addr+": connect to "+byName+": request rejected or failed", ErrRejected)
		if e.Code != 91 || !strings.Contains(e.Hint, "socks4://") {
			t.Errorf("SOCKS4a: code %d hint %q", e.Code, e.Hint)
		}
	}
	// A refused target, in RFC 1928's words.
	wantErr(t, requestReply(t, []Hop{{Kind: SOCKS5, Addr: p.addr}}, closedPort(t)), ": connection refused", ErrRejected)
}

func TestInteropTinyproxy(t *testing.T) {
	if _, err := exec.LookPath("tinyproxy"); err != nil {
		t.Skip("tinyproxy is not installed (apt-get install tinyproxy)")
	}
	target, byName := localhostEcho(t)
	start := func(auth bool) *peer {
		dir := t.TempDir()
		return startPeer(t, "tinyproxy", func(port int) []string {
			conf := config(t, dir, "tinyproxy.conf", func(s string) string {
				s = replaceLine(s, "Port ", fmt.Sprintf("Port %d", port))
				if auth {
					s += "\nBasicAuth " + testUser + " " + testPass + "\n"
				}
				return s
			})
			return []string{"-d", "-c", conf}
		})
	}
	p := start(false)
	if err := requestReply(t, []Hop{{Kind: HTTP, Addr: p.addr}}, target); err != nil {
		t.Error(err)
	}
	if byName != "" {
		if err := requestReply(t, []Hop{{Kind: HTTP, Addr: p.addr}}, byName); err != nil {
			t.Error(err)
		}
	}
	pa := start(true)
	h := Hop{Kind: HTTP, Addr: pa.addr}
	e := wantErr(t, requestReply(t, []Hop{h}, target), ": connect to "+target+": HTTP/1.0 407 Proxy Authentication Required", ErrAuth)
	if e.Code != 407 || !strings.Contains(e.Hint, "--proxy-auth") {
		t.Errorf("407: code %d hint %q", e.Code, e.Hint)
	}
	good, _ := h.WithAuth(testUser, testPass)
	if err := requestReply(t, []Hop{good}, target); err != nil {
		t.Errorf("with credentials: %v", err)
	}
	// tinyproxy answers wrong credentials with 401, not 407.
	bad, _ := h.WithAuth(testUser, "wrong")
	e = wantErr(t, requestReply(t, []Hop{bad}, target), ": HTTP/1.0 401 Unauthorized", ErrAuth)
	if !strings.Contains(e.Hint, "refused the credentials") {
		t.Errorf("401: hint %q", e.Hint)
	}
}

// ncatProxy starts "ncat -l -k --proxy-type http 127.0.0.1 PORT". Ncat
// 7.93 ignores the address in this mode and listens on 0.0.0.0 and ::,
// so --allow keeps it serving loopback clients only.
func ncatProxy(t *testing.T, extra ...string) *peer {
	return startPeer(t, "ncat", func(port int) []string {
		args := []string{"-l", "-k", "--proxy-type", "http", "--allow", "127.0.0.1"}
		return append(append(args, extra...), "127.0.0.1", strconv.Itoa(port))
	})
}

func TestInteropNcatProxy(t *testing.T) {
	target, _ := localhostEcho(t)
	p := ncatProxy(t)
	if err := requestReply(t, []Hop{{Kind: HTTP, Addr: p.addr}}, target); err != nil {
		t.Error(err)
	}
	pa := ncatProxy(t, "--proxy-auth", testUser+":"+testPass)
	h := Hop{Kind: HTTP, Addr: pa.addr}
	wantErr(t, requestReply(t, []Hop{h}, target), " 407 Proxy Authentication Required", ErrAuth)
	good, _ := h.WithAuth(testUser, testPass)
	if err := requestReply(t, []Hop{good}, target); err != nil {
		t.Errorf("with credentials: %v", err)
	}
}

// TestInteropChainOfPeers chains real proxies of three kinds.
func TestInteropChainOfPeers(t *testing.T) {
	for _, bin := range []string{"microsocks", "danted", "ncat"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s is not installed", bin)
		}
	}
	target, _ := localhostEcho(t)
	ms := startPeer(t, "microsocks", func(port int) []string { return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)} })
	dir := t.TempDir()
	dante := startPeer(t, "danted", func(port int) []string {
		conf := config(t, dir, "danted.conf", func(s string) string {
			return replaceLine(s, "internal:", fmt.Sprintf("internal: 127.0.0.1 port = %d", port))
		})
		return []string{"-f", conf, "-p", filepath.Join(dir, "danted.pid")}
	})
	nc := ncatProxy(t)
	chain := []Hop{{Kind: SOCKS5h, Addr: ms.addr}, {Kind: SOCKS4, Addr: dante.addr}, {Kind: HTTP, Addr: nc.addr}}
	if err := requestReply(t, chain, target); err != nil {
		t.Error(err)
	}
}

// curl runs curl with no proxy variables from the environment.
func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

func TestInteropCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	const body = "hello from the test's own server\n"
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(web.Close)
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	names := fakeResolver(map[string][]string{"gnc-test.invalid": {"127.0.0.1"}})
	url := "http://gnc-test.invalid:" + port + "/"
	p := startProxy(t, &ServerConfig{Resolver: names})
	for _, args := range [][]string{
		{"--socks5-hostname", p.addr, url},
		{"--socks5", p.addr, "http://127.0.0.1:" + port + "/"},
		{"--socks4a", p.addr, url},
		{"--socks4", p.addr, "http://127.0.0.1:" + port + "/"},
		{"-p", "-x", "http://" + p.addr, url},
	} {
		out, err := curl(t, args...)
		if err != nil || out != body {
			t.Errorf("curl %v: %v: %s", args, err, out)
		}
	}
	// Without -p curl asks for the URL itself, which gets 501.
	out, err := curl(t, "-x", "http://"+p.addr, "-w", "%{http_code}", url)
	if err != nil || out != connectOnly+"501" {
		t.Errorf("curl -x without -p: %v: %q", err, out)
	}
	if perr := <-p.errs; !errors.Is(perr, ErrUnsupported) {
		t.Errorf("server: %v", perr)
	}

	pa := startProxy(t, &ServerConfig{Resolver: names, Users: users()})
	cred := testUser + ":" + testPass
	for _, args := range [][]string{
		{"-x", "socks5h://" + cred + "@" + pa.addr, url},
		{"-p", "-x", "http://" + cred + "@" + pa.addr, url},
	} {
		out, err := curl(t, args...)
		if err != nil || out != body {
			t.Errorf("curl %v: %v: %s", args, err, out)
		}
	}
	for _, args := range [][]string{
		{"--socks5-hostname", pa.addr, url},
		{"-x", "socks5h://" + testUser + ":wrong@" + pa.addr, url},
		{"-p", "-x", "http://" + pa.addr, url},
		{"--socks4a", pa.addr, url},
	} {
		if out, err := curl(t, args...); err == nil {
			t.Errorf("curl %v got in: %s", args, out)
		}
		if perr := <-pa.errs; !errors.Is(perr, ErrAuth) {
			t.Errorf("curl %v: server: %v", args, perr)
		} else {
			clean(t, perr)
		}
	}
}
