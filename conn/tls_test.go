package conn_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gnc/conn"
	"gnc/internal/testca"
)

func TestParsePin(t *testing.T) {
	hexPin := "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	want, err := conn.ParsePin("SHA256:" + hexPin)
	if err != nil {
		t.Fatal(err)
	}
	if want.String() != "SHA256:"+hexPin {
		t.Fatalf("String() = %s", want)
	}
	var colons []string
	for i := 0; i < len(hexPin); i += 2 {
		colons = append(colons, strings.ToUpper(hexPin[i:i+2]))
	}
	for _, s := range []string{
		"sha256:" + strings.ToUpper(hexPin),
		hexPin,
		strings.Join(colons, ":"),
		"sha256 Fingerprint=" + strings.Join(colons, ":"),
		"SHA256 Fingerprint=" + strings.Join(colons, ":"),
		"n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
		"n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg",
		"sha256//n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=",
		"  SHA256:" + hexPin + "\n",
	} {
		got, err := conn.ParsePin(s)
		if err != nil || got != want {
			t.Errorf("ParsePin(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "SHA256:", "SHA256:" + hexPin[:62], "SHA256:" + hexPin + "00", "zz" + hexPin[2:], strings.Join(colons, "::"), "AB:" + hexPin[2:], "md5:" + hexPin} {
		_, err := conn.ParsePin(s)
		var pe *conn.ParseError
		if !errors.As(err, &pe) || pe.Hint == "" {
			t.Errorf("ParsePin(%q) = %v, want a ParseError with a hint", s, err)
		}
	}
}

func FuzzParsePin(f *testing.F) {
	for _, s := range []string{"SHA256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", "n4bQgYhMfWWaL+qgxVrQFaO/TxsrC4Is0V1sFbDwCgg=", "AB:CD", "sha256 Fingerprint=", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := conn.ParsePin(s)
		if err != nil {
			return
		}
		// Whatever form was accepted, the printed form reads back the same.
		q, err := conn.ParsePin(p.String())
		if err != nil || q != p {
			t.Fatalf("ParsePin(%q) = %v, but its String %q reads back as %v, %v", s, p, p.String(), q, err)
		}
	})
}

// tlsServer listens with TLS on loopback and runs serve on each conn after
// its handshake; handshake errors go to errs.
type tlsServer struct {
	port string
	errs chan error
	ln   *conn.TLSListener
}

func startTLSServer(t *testing.T, o *conn.TLSOptions, self *tls.Certificate, serve func(c *conn.TLSConn)) *tlsServer {
	t.Helper()
	l, err := conn.ListenTCP(context.Background(), "127.0.0.1", "0", conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if self != nil {
		o.CertFile, o.KeyFile = writePair(t, self)
	}
	ts, err := conn.NewTLSServer("127.0.0.1", o)
	if err != nil {
		l.Close()
		t.Fatal(err)
	}
	tl := ts.Listener(l)
	s := &tlsServer{ln: tl, errs: make(chan error, 16)}
	_, s.port, _ = net.SplitHostPort(tl.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	t.Cleanup(func() { cancel(); tl.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			rc, err := tl.Open(ctx)
			if err != nil {
				return
			}
			c := rc.(*conn.TLSConn)
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				if err := c.HandshakeContext(ctx); err != nil {
					s.errs <- err
					return
				}
				if serve != nil {
					serve(c)
				}
			}()
		}
	}()
	return s
}

func dialTLS(t *testing.T, host, port string, o *conn.TLSOptions) (*conn.TLSConn, error) {
	t.Helper()
	d, err := conn.NewTCPDialer(host, port, conn.TCPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	td, err := conn.NewTLSDialer(d, o)
	if err != nil {
		t.Fatal(err)
	}
	c, err := td.Open(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { c.Close() })
	return c.(*conn.TLSConn), nil
}

// writePair writes a certificate and its key as PEM files.
func writePair(t *testing.T, c *tls.Certificate) (certFile, keyFile string) {
	t.Helper()
	dir := t.TempDir()
	kder, err := x509.MarshalPKCS8PrivateKey(c.PrivateKey)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pemCert(c.Certificate[0]), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: kder}), 0o600)
	return certFile, keyFile
}

func pemCert(der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
}

func echoTLS(c *conn.TLSConn) {
	io.Copy(c, c)
	c.CloseWrite()
}

func TestTLSVerify(t *testing.T) {
	ca := testca.New(t, "gnc test CA")
	good := ca.Server()
	srv := startTLSServer(t, &conn.TLSOptions{CertFile: good.CertFile, KeyFile: good.KeyFile}, nil, echoTLS)

	for _, host := range []string{"localhost", "127.0.0.1"} {
		c, err := dialTLS(t, host, srv.port, &conn.TLSOptions{CAFile: ca.File})
		if err != nil {
			t.Fatalf("verified handshake with %s: %v", host, err)
		}
		c.Write([]byte("ping"))
		c.CloseWrite()
		if got, err := io.ReadAll(c); string(got) != "ping" || err != nil || c.Unclean() {
			t.Fatalf("echo over TLS: %q, %v, unclean %v", got, err, c.Unclean())
		}
	}

	check := func(name string, err error, reason, hint string) {
		t.Helper()
		var te *conn.TLSError
		if !errors.As(err, &te) {
			t.Fatalf("%s: error %v (%T), want a *conn.TLSError", name, err, err)
		}
		if !strings.Contains(te.Error(), reason) || !strings.Contains(te.Hint, hint) || strings.Contains(te.Error(), "\n") {
			t.Fatalf("%s: error %q, hint %q; want %q and a hint with %q", name, te.Error(), te.Hint, reason, hint)
		}
	}
	_, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{CAFile: ca.File, ServerName: "wrong.example"})
	check("name mismatch", err, "name mismatch: wrong.example is not among the certificate's names (127.0.0.1, localhost)", "--servername NAME; or trust exactly this certificate: --pin "+conn.PinOf(good.Cert).String())
	_, err = dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{})
	check("unknown authority", err, "signed by an unknown authority (CN=gnc test CA)", "--ca FILE")

	old := ca.Issue("expired", []string{"127.0.0.1"}, time.Now().Add(-48*time.Hour), time.Now().Add(-24*time.Hour))
	expSrv := startTLSServer(t, &conn.TLSOptions{CertFile: old.CertFile, KeyFile: old.KeyFile}, nil, echoTLS)
	_, err = dialTLS(t, "127.0.0.1", expSrv.port, &conn.TLSOptions{CAFile: ca.File})
	check("expired", err, "expired on "+old.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST"), "--insecure")
	if _, err := dialTLS(t, "127.0.0.1", expSrv.port, &conn.TLSOptions{Insecure: true}); err != nil {
		t.Fatalf("--insecure: %v", err)
	}

	// A pin accepts exactly its certificate, whatever the chain and name.
	if _, err := dialTLS(t, "wrong-name.invalid", srv.port, &conn.TLSOptions{Pins: []conn.Pin{conn.PinOf(old.Cert), conn.PinOf(good.Cert)}}); err != nil && !strings.Contains(err.Error(), "lookup") {
		t.Fatalf("pinned handshake: %v", err)
	}
	if _, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{Pins: []conn.Pin{conn.PinOf(good.Cert)}}); err != nil {
		t.Fatalf("pinned handshake: %v", err)
	}
	_, err = dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{Pins: []conn.Pin{conn.PinOf(old.Cert)}})
	check("pin mismatch", err, "certificate "+conn.PinOf(good.Cert).String()+" does not match the pin "+conn.PinOf(old.Cert).String(), conn.PinOf(good.Cert).String())
}

func TestTLSSelfSignedPin(t *testing.T) {
	self, pin, err := conn.SelfSigned(conn.SelfNames("127.0.0.1"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(self.Leaf.DNSNames, " "), "localhost") || len(self.Leaf.IPAddresses) == 0 {
		t.Fatalf("self-made names: %v %v", self.Leaf.DNSNames, self.Leaf.IPAddresses)
	}
	srv := startTLSServer(t, &conn.TLSOptions{}, &self, echoTLS)
	p, err := conn.ParsePin(pin.String())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{Pins: []conn.Pin{p}}); err != nil {
		t.Fatalf("connecting with the printed pin: %v", err)
	}
	// Verified against the certificate as its own root, its names hold.
	dir := t.TempDir()
	f := filepath.Join(dir, "self.pem")
	os.WriteFile(f, pemCert(self.Leaf.Raw), 0o600)
	for _, host := range []string{"127.0.0.1", "localhost"} {
		if _, err := dialTLS(t, host, srv.port, &conn.TLSOptions{CAFile: f}); err != nil {
			t.Fatalf("self-made certificate for %s: %v", host, err)
		}
	}
}

func TestTLSMutual(t *testing.T) {
	ca := testca.New(t, "gnc client CA")
	srvLeaf := ca.Server()
	client := ca.Issue("alice", nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	stranger := testca.New(t, "stranger").Issue("mallory", nil, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
	subjects := make(chan string, 4)
	srv := startTLSServer(t, &conn.TLSOptions{CertFile: srvLeaf.CertFile, KeyFile: srvLeaf.KeyFile, ClientCAFile: ca.File}, nil, func(c *conn.TLSConn) {
		subjects <- c.ConnectionState().PeerCertificates[0].Subject.CommonName
		echoTLS(c)
	})
	c, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{CAFile: ca.File, CertFile: client.CertFile, KeyFile: client.KeyFile})
	if err != nil {
		t.Fatal(err)
	}
	c.Write([]byte("x"))
	c.CloseWrite()
	io.ReadAll(c)
	if s := <-subjects; s != "alice" {
		t.Fatalf("server saw client %q", s)
	}
	for _, o := range []*conn.TLSOptions{{CAFile: ca.File}, {CAFile: ca.File, CertFile: stranger.CertFile, KeyFile: stranger.KeyFile}} {
		c, err := dialTLS(t, "127.0.0.1", srv.port, o)
		if err == nil {
			// TLS 1.3 clients learn of the refusal at their first read.
			_, err = c.Read(make([]byte, 1))
		}
		if err == nil {
			t.Fatal("server accepted a client without a trusted certificate")
		}
		serr := <-srv.errs
		if !strings.Contains(serr.Error(), "certificate") {
			t.Fatalf("server's error: %v", serr)
		}
	}

	// Pinning one client instead of a CA.
	psrv := startTLSServer(t, &conn.TLSOptions{CertFile: srvLeaf.CertFile, KeyFile: srvLeaf.KeyFile, ClientPins: []conn.Pin{conn.PinOf(client.Cert)}}, nil, echoTLS)
	if _, err := dialTLS(t, "127.0.0.1", psrv.port, &conn.TLSOptions{CAFile: ca.File, CertFile: client.CertFile, KeyFile: client.KeyFile}); err != nil {
		t.Fatal(err)
	}
	if c, err := dialTLS(t, "127.0.0.1", psrv.port, &conn.TLSOptions{CAFile: ca.File, CertFile: stranger.CertFile, KeyFile: stranger.KeyFile}); err == nil {
		if _, err = c.Read(make([]byte, 1)); err == nil {
			t.Fatal("server accepted an unpinned client")
		}
	}
}

func TestTLSALPNAndKeyLog(t *testing.T) {
	self, _, _ := conn.SelfSigned([]string{"127.0.0.1"})
	srv := startTLSServer(t, &conn.TLSOptions{ALPN: []string{"http/1.1"}}, &self, echoTLS)
	var log bytes.Buffer
	c, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{Insecure: true, ALPN: []string{"h2", "http/1.1"}, KeyLog: &log})
	if err != nil {
		t.Fatal(err)
	}
	if p := c.ConnectionState().NegotiatedProtocol; p != "http/1.1" {
		t.Fatalf("ALPN negotiated %q", p)
	}
	if !strings.Contains(log.String(), "CLIENT_") {
		t.Fatalf("key log: %q", log.String())
	}
}

// TestTLSCloseKinds: close_notify is a clean end; a bare TCP close at a
// record boundary is an end of file that Unclean reports; a close in the
// middle of a record is an error.
func TestTLSCloseKinds(t *testing.T) {
	self, _, _ := conn.SelfSigned([]string{"127.0.0.1"})
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		name := strconv.Itoa(int(v))
		t.Run(name, func(t *testing.T) {
			// Half-close both ways: the server answers after the client's end.
			srv := startTLSServer(t, &conn.TLSOptions{MinVersion: v}, &self, func(c *conn.TLSConn) {
				req, _ := io.ReadAll(c)
				c.Write(append([]byte("re: "), req...))
				c.CloseWrite()
			})
			c, err := dialTLS(t, "127.0.0.1", srv.port, &conn.TLSOptions{Insecure: true, MinVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			c.Write([]byte("hello"))
			if err := c.CloseWrite(); err != nil {
				t.Fatal(err)
			}
			got, err := io.ReadAll(c)
			if string(got) != "re: hello" || err != nil || c.Unclean() {
				t.Fatalf("reply %q, %v, unclean %v", got, err, c.Unclean())
			}

			bare := startTLSServer(t, &conn.TLSOptions{MinVersion: v}, &self, func(c *conn.TLSConn) {
				c.Write([]byte("partial"))
				c.NetConn().Close() // no close_notify
			})
			c, err = dialTLS(t, "127.0.0.1", bare.port, &conn.TLSOptions{Insecure: true, MinVersion: v})
			if err != nil {
				t.Fatal(err)
			}
			got, err = io.ReadAll(c)
			if string(got) != "partial" || err != nil || !c.Unclean() {
				t.Fatalf("bare close: %q, %v, unclean %v", got, err, c.Unclean())
			}
		})
	}

	// Cut in the middle of a record: a man in the middle forwards the
	// handshake, then only the first 100 bytes of what the server sends
	// after it (records here are longer), then closes.
	srv := startTLSServer(t, &conn.TLSOptions{}, &self, func(c *conn.TLSConn) {
		c.Read(make([]byte, 1)) // the client's go-ahead, after its handshake
		c.Write(bytes.Repeat([]byte("x"), 4000))
		c.Read(make([]byte, 1))
	})
	mitm, mport := listenTCP(t)
	cut := make(chan struct{})
	go func() {
		a, err := mitm.Accept()
		if err != nil {
			return
		}
		defer a.Close()
		b, err := net.Dial("tcp", "127.0.0.1:"+srv.port)
		if err != nil {
			return
		}
		defer b.Close()
		go io.Copy(b, a)
		buf := make([]byte, 64<<10)
		left := -1 // forwarding everything until cut
		for left != 0 {
			n, err := b.Read(buf)
			select {
			case <-cut:
				if left < 0 {
					left = 100
				}
			default:
			}
			if left >= 0 {
				n = min(n, left)
				left -= n
			}
			a.Write(buf[:n])
			if err != nil {
				return
			}
		}
	}()
	c, err := dialTLS(t, "127.0.0.1", mport, &conn.TLSOptions{Insecure: true})
	if err != nil {
		t.Fatal(err)
	}
	close(cut)
	c.Write([]byte("g"))
	_, err = io.ReadAll(c)
	if err == nil || !strings.Contains(err.Error(), "in the middle of a TLS record") {
		t.Fatalf("a cut record read as %v", err)
	}
}

func listenTCP(t *testing.T) (net.Listener, string) {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	_, port, _ := net.SplitHostPort(l.Addr().String())
	return l, port
}

// TestTLSOptionMistakes: contradictions and bad files are usage errors,
// found before anything is dialed.
func TestTLSOptionMistakes(t *testing.T) {
	ca := testca.New(t, "ca")
	a, b := ca.Server(), ca.Issue("other", nil, time.Now(), time.Now().Add(time.Hour))
	missing := filepath.Join(t.TempDir(), "missing.pem")
	pin := conn.PinOf(a.Cert)
	for _, c := range []struct {
		o      conn.TLSOptions
		server bool
		want   string
	}{
		{conn.TLSOptions{Pins: []conn.Pin{pin}, Insecure: true}, false, "--pin and --insecure exclude each other"},
		{conn.TLSOptions{CertFile: a.CertFile}, false, "--cert and --key go together"},
		{conn.TLSOptions{CertFile: a.CertFile, KeyFile: b.KeyFile}, true, "does not match the certificate"},
		{conn.TLSOptions{CertFile: missing, KeyFile: a.KeyFile}, true, "--cert " + missing + ": no such file or directory"},
		{conn.TLSOptions{CAFile: missing}, false, "--ca " + missing + ": no such file or directory"},
		{conn.TLSOptions{CAFile: a.KeyFile}, false, "no PEM certificate in it"},
		{conn.TLSOptions{ClientCAFile: ca.File}, false, "--client-ca and --client-pin are for listening"},
		{conn.TLSOptions{Pins: []conn.Pin{pin}}, true, "are for connecting, not listening"},
		{conn.TLSOptions{Endpoint: true, Pins: []conn.Pin{pin}, Insecure: true}, false, "pin= and insecure= exclude each other"},
	} {
		var err error
		if c.server {
			self, _, _ := conn.SelfSigned(nil)
			_, err = c.o.ServerConfig(&self)
		} else {
			_, err = c.o.ClientConfig("localhost")
		}
		var pe *conn.ParseError
		var fe *conn.FileError
		if err == nil || !strings.Contains(err.Error(), c.want) || !(errors.As(err, &pe) || errors.As(err, &fe)) {
			t.Errorf("%+v: error %v (%T), want a usage error containing %q", c.o, err, err, c.want)
		}
	}
}
