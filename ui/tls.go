package ui

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"math"
	"net"
	"os"
	"time"

	"gnc/conn"
	"gnc/relay"
)

// tlsState is implemented by TLS conns.
type tlsState interface {
	ConnectionState() tls.ConnectionState
}

// tlsVersion names a TLS version as people write it.
func tlsVersion(v uint16) string {
	switch v {
	case tls.VersionTLS13:
		return "TLS 1.3"
	case tls.VersionTLS12:
		return "TLS 1.2"
	}
	return tls.VersionName(v)
}

// tlsDetails says, at -v, what a completed handshake settled: version,
// cipher suite, ALPN, and the peer's certificate with its pin. prefix
// starts each line (a relay's time and pairing id).
func (u *UI) tlsDetails(c relay.Conn, prefix string) {
	ts, ok := c.(tlsState)
	if !ok || u.Verbose < 1 {
		return
	}
	cs := ts.ConnectionState()
	if !cs.HandshakeComplete {
		return
	}
	alpn := ""
	if cs.NegotiatedProtocol != "" {
		alpn = ", ALPN " + cs.NegotiatedProtocol
	}
	u.Logf(1, "%s%s, %s%s", prefix, tlsVersion(cs.Version), tls.CipherSuiteName(cs.CipherSuite), alpn)
	if len(cs.PeerCertificates) > 0 {
		u.Logf(1, "%s%s", prefix, certLine(cs.PeerCertificates[0], time.Now()))
	}
}

// certLine describes a certificate on one line: subject, issuer, expiry
// and pin.
func certLine(c *x509.Certificate, now time.Time) string {
	left := c.NotAfter.Sub(now)
	when := fmt.Sprintf("in %d days", int(math.Ceil(left.Hours()/24)))
	if left < 0 {
		when = "expired"
	} else if left < 48*time.Hour {
		when = "in " + left.Round(time.Minute).String()
	}
	return fmt.Sprintf("certificate %s, issued by %s, expires %s (%s), %s", dn(c.Subject.String()), dn(c.Issuer.String()), c.NotAfter.UTC().Format("2006-01-02 15:04 MST"), when, conn.PinOf(c))
}

func dn(s string) string {
	if s == "" {
		return "(no name)"
	}
	return s
}

// clientCert is " (client certificate SUBJECT)" for a TLS conn whose peer
// presented one, for the line that says a client was accepted.
func clientCert(c relay.Conn) string {
	ts, ok := c.(tlsState)
	if !ok {
		return ""
	}
	cs := ts.ConnectionState()
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	return " (client certificate " + dn(cs.PeerCertificates[0].Subject.String()) + ")"
}

// insecure says once, whatever the verbosity, that a TLS connection was
// made without checking the server's certificate.
func (u *UI) insecure(c relay.Conn) {
	if ic, ok := c.(interface{ Insecure() bool }); ok && ic.Insecure() {
		u.insecureOnce.Do(func() { u.Errorf("tls: the server's certificate is not verified (--insecure)") })
	}
}

// unclean says at -v that a TLS peer ended with a bare TCP close rather
// than a close_notify, so what arrived may have been cut short.
func (u *UI) unclean(e relay.Event, prefix string) {
	for _, c := range []relay.Conn{e.Conn, e.Peer} {
		if uc, ok := c.(interface{ Unclean() bool }); ok && uc.Unclean() {
			u.Logf(1, "%sgnc: tls: %s closed the connection without a close_notify: what it sent may be cut short", prefix, addrString(remote(c)))
		}
	}
}

// selfMade prints, whatever the verbosity, the pin of a certificate a TLS
// listener made for itself, as a command that connects to it.
func (u *UI) selfMade(e relay.Event) {
	sp, ok := e.Endpoint.(interface{ SelfPin() (conn.Pin, bool) })
	if !ok {
		return
	}
	pin, ok := sp.SelfPin()
	if !ok {
		return
	}
	host, port := splitAddr(e.Addr)
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		if h, err := os.Hostname(); err == nil {
			host = h
		}
	}
	u.Errorf("tls: self-made certificate %s; connect with: gnc --tls --pin %s %s %s", pin, pin, host, port)
}
