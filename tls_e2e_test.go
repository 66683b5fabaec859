//go:build linux

package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"crypto/tls"
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

	"gnc/conn"
	"gnc/internal/testca"
)

// selfMade waits for a TLS listener's self-made certificate line and
// returns the pasteable command's arguments (after "gnc") and the pin.
func selfMade(t *testing.T, p *proc) (args []string, pin string) {
	t.Helper()
	m := p.waitLine(`^gnc: tls: self-made certificate (SHA256:[0-9a-f]{64}); connect with: gnc (--tls --pin SHA256:[0-9a-f]{64} \S+ \d+)$`)
	return strings.Fields(m[2]), m[1]
}

// TestTLSSelfMadePaste: gnc -l --tls needs no certificate, prints one line
// before Listening, and the command in it works when pasted.
func TestTLSSelfMadePaste(t *testing.T) {
	out := newLockedBuffer()
	l := start(t, opts{stdin: "hello from the server\n", stdout: out}, "-l", "--tls", "127.0.0.1", "0", "-v")
	args, _ := selfMade(t, l)
	l.port() // the Listening line comes after the certificate's
	if lines := strings.Split(l.stderr(), "\n"); !strings.HasPrefix(lines[0], "gnc: tls: self-made") || !strings.HasPrefix(lines[1], "Listening on ") {
		t.Fatalf("stderr:\n%s", l.stderr())
	}
	got, stderr, st := runGNC(t, opts{stdin: "hello from the client\n"}, args...)
	if st != 0 || got != "hello from the server\n" || stderr != "" {
		t.Fatalf("pasted %q: exit %d, out %q, stderr %q", args, st, got, stderr)
	}
	if st := l.wait(); st != 0 || string(out.bytes()) != "hello from the client\n" {
		t.Fatalf("server: exit %d, out %q: %s", st, out.bytes(), l.stderr())
	}
}

// tlsServerProc runs gnc -l --tls with a certificate and returns its port.
func tlsServerProc(t *testing.T, o opts, extra ...string) (*proc, string) {
	t.Helper()
	p := start(t, o, append([]string{"-l", "--tls", "127.0.0.1", "0", "-v"}, extra...)...)
	return p, p.port()
}

// TestTLSVerifyFailures: each failure is one line naming the host and the
// reason in words, a hint with the pin just seen, and exit 1.
func TestTLSVerifyFailures(t *testing.T) {
	ca := testca.New(t, "gnc test CA")
	good := ca.Server()
	old := ca.Issue("old", []string{"127.0.0.1"}, time.Now().Add(-72*time.Hour), time.Now().Add(-24*time.Hour))
	for _, c := range []struct {
		name   string
		leaf   testca.Leaf
		client []string
		line   string
		hint   string
	}{
		{"unknown authority", good, nil, `cannot verify the certificate: signed by an unknown authority \(CN=gnc test CA\)$`, `--pin ` + conn.PinOf(good.Cert).String() + `; or give its CA with --ca FILE, or --insecure`},
		{"name mismatch", good, []string{"--ca", ca.File, "--servername", "db.example"}, `cannot verify the certificate: name mismatch: db\.example is not among the certificate's names \(127\.0\.0\.1, localhost\)$`, `--servername NAME; or trust exactly this certificate: --pin ` + conn.PinOf(good.Cert).String()},
		{"expired", old, []string{"--ca", ca.File}, `cannot verify the certificate: expired on ` + regexp.QuoteMeta(old.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")) + `$`, `--pin ` + conn.PinOf(old.Cert).String()},
		{"pin mismatch", good, []string{"--pin", conn.PinOf(old.Cert).String()}, `certificate ` + conn.PinOf(good.Cert).String() + ` does not match the pin ` + conn.PinOf(old.Cert).String() + `$`, `pin the new one: --pin ` + conn.PinOf(good.Cert).String()},
	} {
		t.Run(c.name, func(t *testing.T) {
			srv, port := tlsServerProc(t, opts{}, "--cert", c.leaf.CertFile, "--key", c.leaf.KeyFile)
			args := append(append([]string{"--tls"}, c.client...), "127.0.0.1", port)
			_, stderr, st := runGNC(t, opts{}, args...)
			lines := strings.Split(stderr, "\n")
			if st != 1 || len(lines) != 2 || !regexp.MustCompile(`^gnc: tls: 127\.0\.0\.1 port `+port+`: `+c.line).MatchString(lines[0]) || !strings.Contains(lines[1], c.hint) || !strings.HasPrefix(lines[1], "gnc: hint: ") {
				t.Fatalf("exit %d, stderr:\n%s\nwant exit 1, %s and a hint with %q", st, stderr, c.line, c.hint)
			}
			srv.stop(syscall.SIGTERM, 143)
		})
	}
	// Verified by the CA, by name and by IP address.
	for _, host := range []string{"localhost", "127.0.0.1"} {
		srv, port := tlsServerProc(t, opts{stdin: "ok"}, "--cert", good.CertFile, "--key", good.KeyFile)
		out, stderr, st := runGNC(t, opts{}, "--tls", "--ca", ca.File, host, port)
		if st != 0 || out != "ok" || stderr != "" {
			t.Fatalf("%s: exit %d, out %q, stderr %q", host, st, out, stderr)
		}
		srv.wait()
	}
}

// TestTLSMutual: --client-ca requires client certificates; the verified
// subject is in the -v connection line.
func TestTLSMutual(t *testing.T) {
	ca := testca.New(t, "clients")
	srvLeaf := ca.Server()
	alice := ca.Issue("alice", nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	srv, port := tlsServerProc(t, opts{stdin: "welcome"}, "--cert", srvLeaf.CertFile, "--key", srvLeaf.KeyFile, "--client-ca", ca.File)
	out, stderr, st := runGNC(t, opts{}, "--tls", "--ca", ca.File, "--cert", alice.CertFile, "--key", alice.KeyFile, "localhost", port)
	if st != 0 || out != "welcome" {
		t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
	}
	srv.waitLine(`^Connection received on 127\.0\.0\.1 \d+ \(client certificate CN=alice\)$`)
	srv.wait()

	srv, port = tlsServerProc(t, opts{stdin: "welcome"}, "--cert", srvLeaf.CertFile, "--key", srvLeaf.KeyFile, "--client-ca", ca.File, "-k")
	out, stderr, st = runGNC(t, opts{}, "--tls", "--ca", ca.File, "localhost", port)
	if st != 1 || out != "" || !strings.Contains(stderr, "certificate") || strings.Count(stderr, "\n") > 1 {
		t.Fatalf("without a client certificate: exit %d, out %q, stderr %q", st, out, stderr)
	}
	srv.waitLine(`^gnc: tls: 127\.0\.0\.1:\d+: .*certificate`)
	srv.stop(syscall.SIGTERM, 143)
}

// TestTLSALPNKeyLog: ALPN is offered and accepted, -v names it, and
// SSLKEYLOGFILE receives NSS key-log lines.
func TestTLSALPNKeyLog(t *testing.T) {
	srv := start(t, opts{stdin: "x"}, "-l", "--tls", "--alpn", "http/1.1", "127.0.0.1", "0", "-v")
	_, _ = selfMade(t, srv)
	port := srv.port()
	keylog := filepath.Join(t.TempDir(), "keys")
	_, stderr, st := runGNC(t, opts{env: []string{"SSLKEYLOGFILE=" + keylog}}, "--tls", "--insecure", "--alpn", "h2,http/1.1", "-v", "127.0.0.1", port)
	if st != 0 || !regexp.MustCompile(`(?m)^TLS 1\.3, TLS_\w+, ALPN http/1\.1$`).MatchString(stderr) || !strings.Contains(stderr, "gnc: tls: the server's certificate is not verified (--insecure)") {
		t.Fatalf("exit %d, stderr:\n%s", st, stderr)
	}
	b, err := os.ReadFile(keylog)
	if err != nil || !bytes.Contains(b, []byte("CLIENT_TRAFFIC_SECRET_0 ")) {
		t.Fatalf("key log %q: %v", b, err)
	}
	if fi, _ := os.Stat(keylog); fi.Mode().Perm() != 0o600 {
		t.Fatalf("key log mode %v", fi.Mode().Perm())
	}
	srv.wait()
}

// tlsDial connects to a gnc TLS server on loopback, pinned to its
// certificate, optionally at one TLS version.
func tlsDial(t *testing.T, port, pin string, version uint16) *tls.Conn {
	t.Helper()
	p, err := conn.ParsePin(pin)
	if err != nil {
		t.Fatal(err)
	}
	cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version,
		VerifyConnection: func(cs tls.ConnectionState) error {
			if !conn.Matches([]conn.Pin{p}, cs.PeerCertificates[0]) {
				t.Error("the server's certificate does not match its printed pin")
			}
			return nil
		}}
	c, err := tls.DialWithDialer(&net.Dialer{Timeout: 10 * time.Second}, "tcp", "127.0.0.1:"+port, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(60 * time.Second))
	return c
}

// closeWrite sends close_notify and the FIN.
func closeWrite(t *testing.T, c *tls.Conn) {
	t.Helper()
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	c.NetConn().(*net.TCPConn).CloseWrite()
}

// TestTLSRelayReencrypt: 64 MiB each way, SHA-256 checked, through a
// relay that terminates TLS and originates it again (tls-listen: to tls:)
// in front of a relay that terminates it (tls-listen: to TCP).
func TestTLSRelayReencrypt(t *testing.T) {
	echo := newEchoServer(t)
	inner := start(t, opts{}, "relay", "-v", "tls-listen:127.0.0.1:0", "127.0.0.1:"+echo.port)
	_, innerPin := selfMade(t, inner)
	innerPort := inner.waitLine(`listening on \S+:(\d+) `)[1]
	outer := start(t, opts{}, "relay", "-v", "tls-listen:127.0.0.1:0", "tls:127.0.0.1:"+innerPort+",pin="+innerPin)
	_, outerPin := selfMade(t, outer)
	outerPort := outer.waitLine(`listening on \S+:(\d+) `)[1]

	size := int64(64 << 20)
	if raceBuild {
		size = 8 << 20
	}
	c := tlsDial(t, outerPort, outerPin, 0)
	payload := rand.NewChaCha8([32]byte{7})
	sent, got := sha256.New(), sha256.New()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		io.Copy(io.MultiWriter(c, sent), io.LimitReader(payload, size))
		closeWrite(t, c)
	}()
	n, err := io.Copy(got, c)
	wg.Wait()
	if err != nil || n != size || !bytes.Equal(sent.Sum(nil), got.Sum(nil)) {
		t.Fatalf("echo through two TLS relays: %d of %d bytes, %v, hashes %x %x", n, size, err, sent.Sum(nil), got.Sum(nil))
	}
	c.Close()
	outer.waitLine(`#1 closed .* ` + itoa(size) + ` bytes >, ` + itoa(size) + ` bytes <, eof$`)
	outer.stop(syscall.SIGTERM, 0)
	inner.stop(syscall.SIGTERM, 0)
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// TestTLSHalfClose: a request, its close_notify and FIN, then the reply,
// over TLS 1.2 and 1.3, with gnc as the client and as the server.
func TestTLSHalfClose(t *testing.T) {
	self, _, err := conn.SelfSigned([]string{"127.0.0.1"})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		name := map[uint16]string{tls.VersionTLS12: "1.2", tls.VersionTLS13: "1.3"}[v]
		t.Run("client "+name, func(t *testing.T) {
			l, port := listen(t)
			tl := tls.NewListener(l, &tls.Config{Certificates: []tls.Certificate{self}, MinVersion: v, MaxVersion: v})
			done := make(chan struct{})
			go func() {
				defer close(done)
				c, err := tl.Accept()
				if err != nil {
					return
				}
				defer c.Close()
				c.SetDeadline(time.Now().Add(20 * time.Second))
				req, err := io.ReadAll(c) // to the client's close_notify
				if err != nil {
					t.Errorf("server read: %v", err)
				}
				c.Write(append([]byte("reply to "), req...))
				c.(*tls.Conn).CloseWrite()
			}()
			out, stderr, st := runGNC(t, opts{stdin: "request"}, "--tls", "--insecure", "127.0.0.1", port)
			<-done
			if st != 0 || out != "reply to request" {
				t.Fatalf("exit %d, out %q, stderr %q", st, out, stderr)
			}
		})
		t.Run("server "+name, func(t *testing.T) {
			out := newLockedBuffer()
			srv := start(t, opts{stdin: "reply", stdout: out}, "-l", "--tls", "127.0.0.1", "0", "-v")
			_, spin := selfMade(t, srv)
			c := tlsDial(t, srv.port(), spin, v)
			c.Write([]byte("request"))
			closeWrite(t, c)
			got, err := io.ReadAll(c)
			if err != nil || string(got) != "reply" {
				t.Fatalf("client got %q, %v", got, err)
			}
			if st := srv.wait(); st != 0 || string(out.bytes()) != "request" {
				t.Fatalf("server: exit %d, out %q: %s", st, out.bytes(), srv.stderr())
			}
		})
	}
}

// TestTLSStalledHandshake: a client that connects and never speaks TLS
// holds up neither a -k server nor a single-client listener.
func TestTLSStalledHandshake(t *testing.T) {
	for _, keep := range []bool{true, false} {
		args := []string{"-l", "--tls", "127.0.0.1", "0", "-v"}
		if keep {
			args = append(args, "-k")
		}
		srv := start(t, opts{stdin: "hi"}, args...)
		_, pin := selfMade(t, srv)
		port := srv.port()
		silent := dial(t, port) // never sends a ClientHello
		c := tlsDial(t, port, pin, 0)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if !keep {
			closeWrite(t, c) // -k: a client that has finished sending is done, so it reads first
		}
		got := make([]byte, 2)
		_, err := io.ReadFull(c, got)
		if err != nil || string(got) != "hi" {
			t.Fatalf("keep %v: second client got %q, %v, while the first stalled", keep, got, err)
		}
		silent.Close()
		if keep {
			srv.stop(syscall.SIGTERM, 143)
		} else if st := srv.wait(); st != 0 {
			t.Fatalf("exit %d: %s", st, srv.stderr())
		}
	}
}

// TestTLSScan: -z --tls says which open ports speak TLS.
func TestTLSScan(t *testing.T) {
	srv := start(t, opts{}, "-l", "-k", "--tls", "127.0.0.1", "0", "-v")
	_, pin := selfMade(t, srv)
	tlsPort := srv.port()
	// A plain service that speaks first, as SSH and SMTP do.
	pl, plain := listen(t)
	go func() {
		for {
			c, err := pl.Accept()
			if err != nil {
				return
			}
			c.Write([]byte("SSH-2.0-OpenSSH_9.2\r\n"))
			c.Close()
		}
	}()
	out, stderr, st := runGNC(t, opts{}, "-z", "-v", "--tls", "--pin", pin, "127.0.0.1", tlsPort, plain)
	if st != 0 || out != "" || !strings.Contains(stderr, "Connection to 127.0.0.1 "+tlsPort+" port [tcp/") || !regexp.MustCompile(`(?m)^certificate CN=gnc self-made certificate.*expires .* \(in \d+ days\), SHA256:`).MatchString(stderr) || !strings.Contains(stderr, "port "+plain+": the peer does not speak TLS") {
		t.Fatalf("exit %d, stderr:\n%s", st, stderr)
	}
	_, _, st = runGNC(t, opts{}, "-z", "--tls", "--pin", pin, "127.0.0.1", plain)
	if st != 1 {
		t.Fatalf("a plain port alone: exit %d, want 1", st)
	}
	srv.stop(syscall.SIGTERM, 143)
}

// TestTLSOpenSSL: gnc's client against openssl s_server, and openssl
// s_client against gnc's server.
func TestTLSOpenSSL(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed (apt-get install openssl)")
	}
	ca := testca.New(t, "openssl test")
	leaf := ca.Server()
	for _, v := range []string{"-tls1_2", "-tls1_3"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		var port string
		var srv *exec.Cmd
		// s_server cannot take port 0 and report it: try a few ports.
		for try := 0; try < 10 && srv == nil; try++ {
			port = itoa(int64(20000 + rand.IntN(12000)))
			cmd := exec.CommandContext(ctx, "openssl", "s_server", "-accept", "127.0.0.1:"+port, "-cert", leaf.CertFile, "-key", leaf.KeyFile, "-www", "-quiet", v)
			stderr, _ := cmd.StderrPipe()
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if waitPort(port, 5*time.Second) {
				srv = cmd
				t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
				break
			}
			io.Copy(io.Discard, stderr)
			cmd.Process.Kill()
			cmd.Wait()
		}
		if srv == nil {
			t.Fatal("openssl s_server did not start")
		}
		out, stderr, st := runGNC(t, opts{stdin: "GET / HTTP/1.0\r\n\r\n"}, "--tls", "--ca", ca.File, "localhost", port)
		if st != 0 || !strings.HasPrefix(out, "HTTP/1.0 200 ok") {
			t.Fatalf("%s: exit %d, out %q, stderr %q", v, st, out, stderr)
		}
		srv.Process.Kill()
		srv.Wait()
	}

	// gnc's stdin is held open until openssl's line has arrived, so the
	// exchange does not depend on which side's end of file comes first.
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	out := newLockedBuffer()
	g := start(t, opts{stdin: pr, stdout: out}, "-l", "--tls", "--cert", leaf.CertFile, "--key", leaf.KeyFile, "127.0.0.1", "0", "-v")
	port := g.port()
	cmd := exec.Command("openssl", "s_client", "-connect", "127.0.0.1:"+port, "-CAfile", ca.File, "-verify_return_error", "-quiet", "-servername", "localhost")
	cmd.Stdin = strings.NewReader("from openssl\n")
	var got bytes.Buffer
	cmd.Stdout = &got
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	out.waitLen(t, len("from openssl\n"))
	pw.Write([]byte("from gnc\n"))
	pw.Close()
	if err := cmd.Wait(); err != nil || got.String() != "from gnc\n" {
		t.Fatalf("s_client: %q, %v", got.String(), err)
	}
	if st := g.wait(); st != 0 || string(out.bytes()) != "from openssl\n" {
		t.Fatalf("gnc -l --tls: exit %d, out %q: %s", st, out.bytes(), g.stderr())
	}
}

// waitPort polls a loopback port until it accepts, for peers that cannot
// say when they are ready; bounded by d.
func waitPort(port string, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for time.Now().Before(deadline) {
		if c, err := net.DialTimeout("tcp", "127.0.0.1:"+port, time.Second); err == nil {
			c.Close()
			return true
		}
		time.Sleep(20 * time.Millisecond) // polling a peer's readiness, bounded
	}
	return false
}
