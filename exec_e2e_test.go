//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gnc/internal/testca"
)

// execServer runs `gnc -l -v 127.0.0.1 0 ARGS...` and returns it with its
// port.
func execServer(t *testing.T, args ...string) (*proc, string) {
	t.Helper()
	p := start(t, opts{}, append([]string{"-l", "-v", "127.0.0.1", "0"}, args...)...)
	t.Cleanup(func() {
		if !p.exited(0) {
			p.signal(syscall.SIGKILL)
			p.wait()
		}
	})
	return p, p.port()
}

// ask sends req to port, half-closes, and returns all that comes back.
func ask(t *testing.T, port string, req []byte) []byte {
	t.Helper()
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	go func() {
		c.Write(req)
		c.CloseWrite()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatalf("reading the answer: %v (got %d bytes)", err, len(got))
	}
	return got
}

func sha256Hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func randomBytes(n int, seed uint64) []byte {
	b := make([]byte, n)
	rand.NewChaCha8([32]byte{byte(seed)}).Read(b)
	return b
}

// TestExecAnswersAfterEOF: a program that answers only once its input has
// ended (sha256sum) gets the peer's half-close as end of file, and its
// answer still reaches the peer, which then sees end of file; the -v close
// line has the exit status.
func TestExecAnswersAfterEOF(t *testing.T) {
	p, port := execServer(t, "-e", "sha256sum")
	data := randomBytes(1<<20, 1)
	got := ask(t, port, data)
	if want := sha256Hex(data) + "  -\n"; string(got) != want {
		t.Fatalf("answer %q, want %q", got, want)
	}
	p.waitLine(`^Closed 127\.0\.0\.1 \d+: sha256sum \(pid \d+\): exit 0$`)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}

// TestExecLateAnswer: an answer 1.5s after the end of the input is not
// lost.
func TestExecLateAnswer(t *testing.T) {
	_, port := execServer(t, "-c", "cat >/dev/null; sleep 1.5; echo late")
	t0 := time.Now()
	if got := ask(t, port, []byte("question\n")); string(got) != "late\n" {
		t.Fatalf("answer %q, want \"late\\n\"", got)
	}
	if d := time.Since(t0); d < 1500*time.Millisecond {
		t.Fatalf("answered after %v: the child's own sleep is 1.5s", d)
	}
}

// TestExecStdoutClosedFirst: a program that closes its stdout first and
// goes on reading: the peer sees end of file at once, and what it sends
// after that still reaches the program until the peer ends.
func TestExecStdoutClosedFirst(t *testing.T) {
	out := filepath.Join(t.TempDir(), "got")
	p, port := execServer(t, "-c", "exec >&-; cat > "+out)
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(30 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want end of file at once", b, err)
	}
	data := randomBytes(4<<20, 2) // after the end of file from gnc
	if _, err := c.Write(data); err != nil {
		t.Fatal(err)
	}
	c.CloseWrite()
	p.waitLine(`^Closed .*: exit 0$`)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
	if got := fileHash(t, out); got != sha256Hex(data) {
		t.Fatalf("the program got %s, want %s", got, sha256Hex(data))
	}
}

// TestExecIntegrity: 16 MiB each way at once through exec:cat, checked
// with SHA-256, in a relay and with -x (the tapped path).
func TestExecIntegrity(t *testing.T) {
	for _, extra := range [][]string{nil, {"--hexdump-file", "/dev/null"}} {
		p, port := startRelay(t, append(extra, "listen:127.0.0.1:0", "exec:cat")...)
		data := randomBytes(16<<20, 3)
		got := ask(t, port, data)
		if len(got) != len(data) || sha256Hex(got) != sha256Hex(data) {
			t.Fatalf("%v: got %d bytes, sha256 %s; sent %d, %s", extra, len(got), sha256Hex(got), len(data), sha256Hex(data))
		}
		p.waitLine(`#1 closed 127\.0\.0\.1:\d+ <-> exec:cat \(pid \d+\) after \S+, 16777216 bytes >, 16777216 bytes <, eof, exit 0$`)
		p.stop(syscall.SIGTERM, 0)
	}
}

// TestExecEnv: the program sees the connection's addresses, as gnc's and
// as ncat's variables, and nothing inherited in their place; with TLS and
// a verified client certificate, its subject.
func TestExecEnv(t *testing.T) {
	script := `env | grep -E '^(GNC|NCAT)_' | sort`
	p := start(t, opts{env: []string{"GNC_REMOTE_ADDR=stale", "NCAT_PROTO=stale"}}, "-l", "-v", "-k", "127.0.0.1", "0", "-c", script)
	defer p.stop(syscall.SIGTERM, 143)
	port := p.port()
	c := dial(t, port)
	c.CloseWrite()
	c.SetDeadline(time.Now().Add(20 * time.Second))
	got, _ := io.ReadAll(c)
	_, cport, _ := net.SplitHostPort(c.LocalAddr().String())
	want := strings.Join([]string{
		"GNC_LOCAL_ADDR=127.0.0.1", "GNC_LOCAL_PORT=" + port, "GNC_PROTO=tcp", "GNC_REMOTE_ADDR=127.0.0.1", "GNC_REMOTE_PORT=" + cport,
		"NCAT_LOCAL_ADDR=127.0.0.1", "NCAT_LOCAL_PORT=" + port, "NCAT_PROTO=TCP", "NCAT_REMOTE_ADDR=127.0.0.1", "NCAT_REMOTE_PORT=" + cport, "",
	}, "\n")
	if string(got) != want {
		t.Fatalf("environment:\n%s\nwant:\n%s", got, want)
	}

	// Connecting: the peer is the server.
	l, lport := listen(t)
	seen := make(chan []byte, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		c.CloseWrite()
		b, _ := io.ReadAll(c)
		seen <- b
	})
	if _, stderr, st := runGNC(t, opts{}, "-c", script, "127.0.0.1", lport); st != 0 {
		t.Fatalf("connect: exit %d: %s", st, stderr)
	}
	if b := recvBytes(t, seen); !bytes.Contains(b, []byte("GNC_REMOTE_PORT="+lport+"\n")) || !bytes.Contains(b, []byte("GNC_PROTO=tcp\n")) {
		t.Errorf("connect mode environment:\n%s", b)
	}

	// TLS with a client certificate.
	ca := testca.New(t, "exec CA")
	srv := ca.Server()
	alice := ca.Issue("alice", nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	tp, tport := execServer(t, "--tls", "--cert", srv.CertFile, "--key", srv.KeyFile, "--client-ca", ca.File, "-c", script)
	pool := x509.NewCertPool()
	pool.AddCert(ca.Cert)
	tc, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", "127.0.0.1:"+tport, &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{alice.Pair}})
	if err != nil {
		t.Fatal(err)
	}
	defer tc.Close()
	tc.SetDeadline(time.Now().Add(20 * time.Second))
	tc.CloseWrite()
	tc.NetConn().(*net.TCPConn).CloseWrite()
	got, _ = io.ReadAll(tc)
	for _, line := range []string{"GNC_PROTO=tls", "NCAT_PROTO=TCP", "GNC_TLS_PEER_SUBJECT=CN=alice", "GNC_LOCAL_PORT=" + tport} {
		if !bytes.Contains(got, []byte(line+"\n")) {
			t.Errorf("TLS environment lacks %s:\n%s", line, got)
		}
	}
	tp.wait()
}

// TestExecConnect: gnc HOST PORT -c CMD connects, then runs the program
// on the connection, and exits 0 whatever the program's status, which
// -v shows.
func TestExecConnect(t *testing.T) {
	l, port := listen(t)
	seen := make(chan []byte, 1)
	serveOne(t, l, func(c *net.TCPConn) {
		c.Write([]byte("from the server\n"))
		c.CloseWrite()
		b, _ := io.ReadAll(c)
		seen <- b
	})
	_, stderr, st := runGNC(t, opts{}, "-v", "-c", `cat; echo "port $GNC_REMOTE_PORT"; exit 3`, "127.0.0.1", port)
	if st != 0 || !regexp.MustCompile(`(?m)^Closed 127\.0\.0\.1 `+port+`: .* \(pid \d+\): exit 3$`).MatchString(stderr) {
		t.Fatalf("exit %d, stderr:\n%s", st, stderr)
	}
	if got, want := string(recvBytes(t, seen)), "from the server\nport "+port+"\n"; got != want {
		t.Fatalf("server got %q, want %q", got, want)
	}
}

func recvBytes(t *testing.T, ch <-chan []byte) []byte {
	t.Helper()
	select {
	case b := <-ch:
		return b
	case <-time.After(20 * time.Second):
		t.Fatal("the test's server read nothing within 20s")
		return nil
	}
}

// TestExecStderr: the program's stderr goes to gnc's stderr, or with
// --exec-stderr (exec:...,stderr) into the connection.
func TestExecStderr(t *testing.T) {
	cmd := "echo out; echo err >&2"
	p, port := execServer(t, "-c", cmd)
	if got := ask(t, port, nil); string(got) != "out\n" {
		t.Fatalf("connection got %q, want only stdout", got)
	}
	p.waitLine(`^err$`)
	p.wait()

	p, port = execServer(t, "--exec-stderr", "-c", cmd)
	if got := ask(t, port, nil); string(got) != "out\nerr\n" {
		t.Fatalf("connection got %q, want stdout and stderr", got)
	}
	p.wait()

	r, rport := startRelay(t, "listen:127.0.0.1:0", "exec:"+cmd+",stderr")
	if got := ask(t, rport, nil); string(got) != "out\nerr\n" {
		t.Fatalf("relay: connection got %q, want stdout and stderr", got)
	}
	r.stop(syscall.SIGTERM, 0)
	if strings.Contains(r.stderr(), "\nerr") {
		t.Fatalf("relay: stderr went to gnc's stderr too:\n%s", r.stderr())
	}
}

// TestExecPTY: with --pty the program runs on a terminal of its own, and
// the peer's end of data reaches it as the terminal's EOF character.
func TestExecPTY(t *testing.T) {
	_, port := execServer(t, "--pty", "-c", `tty; stty size; cat; echo done`)
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	// Typed once the program is reading, so that the terminal's echo of
	// it comes after the first lines.
	var head []byte
	for !bytes.HasSuffix(head, []byte("24 80\r\n")) {
		b := make([]byte, 1)
		if _, err := c.Read(b); err != nil {
			t.Fatalf("read %q, then %v", head, err)
		}
		head = append(head, b...)
	}
	c.Write([]byte("typed\n"))
	c.CloseWrite()
	rest, _ := io.ReadAll(c)
	// The terminal echoes what is typed, cat writes it back, and lines end
	// with CRLF; the end of data is the EOF character, which makes cat end.
	if !regexp.MustCompile(`^/dev/pts/\d+\r\n24 80\r\n$`).Match(head) || string(rest) != "typed\r\ntyped\r\ndone\r\n" {
		t.Fatalf("terminal session: %q then %q", head, rest)
	}
	r, rport := startRelay(t, "listen:127.0.0.1:0", "exec:tty,pty")
	if got := ask(t, rport, nil); !regexp.MustCompile(`^/dev/pts/\d+\r\n$`).Match(got) {
		t.Fatalf("relay exec:tty,pty: %q", got)
	}
	r.stop(syscall.SIGTERM, 0)
}

// children returns the pids of pid's children, and those that are zombies.
func children(t *testing.T, pid int) (all, zombies []int) {
	t.Helper()
	ents, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc")
	}
	for _, e := range ents {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		b, err := os.ReadFile("/proc/" + e.Name() + "/stat")
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces and parentheses.
		f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
		if len(f) < 2 || f[1] != strconv.Itoa(pid) {
			continue
		}
		all = append(all, child)
		if f[0] == "Z" {
			zombies = append(zombies, child)
		}
	}
	return all, zombies
}

// alive reports whether pid runs (a zombie is dead).
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	return len(f) > 0 && f[0] != "Z"
}

// waitChild waits for gnc to have a child running the program comm (as
// /proc names it) and returns its pid.
func waitChild(t *testing.T, p *proc, comm string) int {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		all, _ := children(t, p.cmd.Process.Pid)
		for _, pid := range all {
			if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid)); err == nil && strings.TrimSpace(string(b)) == comm {
				return pid
			}
		}
		time.Sleep(10 * time.Millisecond) // polling a process list, bounded
	}
	t.Fatalf("gnc started no child running %s", comm)
	return 0
}

// TestExecSignals: SIGTERM to gnc ends its children (SIGTERM, then
// SIGKILL 2s later for one that ignores it) and leaves none behind; nc
// mode exits 143, a relay drains first and exits 0.
func TestExecSignals(t *testing.T) {
	for _, c := range []struct {
		name   string
		args   []string
		status int
		line   string
	}{
		{"nc", []string{"-l", "-v", "127.0.0.1", "0", "-c", "exec sleep 60"}, 143, `^Closed 127\.0\.0\.1 \d+: exec sleep 60 \(pid \d+\): killed by SIGTERM$`},
		{"nc ignoring SIGTERM", []string{"-l", "-v", "-k", "127.0.0.1", "0", "-c", `trap "" TERM; exec sleep 60`}, 143, `killed by SIGKILL$`},
		{"relay", []string{"relay", "-v", "--drain", "1s", "listen:127.0.0.1:0", "exec:exec sleep 60"}, 0, `#1 closed .* cancelled, killed by SIGTERM$`},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := start(t, opts{}, c.args...)
			m := p.waitLine(`(?:Listening on \S+ |listening on \S+:)(\d+)`)
			conn := dial(t, m[1])
			defer conn.Close()
			// Once it runs sleep, the shell has set its trap.
			child := waitChild(t, p, "sleep")
			t0 := time.Now()
			p.signal(syscall.SIGTERM)
			p.waitLine(c.line)
			if st := p.wait(); st != c.status {
				t.Fatalf("exit %d, want %d: %s", st, c.status, p.stderr())
			}
			if alive(child) {
				syscall.Kill(child, syscall.SIGKILL)
				t.Fatalf("child %d still runs after gnc exited", child)
			}
			if d := time.Since(t0); d > 8*time.Second {
				t.Errorf("gnc took %v to end its child", d)
			}
		})
	}
}

// TestExecManyClients: 200 short clients of -l -k -e /bin/cat, 50 at a
// time; then gnc's descriptors are back where they started and it has no
// child left, running or zombie.
func TestExecManyClients(t *testing.T) {
	p, port := execServer(t, "-k", "-e", "/bin/cat")
	pid := p.cmd.Process.Pid
	fds := func() int {
		ents, err := os.ReadDir(fmt.Sprintf("/proc/%d/fd", pid))
		if err != nil {
			t.Skip("no /proc")
		}
		return len(ents)
	}
	before := fds()
	var wg sync.WaitGroup
	sem := make(chan struct{}, 50)
	req := bytes.Repeat([]byte("q"), 64)
	for range 200 {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			c, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err != nil {
				t.Error(err)
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(20 * time.Second))
			c.Write(req)
			c.(*net.TCPConn).CloseWrite()
			if got, err := io.ReadAll(c); err != nil || !bytes.Equal(got, req) {
				t.Errorf("echo %q, %v", got, err)
			}
		}()
	}
	wg.Wait()
	deadline := time.Now().Add(10 * time.Second)
	for {
		all, zombies := children(t, pid)
		n := fds()
		if len(all) == 0 && n <= before {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after 200 clients: %d children (%d zombies), %d descriptors (%d before)", len(all), len(zombies), n, before)
		}
		time.Sleep(20 * time.Millisecond) // polling counts, bounded
	}
	p.waitLines(`^Closed 127\.0\.0\.1 \d+: /bin/cat \(pid \d+\): exit 0$`, 200)
	p.stop(syscall.SIGTERM, 143)
}

// TestExecNoDescriptorsLeak: the program has its three descriptors and no
// other of gnc's (sockets, pipes, the listener, nor what gnc inherited).
func TestExecNoDescriptorsLeak(t *testing.T) {
	extra, err := os.Open("/dev/null") // inherited by gnc, not close-on-exec
	if err != nil {
		t.Fatal(err)
	}
	defer extra.Close()
	cmd := exec.Command(gncPath, "-l", "-v", "127.0.0.1", "0", "-e", "ls -l /proc/self/fd")
	cmd.ExtraFiles = []*os.File{extra}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	defer cmd.Process.Kill()
	line, err := bufio.NewReader(stderr).ReadString('\n')
	m := regexp.MustCompile(`^Listening on \S+ (\d+)\n$`).FindStringSubmatch(line)
	if m == nil {
		t.Fatalf("first line %q, %v", line, err)
	}
	got := ask(t, m[1], nil)
	for _, line := range strings.Split(strings.TrimSpace(string(got)), "\n")[1:] {
		f := strings.Fields(line)
		if len(f) < 3 {
			continue
		}
		fd, target := f[len(f)-3], f[len(f)-1]
		if fd != "0" && fd != "1" && fd != "2" && !strings.HasPrefix(target, "/proc/") {
			t.Errorf("the program has descriptor %s -> %s", fd, target)
		}
	}
}

// TestExecStartFailures: a program not found is a usage error before
// anything listens; a start that fails later is one line and exit 1 when
// connecting, and a -v line with the server going on when listening; a
// shell command's own failure is its exit status.
func TestExecStartFailures(t *testing.T) {
	for _, args := range [][]string{
		{"-e", "gnc-no-such-program", "127.0.0.1", "1"},
		{"-l", "-e", "gnc-no-such-program", "127.0.0.1", "0"},
		{"-l", "-e", "/etc/passwd", "127.0.0.1", "0"},
		{"-l", "-e", "cat 'unclosed", "127.0.0.1", "0"},
	} {
		_, stderr, st := runGNC(t, opts{}, args...)
		if st != 2 || !strings.Contains(stderr, args[len(args)-3]) && !strings.Contains(stderr, "quote") || strings.Contains(stderr, "Listening") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2 naming the program", args, st, stderr)
		}
	}
	script := filepath.Join(t.TempDir(), "handler")
	if err := os.WriteFile(script, []byte("#!/nonexistent/interpreter\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, port := listen(t)
	serveOne(t, l, func(c *net.TCPConn) { io.ReadAll(c) })
	_, stderr, st := runGNC(t, opts{}, "-e", script, "127.0.0.1", port)
	if st != 1 || strings.Count(stderr, "\n") > 2 || !strings.Contains(stderr, "gnc: exec "+script+": cannot start: its interpreter /nonexistent/interpreter") {
		t.Fatalf("connect: exit %d, stderr %q", st, stderr)
	}
	l.Close()

	p, sport := execServer(t, "-k", "-e", script)
	for range 2 {
		if got := ask(t, sport, nil); len(got) != 0 {
			t.Fatalf("got %q from a program that did not start", got)
		}
		p.waitLine(`^gnc: exec ` + regexp.QuoteMeta(script) + `: cannot start: its interpreter`)
	}
	p.stop(syscall.SIGTERM, 143)

	p, sport = execServer(t, "-c", "gnc-no-such-command")
	ask(t, sport, nil)
	p.waitLine(`: exit 127$`)
	p.wait()
}

// TestExecHexdump: -x shows what the program and the peer said.
func TestExecHexdump(t *testing.T) {
	p, port := execServer(t, "-x", "-c", "read line; echo \"got $line\"")
	if got := ask(t, port, []byte("ping\n")); string(got) != "got ping\n" {
		t.Fatalf("answer %q", got)
	}
	p.wait()
	for _, s := range []string{"ping", "got ping"} {
		if !strings.Contains(p.stderr(), s) {
			t.Errorf("the dump lacks %q:\n%s", s, p.stderr())
		}
	}
}

// TestEcho: echo: sends back what arrives, half-closing after it.
func TestEcho(t *testing.T) {
	p, port := startRelay(t, "listen:127.0.0.1:0", "echo:")
	data := randomBytes(8<<20, 4)
	if got := ask(t, port, data); sha256Hex(got) != sha256Hex(data) {
		t.Fatalf("echo of %d bytes: %d bytes back, different", len(data), len(got))
	}
	p.waitLine(`#1 closed 127\.0\.0\.1:\d+ <-> echo: after \S+, 8388608 bytes >, 0 bytes <, eof$`)
	p.stop(syscall.SIGTERM, 0)
}

// TestExecExitedPeerSilent: once the program has exited and its output
// has all been sent, the connection ends although the peer is still
// connected and says nothing.
func TestExecExitedPeerSilent(t *testing.T) {
	p, port := execServer(t, "-c", "echo bye")
	c := dial(t, port) // never writes, never half-closes
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if got, err := io.ReadAll(c); err != nil || string(got) != "bye\n" {
		t.Fatalf("read %q, %v; want the output, then end of file", got, err)
	}
	p.waitLine(`^Closed 127\.0\.0\.1 \d+: echo bye \(pid \d+\): exit 0$`)
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}

// TestExecUsage: flags that contradict -e or -c are usage errors, before
// anything listens.
func TestExecUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		msg  string
	}{
		{[]string{"-e", "cat", "-c", "cat"}, "-e and -c exclude each other"},
		{[]string{"--pty"}, "--pty needs -e or -c"},
		{[]string{"--exec-stderr"}, "--exec-stderr needs -e or -c"},
		{[]string{"-e", "cat", "-d"}, "-d is about stdin and stdout"},
		{[]string{"-e", "cat", "-C"}, "-C is about stdin and stdout"},
		{[]string{"-c", "cat", "--send-only"}, "--send-only is about stdin and stdout"},
		{[]string{"-e", "cat", "--pty", "--exec-stderr"}, "exclude each other"},
		{[]string{"-c", " "}, "-c needs a command"},
		{[]string{"-c", "cat", "--broker"}, "--broker is about stdin and stdout"},
		{[]string{"-e", "cat", "--raw"}, "--raw is about stdin and stdout"},
		{[]string{"-e", ""}, "-e needs a program"},
	} {
		_, stderr, st := runGNC(t, opts{}, append([]string{"-l", "-v", "127.0.0.1", "0"}, c.args...)...)
		if st != 2 || !strings.Contains(stderr, c.msg) || strings.Contains(stderr, "Listening") || !strings.Contains(stderr, "gnc: hint: ") {
			t.Errorf("%q: exit %d, stderr %q; want exit 2, %q and a hint", c.args, st, stderr, c.msg)
		}
	}
}

// TestEchoWithoutPeer: echo: paired with a program (neither listens, and
// the program is opened second) echoes through a pipe of its own: what
// the program writes comes back to its stdin, and each side's end of data
// ends the other's.
func TestEchoWithoutPeer(t *testing.T) {
	out := filepath.Join(t.TempDir(), "back")
	_, stderr, st := runGNC(t, opts{}, "relay", "-v", "echo:", "exec:printf hello; exec >&-; cat > "+out)
	if st != 0 {
		t.Fatalf("exit %d: %s", st, stderr)
	}
	if b, err := os.ReadFile(out); err != nil || string(b) != "hello" {
		t.Fatalf("the program got back %q, %v; stderr:\n%s", b, err, stderr)
	}
}

// TestExecGrace: a program that is still running once both directions
// have ended gets 2s to exit, then SIGTERM.
func TestExecGrace(t *testing.T) {
	p, port := execServer(t, "-c", "exec >&- <&-; exec sleep 60")
	c := dial(t, port)
	c.SetDeadline(time.Now().Add(20 * time.Second))
	if b, err := io.ReadAll(c); err != nil || len(b) != 0 {
		t.Fatalf("read %q, %v; want end of file at once", b, err)
	}
	c.CloseWrite()
	t0 := time.Now()
	p.waitLine(`^Closed 127\.0\.0\.1 \d+: .* \(pid \d+\): killed by SIGTERM$`)
	if d := time.Since(t0); d < 2*time.Second || d > 8*time.Second {
		t.Errorf("SIGTERM came %v after both directions ended, want 2s", d)
	}
	if st := p.wait(); st != 0 {
		t.Fatalf("exit %d: %s", st, p.stderr())
	}
}
