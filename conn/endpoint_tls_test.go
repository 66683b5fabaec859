package conn_test

import (
	"context"
	"crypto/tls"
	"errors"
	"testing"

	"gnc/conn"
	"gnc/internal/testca"
)

func TestParseEndpointTLS(t *testing.T) {
	ca := testca.New(t, "ca")
	srv := ca.Server()
	pin := conn.PinOf(srv.Cert).String()
	ctx := context.Background()
	for _, in := range []string{
		"tls:host:443",
		"TLS:host:443,servername=example.com,ca=" + ca.File,
		"ssl:host:443,pin=" + pin + ",pin=" + pin,
		"tcp:host:443,tls,alpn=h2:http/1.1,tls-min=1.3",
		"host:443,tls,insecure,cert=" + srv.CertFile + ",key=" + srv.KeyFile,
	} {
		e, err := conn.ParseEndpoint(ctx, in, conn.Defaults{})
		if err != nil {
			t.Fatalf("ParseEndpoint(%q): %v", in, err)
		}
		d, ok := e.(*conn.TLSDialer)
		if !ok || d.Host != "host" || d.Port != 443 || d.String() != "tls:host:443" {
			t.Fatalf("ParseEndpoint(%q) = %T %v", in, e, e)
		}
	}
	for _, c := range []struct {
		in   string
		self bool
	}{
		{"listen:127.0.0.1:0,tls", true},
		{"tls-listen:127.0.0.1:0", true},
		{"tls-listen:127.0.0.1:0,cert=" + srv.CertFile + ",key=" + srv.KeyFile + ",client-ca=" + ca.File + ",alpn=h2", false},
		{"ssl-listen:127.0.0.1:0,client-pin=" + pin + ",tls-min=1.3", true},
	} {
		e, err := conn.ParseEndpoint(ctx, c.in, conn.Defaults{})
		if err != nil {
			t.Fatalf("ParseEndpoint(%q): %v", c.in, err)
		}
		l, ok := e.(*conn.TLSListener)
		if !ok {
			e.Close()
			t.Fatalf("ParseEndpoint(%q) = %T", c.in, e)
		}
		_, self := l.SelfPin()
		l.Close()
		if self != c.self {
			t.Errorf("ParseEndpoint(%q): self-made certificate %v, want %v", c.in, self, c.self)
		}
	}
	// A missing file is reported before anything is bound, naming the option.
	_, err := conn.ParseEndpoint(ctx, "tls-listen:127.0.0.1:0,cert=/nonexistent,key=/nonexistent", conn.Defaults{})
	var fe *conn.FileError
	if !errors.As(err, &fe) || fe.Flag != "cert=" {
		t.Fatalf("missing cert: %v", err)
	}
	v, err := conn.ParseTLSVersion("TLSv1.3")
	if err != nil || v != tls.VersionTLS13 {
		t.Fatalf("ParseTLSVersion: %v %v", v, err)
	}
}
