//go:build linux

package main

// Interop of gnc's proxy client and server with real peers, each run in
// the foreground on 127.0.0.1; a test skips with the reason when its
// peer is not installed (.ci/run installs them). The peer-start helpers
// follow proxy/interop_linux_test.go.

import (
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
	"syscall"
	"testing"
	"time"
)

// proxyPeer is a running proxy of another make.
type proxyPeer struct {
	addr string
	out  *lockedBuffer
}

// startProxyPeer runs bin with args(port) on a random port in
// 20000-32000 (none of these peers reports a port the kernel chose),
// retrying another port when the start fails. The peer is ready when a
// socket listening on the port belongs to it or a child of it, and
// accepts. It is stopped by its PID at the test's end.
func startProxyPeer(t *testing.T, bin string, args func(port int) []string) *proxyPeer {
	t.Helper()
	path, err := exec.LookPath(bin)
	if err != nil {
		t.Skipf("%s is not installed (apt-get install it to run this interop test)", bin)
	}
	for attempt := 1; attempt <= 6; attempt++ {
		port := 20000 + rand.IntN(12000)
		out := newLockedBuffer()
		cmd := exec.Command(path, args(port)...)
		cmd.Stdout, cmd.Stderr = out, out
		cmd.WaitDelay = 2 * time.Second
		if err := cmd.Start(); err != nil {
			t.Fatalf("start %s: %v", bin, err)
		}
		exited := make(chan struct{})
		go func() { cmd.Wait(); close(exited) }()
		if peerListening(cmd.Process.Pid, port, exited) {
			t.Cleanup(func() {
				cmd.Process.Signal(syscall.SIGTERM)
				select {
				case <-exited:
				case <-time.After(5 * time.Second):
					cmd.Process.Kill()
					<-exited
				}
			})
			return &proxyPeer{addr: "127.0.0.1:" + strconv.Itoa(port), out: out}
		}
		cmd.Process.Kill()
		<-exited
		t.Logf("%s did not start on port %d (attempt %d): %s", bin, port, attempt, out.bytes())
	}
	t.Fatalf("%s did not start", bin)
	return nil
}

// peerListening polls, for at most 10 s, until pid or a descendant
// listens on port and a connect succeeds.
func peerListening(pid, port int, exited <-chan struct{}) bool {
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
		if !peerOwnsListener(pid, port) {
			continue
		}
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+strconv.Itoa(port), time.Second); err == nil {
			c.Close()
			return true
		}
	}
}

// peerOwnsListener reports whether a socket listening on 127.0.0.1:port
// (or 0.0.0.0:port, where ncat's proxy mode binds) is open in pid or one
// of its descendants.
func peerOwnsListener(pid, port int) bool {
	data, err := os.ReadFile("/proc/net/tcp")
	if err != nil {
		return false
	}
	inodes := map[string]bool{}
	loop, wild := fmt.Sprintf("0100007F:%04X", port), fmt.Sprintf("00000000:%04X", port)
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) > 9 && (f[1] == loop || f[1] == wild) && f[3] == "0A" {
			inodes["socket:["+f[9]+"]"] = true
		}
	}
	for _, p := range peerFamily(pid) {
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

// peerFamily returns pid and its descendants.
func peerFamily(pid int) []int {
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
				parent[p], _ = strconv.Atoi(f[1])
			}
		}
	}
	out := []int{pid}
	in := map[int]bool{pid: true}
	for changed := true; changed; {
		changed = false
		for p, pp := range parent {
			if in[pp] && !in[p] {
				out, in[p], changed = append(out, p), true, true
			}
		}
	}
	return out
}

// peerConfig copies /work/shared/peers/NAME into dir with edit applied.
func peerConfig(t *testing.T, dir, name string, edit func(string) string) string {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("/work/shared/peers", name))
	if err != nil {
		t.Skipf("no peer config %s: %v", name, err)
	}
	dst := filepath.Join(dir, name)
	if err := os.WriteFile(dst, []byte(edit(string(data))), 0o644); err != nil {
		t.Fatal(err)
	}
	return dst
}

// setLine replaces the line that starts with prefix.
func setLine(text, prefix, line string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		if strings.HasPrefix(strings.TrimSpace(l), prefix) {
			lines[i] = line
		}
	}
	return strings.Join(lines, "\n")
}

// heldRequestReply runs gnc with args to an echo server, sends a line with
// stdin held open and waits for its echo, then ends stdin: the way to
// test proxies that end a tunnel at the client's first end of file.
func heldRequestReply(t *testing.T, echo string, args ...string) {
	t.Helper()
	pr, pw := io.Pipe()
	out := newLockedBuffer()
	p := start(t, opts{stdin: pr, stdout: out}, append(args, "127.0.0.1", echo)...)
	msg := "hello through " + strings.Join(args, " ") + "\n"
	pw.Write([]byte(msg))
	if !out.waitLenFor(len(msg), 20*time.Second) || string(out.bytes()) != msg {
		pw.Close()
		p.wait()
		t.Fatalf("gnc %s: echo %q; stderr:\n%s", strings.Join(args, " "), out.bytes(), p.stderr())
	}
	pw.Close()
	if st := p.wait(); st != 0 {
		t.Errorf("gnc %s: exit %d; stderr:\n%s", strings.Join(args, " "), st, p.stderr())
	}
}

func danted(t *testing.T) *proxyPeer {
	dir := t.TempDir()
	return startProxyPeer(t, "danted", func(port int) []string {
		conf := peerConfig(t, dir, "danted.conf", func(s string) string {
			return setLine(s, "internal:", fmt.Sprintf("internal: 127.0.0.1 port = %d", port))
		})
		return []string{"-f", conf, "-p", filepath.Join(dir, "danted.pid")}
	})
}

func TestProxyInteropMicrosocks(t *testing.T) {
	echo := newEchoServer(t)
	ms := startProxyPeer(t, "microsocks", func(port int) []string { return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)} })
	heldRequestReply(t, echo.port, "--proxy", "socks5://"+ms.addr)
	heldRequestReply(t, echo.port, "--proxy", "socks5h://"+ms.addr)
	heldRequestReply(t, echo.port, "--proxy", ms.addr) // nc's bare form: SOCKS5
	pa := startProxyPeer(t, "microsocks", func(port int) []string {
		return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port), "-u", "alice", "-P", "s3cret"}
	})
	heldRequestReply(t, echo.port, "--proxy", "socks5h://alice:s3cret@"+pa.addr)
	heldRequestReply(t, echo.port, "--proxy", pa.addr, "--proxy-auth", "alice:s3cret")
	wantFail(t, opts{}, 1, `: authentication refused$`, "check the proxy user name", "--proxy", "socks5h://alice:wrong@"+pa.addr, "127.0.0.1", echo.port)
	wantFail(t, opts{}, 1, `: the proxy requires authentication$`, "--proxy-auth", "--proxy", "socks5h://"+pa.addr, "127.0.0.1", echo.port)
}

// TestProxyInteropDante: dante speaks SOCKS4 and SOCKS5 and passes a
// client's half-close on; it refuses SOCKS4a, which gnc says in words.
func TestProxyInteropDante(t *testing.T) {
	if _, err := exec.LookPath("danted"); err != nil {
		t.Skip("danted is not installed (apt-get install dante-server)")
	}
	target := replyServer(t)
	d := danted(t)
	for _, args := range [][]string{
		{"--proxy", "socks5://" + d.addr, "localhost"},
		{"--proxy", "socks5h://" + d.addr, "localhost"},
		{"--proxy", "socks4://" + d.addr, "localhost"},
		{"--proxy", d.addr, "-X", "4", "127.0.0.1"},
	} {
		args = append(args, target)
		out, stderr, st := runGNC(t, opts{stdin: "question"}, args...)
		if st != 0 || out != "reply to question" {
			t.Errorf("gnc %s: exit %d, out %q, stderr %q", strings.Join(args, " "), st, out, stderr)
		}
	}
	wantFail(t, opts{}, 1, `^gnc: proxy socks4a://`+d.addr+`: connect to localhost:`+target+`: request rejected or failed$`, "socks4://",
		"--proxy", "socks4a://"+d.addr, "localhost", target)
	wantFail(t, opts{}, 1, `: connect to 127\.0\.0\.1:\d+: connection refused$`, "", "--proxy", "socks5://"+d.addr, "127.0.0.1", closedPort(t))
}

func TestProxyInteropTinyproxy(t *testing.T) {
	if _, err := exec.LookPath("tinyproxy"); err != nil {
		t.Skip("tinyproxy is not installed (apt-get install tinyproxy)")
	}
	echo := newEchoServer(t)
	run := func(auth bool) *proxyPeer {
		dir := t.TempDir()
		return startProxyPeer(t, "tinyproxy", func(port int) []string {
			conf := peerConfig(t, dir, "tinyproxy.conf", func(s string) string {
				s = setLine(s, "Port ", fmt.Sprintf("Port %d", port))
				if auth {
					s += "\nBasicAuth alice s3cret\n"
				}
				return s
			})
			return []string{"-d", "-c", conf}
		})
	}
	p := run(false)
	heldRequestReply(t, echo.port, "--proxy", "http://"+p.addr)
	heldRequestReply(t, echo.port, "--proxy", p.addr, "-X", "connect")
	pa := run(true)
	wantFail(t, opts{}, 1, `^gnc: proxy http://`+pa.addr+`: connect to 127\.0\.0\.1:`+echo.port+`: HTTP/1\.0 407 Proxy Authentication Required$`, "--proxy-auth",
		"--proxy", "http://"+pa.addr, "127.0.0.1", echo.port)
	heldRequestReply(t, echo.port, "--proxy", "http://alice:s3cret@"+pa.addr)
	heldRequestReply(t, echo.port, "--proxy", pa.addr, "--proxy-type", "http", "--proxy-auth", "alice:s3cret")
}

// TestProxyInteropNcat: ncat's HTTP proxy. Ncat binds 0.0.0.0 in this
// mode whatever address it is given, so it serves 127.0.0.1 only.
func TestProxyInteropNcat(t *testing.T) {
	echo := newEchoServer(t)
	ncat := func(extra ...string) *proxyPeer {
		return startProxyPeer(t, "ncat", func(port int) []string {
			args := []string{"-l", "-k", "--proxy-type", "http", "--allow", "127.0.0.1"}
			return append(append(args, extra...), "127.0.0.1", strconv.Itoa(port))
		})
	}
	p := ncat()
	heldRequestReply(t, echo.port, "--proxy", "http://"+p.addr)
	pa := ncat("--proxy-auth", "alice:s3cret")
	wantFail(t, opts{}, 1, ` 407 Proxy Authentication Required$`, "--proxy-auth", "--proxy", "http://"+pa.addr, "127.0.0.1", echo.port)
	heldRequestReply(t, echo.port, "--proxy", "http://alice:s3cret@"+pa.addr)
}

// TestProxyInteropChain: gnc's client through microsocks, then dante in
// SOCKS4, then gnc's own HTTP proxy.
func TestProxyInteropChain(t *testing.T) {
	if _, err := exec.LookPath("danted"); err != nil {
		t.Skip("danted is not installed (apt-get install dante-server)")
	}
	echo := newEchoServer(t)
	ms := startProxyPeer(t, "microsocks", func(port int) []string { return []string{"-i", "127.0.0.1", "-p", strconv.Itoa(port)} })
	d := danted(t)
	_, g := proxyServer(t, "http-proxy")
	heldRequestReply(t, echo.port, "--proxy", "socks5h://"+ms.addr, "--proxy", "socks4://"+d.addr, "--proxy", "http://"+g)
}

// curl runs curl with no proxy variables from the environment.
func curl(t *testing.T, args ...string) (string, error) {
	t.Helper()
	cmd := exec.Command("curl", append([]string{"-sS", "--max-time", "10"}, args...)...)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + t.TempDir()}
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// TestProxyInteropCurl: curl through gnc's proxy server in SOCKS5 with
// the name sent, SOCKS4a and HTTP CONNECT, with and without credentials;
// a plain HTTP proxy request gets 501.
func TestProxyInteropCurl(t *testing.T) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	const body = "hello from the test's own web server\n"
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, body) }))
	t.Cleanup(web.Close)
	_, port, _ := net.SplitHostPort(web.Listener.Addr().String())
	url := "http://localhost:" + port + "/"
	srv, addr := proxyServer(t, "proxy")
	for _, args := range [][]string{
		{"--socks5-hostname", addr, url},
		{"--socks5", addr, url},
		{"--socks4a", addr, url},
		{"--socks4", addr, url},
		{"-p", "-x", "http://" + addr, url},
	} {
		if out, err := curl(t, args...); err != nil || out != body {
			t.Errorf("curl %v: %v: %s", args, err, out)
		}
	}
	srv.waitLine(`#\d+ open 127\.0\.0\.1:\d+ <-> 127\.0\.0\.1:` + port + ` \(localhost:` + port + `\)$`)
	out, err := curl(t, "-x", "http://"+addr, "-w", "%{http_code}", url)
	if err != nil || !strings.Contains(out, "only CONNECT") || !strings.HasSuffix(out, "501") {
		t.Errorf("curl -x without -p: %v: %q", err, out)
	}
	_, auth := proxyServer(t, "proxy,auth=alice:s3cret")
	for _, args := range [][]string{
		{"-x", "socks5h://alice:s3cret@" + auth, url},
		{"-p", "-x", "http://alice:s3cret@" + auth, url},
	} {
		if out, err := curl(t, args...); err != nil || out != body {
			t.Errorf("curl %v: %v: %s", args, err, out)
		}
	}
	for _, args := range [][]string{
		{"--socks5-hostname", auth, url},
		{"-x", "socks5h://alice:wrong@" + auth, url},
		{"-p", "-x", "http://" + auth, url},
		{"--socks4a", auth, url},
	} {
		if out, err := curl(t, args...); err == nil {
			t.Errorf("curl %v got in: %s", args, out)
		}
	}
}
