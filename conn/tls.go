package conn

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"math/big"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// TLSOptions are the TLS settings of one endpoint, from gnc's flags or a
// relay endpoint's options. The zero value is a client that verifies the
// server against the system's roots and the host name as typed, with TLS
// 1.2 or later.
type TLSOptions struct {
	// ServerName is the name a client sends (SNI) and checks the server's
	// certificate against; empty: the host as typed. An IP address is
	// checked against the certificate's IP SANs, and is not sent.
	ServerName string
	// CAFile holds PEM roots a client trusts instead of the system's.
	CAFile string
	// Pins makes a client accept exactly the server certificates with
	// these pins, whatever their chain or names; nil: verify normally.
	Pins []Pin
	// Insecure turns a client's verification off.
	Insecure bool
	// CertFile and KeyFile are the PEM certificate (a chain may follow
	// it) and key a server presents, or a client for mutual TLS. A server
	// without them makes an ephemeral certificate (see SelfSigned).
	CertFile, KeyFile string
	// ClientCAFile makes a server require client certificates signed by
	// the PEM roots in it.
	ClientCAFile string
	// ClientPins makes a server require a client certificate with one of
	// these pins.
	ClientPins []Pin
	// ALPN lists the application protocols a client offers, or a server
	// accepts, in order of preference; nil: no ALPN.
	ALPN []string
	// MinVersion is tls.VersionTLS12 or tls.VersionTLS13; zero means 1.2.
	MinVersion uint16
	// HandshakeTimeout bounds each handshake; zero or negative: 10s, so
	// that a peer that connects and never speaks TLS is dropped.
	HandshakeTimeout time.Duration
	// KeyLog receives NSS key-log lines (SSLKEYLOGFILE) so that a capture
	// can be decrypted; nil: none.
	KeyLog io.Writer
	// Endpoint says the options came from a relay endpoint, so messages
	// name them as "cert=FILE" rather than "--cert FILE".
	Endpoint bool
}

// DefaultHandshakeTimeout bounds handshakes when no -w says otherwise.
const DefaultHandshakeTimeout = 10 * time.Second

func (o *TLSOptions) handshakeTimeout() time.Duration {
	if o.HandshakeTimeout <= 0 {
		return DefaultHandshakeTimeout
	}
	return o.HandshakeTimeout
}

// name spells option key as the user gave it: a flag or an endpoint option.
func (o *TLSOptions) name(key string) string {
	if o.Endpoint {
		return key + "="
	}
	return "--" + key
}

func (o *TLSOptions) usagef(hint, format string, args ...any) error {
	return &ParseError{What: "tls settings", Reason: fmt.Sprintf(format, args...), Hint: hint}
}

// check reports settings that contradict each other, before anything is
// dialed or bound.
func (o *TLSOptions) check(server bool) error {
	if len(o.Pins) > 0 && o.Insecure {
		return o.usagef("a pin already accepts exactly one certificate; drop "+o.name("insecure"), "%s and %s exclude each other", o.name("pin"), o.name("insecure"))
	}
	if (o.CertFile == "") != (o.KeyFile == "") {
		return o.usagef("give both, as in "+o.name("cert")+" cert.pem "+o.name("key")+" key.pem", "%s and %s go together", o.name("cert"), o.name("key"))
	}
	if server {
		if len(o.Pins) > 0 || o.CAFile != "" || o.ServerName != "" || o.Insecure {
			return o.usagef("a server checks clients with "+o.name("client-ca")+" or "+o.name("client-pin"), "%s, %s, %s and %s are for connecting, not listening", o.name("pin"), o.name("ca"), o.name("servername"), o.name("insecure"))
		}
		return nil
	}
	if o.ClientCAFile != "" || len(o.ClientPins) > 0 {
		return o.usagef("to check clients' certificates, listen: gnc -l --tls "+o.name("client-ca")+" FILE PORT", "%s and %s are for listening with TLS", o.name("client-ca"), o.name("client-pin"))
	}
	return nil
}

// readFile reads a file named by option key, as a usage error if it
// cannot be read.
func (o *TLSOptions) readFile(key, path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, &FileError{Flag: o.name(key), Path: path, Err: err, Hint: "give a readable PEM file"}
	}
	return b, nil
}

func (o *TLSOptions) certPool(key, path string) (*x509.CertPool, error) {
	b, err := o.readFile(key, path)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, &FileError{Flag: o.name(key), Path: path, Err: errors.New("no PEM certificate in it"), Hint: "give the CA's certificate in PEM form (-----BEGIN CERTIFICATE-----)"}
	}
	return pool, nil
}

func (o *TLSOptions) keyPair() (tls.Certificate, error) {
	certPEM, err := o.readFile("cert", o.CertFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	keyPEM, err := o.readFile("key", o.KeyFile)
	if err != nil {
		return tls.Certificate{}, err
	}
	pair, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		reason := strings.TrimPrefix(err.Error(), "tls: ")
		if strings.Contains(reason, "does not match") {
			return tls.Certificate{}, o.usagef("give the key that was made with this certificate", "the key in %s %s does not match the certificate in %s %s", o.name("key"), o.KeyFile, o.name("cert"), o.CertFile)
		}
		return tls.Certificate{}, o.usagef("give PEM files: the certificate (a chain may follow it) and its private key", "%s %s and %s %s: %s", o.name("cert"), o.CertFile, o.name("key"), o.KeyFile, reason)
	}
	return pair, nil
}

func (o *TLSOptions) base() *tls.Config {
	v := o.MinVersion
	if v == 0 {
		v = tls.VersionTLS12
	}
	return &tls.Config{MinVersion: v, NextProtos: o.ALPN, KeyLogWriter: o.KeyLog}
}

// ClientConfig checks the options and builds the configuration that
// connects to host (as typed): verified against the roots and the name,
// or against the pins, or not at all with Insecure. Every mistake in the
// options or their files is a usage error.
func (o *TLSOptions) ClientConfig(host string) (*tls.Config, error) {
	if err := o.check(false); err != nil {
		return nil, err
	}
	cfg := o.base()
	cfg.ServerName = o.ServerName
	if cfg.ServerName == "" {
		cfg.ServerName = host
	}
	if o.CAFile != "" {
		pool, err := o.certPool("ca", o.CAFile)
		if err != nil {
			return nil, err
		}
		cfg.RootCAs = pool
	}
	if o.CertFile != "" {
		pair, err := o.keyPair()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	}
	if len(o.Pins) > 0 || o.Insecure {
		// The pin replaces the chain and name checks; crypto/tls still
		// checks that the peer holds the certificate's key.
		cfg.InsecureSkipVerify = true
	}
	if len(o.Pins) > 0 {
		pins := o.Pins
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 {
				return errors.New("the server sent no certificate")
			}
			if leaf := cs.PeerCertificates[0]; !Matches(pins, leaf) {
				return &PinError{Got: PinOf(leaf), Want: pins}
			}
			return nil
		}
	}
	return cfg, nil
}

// ServerConfig checks the options and builds a server's configuration:
// the certificate from CertFile and KeyFile, or self when they are not
// given, and the client checks asked for.
func (o *TLSOptions) ServerConfig(self *tls.Certificate) (*tls.Config, error) {
	if err := o.check(true); err != nil {
		return nil, err
	}
	cfg := o.base()
	switch {
	case o.CertFile != "":
		pair, err := o.keyPair()
		if err != nil {
			return nil, err
		}
		cfg.Certificates = []tls.Certificate{pair}
	case self != nil:
		cfg.Certificates = []tls.Certificate{*self}
	default:
		return nil, o.usagef("give "+o.name("cert")+" and "+o.name("key"), "a TLS server needs a certificate")
	}
	if o.ClientCAFile != "" {
		pool, err := o.certPool("client-ca", o.ClientCAFile)
		if err != nil {
			return nil, err
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	if len(o.ClientPins) > 0 {
		if cfg.ClientAuth == tls.NoClientCert {
			cfg.ClientAuth = tls.RequireAnyClientCert
		}
		pins := o.ClientPins
		cfg.VerifyConnection = func(cs tls.ConnectionState) error {
			if len(cs.PeerCertificates) == 0 || !Matches(pins, cs.PeerCertificates[0]) {
				got := "none"
				if len(cs.PeerCertificates) > 0 {
					got = PinOf(cs.PeerCertificates[0]).String()
				}
				return fmt.Errorf("client certificate %s is not pinned", got)
			}
			return nil
		}
	}
	return cfg, nil
}

// SelfSigned makes an ephemeral ECDSA P-256 certificate for a server
// started without one, valid for names (DNS names or IP addresses) from
// an hour ago for a week, and returns it with its pin.
func SelfSigned(names []string) (tls.Certificate, Pin, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return tls.Certificate{}, Pin{}, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return tls.Certificate{}, Pin{}, err
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "gnc self-made certificate", Organization: []string{"gnc"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
	}
	seen := map[string]bool{}
	for _, n := range names {
		n = strings.TrimSuffix(strings.Trim(n, "[]"), ".")
		if n == "" || seen[n] {
			continue
		}
		seen[n] = true
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return tls.Certificate{}, Pin{}, err
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		return tls.Certificate{}, Pin{}, err
	}
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, PinOf(leaf), nil
}

// SelfNames are the names a self-made certificate for a listener on host
// covers: host itself when it is a specific address or name, localhost,
// the machine's host name and its addresses.
func SelfNames(host string) []string {
	names := []string{"localhost", "127.0.0.1", "::1"}
	if host != "" && !net.ParseIP(host).IsUnspecified() {
		names = append([]string{host}, names...)
	}
	if h, err := os.Hostname(); err == nil {
		names = append(names, h)
	}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			if ipn, ok := a.(*net.IPNet); ok {
				names = append(names, ipn.IP.String())
			}
		}
	}
	return names
}

// PinError is a server certificate that matches none of the pins.
type PinError struct {
	Got  Pin
	Want []Pin
}

// Error names both the certificate's pin and the pins expected.
func (e *PinError) Error() string {
	want := make([]string, len(e.Want))
	for i, p := range e.Want {
		want[i] = p.String()
	}
	return fmt.Sprintf("certificate %s does not match the pin %s", e.Got, strings.Join(want, " or "))
}

// TLSError is a handshake that failed: the reason in words, naming the
// peer, with a hint at the command that would work when there is one.
type TLSError struct {
	// Peer names the other end: "example.com port 443" or an address.
	Peer string
	// Reason says what went wrong in a few words.
	Reason string
	// Hint, if not empty, suggests what to do.
	Hint string
	// Err is the error crypto/tls returned.
	Err error
}

// Error reads "tls: cannot verify example.com port 443: certificate
// expired on ..." or "tls handshake with 127.0.0.1:5555 failed: ...".
func (e *TLSError) Error() string { return "tls: " + e.Peer + ": " + e.Reason }

// Unwrap gives crypto/tls's error.
func (e *TLSError) Unwrap() error { return e.Err }

// HintText is the hint shown after the error.
func (e *TLSError) HintText() string { return e.Hint }

// describeHandshake turns a handshake failure into one line in words.
// client says which side we are; timeout is the bound that applied.
func describeHandshake(err error, peer string, client bool, timeout time.Duration, o *TLSOptions) error {
	te := &TLSError{Peer: peer, Err: err}
	var cve *tls.CertificateVerificationError
	var pe *PinError
	var rhe tls.RecordHeaderError
	var oe *net.OpError
	switch {
	case errors.As(err, &pe):
		te.Reason = pe.Error()
		te.Hint = "if the server's certificate was changed on purpose, pin the new one: " + o.name("pin") + " " + pe.Got.String()
	case errors.As(err, &cve):
		te.Reason = "cannot verify the certificate: " + verifyReason(cve.Err)
		var he x509.HostnameError
		if client && len(cve.UnverifiedCertificates) > 0 {
			pin := PinOf(cve.UnverifiedCertificates[0])
			te.Hint = fmt.Sprintf("to trust exactly this certificate, add %s %s; or give its CA with %s FILE, or %s to skip verification", o.name("pin"), pin, o.name("ca"), o.name("insecure"))
			if errors.As(cve.Err, &he) {
				te.Hint = fmt.Sprintf("connect by one of the certificate's names, or check against one with %s NAME; or trust exactly this certificate: %s %s", o.name("servername"), o.name("pin"), pin)
			}
		} else if !client {
			te.Reason = "client certificate rejected: " + verifyReason(cve.Err)
		}
	case errors.As(err, &rhe):
		te.Reason = "the peer does not speak TLS"
		if client {
			te.Hint = "leave out --tls for a plain TCP service"
		}
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded):
		te.Reason = "no handshake within " + timeout.String()
	case errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, net.ErrClosed):
		te.Reason = "the peer closed the connection during the handshake"
	case errors.As(err, &oe) && oe.Op == "remote error":
		te.Reason = "remote error: " + oe.Err.Error()
	default:
		te.Reason = strings.TrimPrefix(Reason(err), "tls: ")
	}
	return te
}

// verifyReason renders a certificate verification failure in words.
func verifyReason(err error) string {
	var inv x509.CertificateInvalidError
	var host x509.HostnameError
	var ua x509.UnknownAuthorityError
	switch {
	case errors.As(err, &inv) && inv.Reason == x509.Expired && inv.Cert != nil:
		now := time.Now()
		if now.Before(inv.Cert.NotBefore) {
			return "not valid before " + inv.Cert.NotBefore.UTC().Format("2006-01-02 15:04 MST")
		}
		return "expired on " + inv.Cert.NotAfter.UTC().Format("2006-01-02 15:04 MST")
	case errors.As(err, &host) && host.Certificate != nil:
		var names []string
		for _, ip := range host.Certificate.IPAddresses {
			names = append(names, ip.String())
		}
		names = append(names, host.Certificate.DNSNames...)
		if len(names) == 0 && host.Certificate.Subject.CommonName != "" {
			names = []string{host.Certificate.Subject.CommonName + " (common name only)"}
		}
		if len(names) > 10 {
			names = append(names[:10], fmt.Sprintf("and %d more", len(names)-10))
		}
		return fmt.Sprintf("name mismatch: %s is not among the certificate's names (%s)", host.Host, strings.Join(names, ", "))
	case errors.As(err, &ua):
		if ua.Cert != nil {
			return "signed by an unknown authority (" + ua.Cert.Issuer.String() + ")"
		}
		return "signed by an unknown authority"
	}
	return strings.TrimPrefix(err.Error(), "x509: ")
}

// rawSocket is the socket under a TLS conn: it must be able to end its
// sending direction alone, after the close_notify.
type rawSocket interface {
	net.Conn
	CloseWrite() error
}

// eofWatch is the socket under a TLS conn, as crypto/tls reads and writes
// it. It notes when the socket reaches end of file, which tells a peer's
// close_notify (the TLS layer stops reading before the socket's end) from
// a bare TCP close. It can gather the records of one large Write into one
// system call (crypto/tls writes each 16 KiB record on its own), and,
// where the platform allows, read without waiting, so that one Read of the
// TLS conn can return every record that has already arrived.
type eofWatch struct {
	rawSocket
	eof    atomic.Bool
	noWait bool // reads return errWouldBlock rather than wait; set only by the reader

	mu       sync.Mutex
	gather   bool
	gathered *[]byte
}

func (w *eofWatch) Read(p []byte) (int, error) {
	var n int
	var err error
	if w.noWait {
		n, err = readNoWait(w.rawSocket, p)
	} else {
		n, err = w.rawSocket.Read(p)
	}
	if err == io.EOF {
		w.eof.Store(true)
	}
	return n, err
}

func (w *eofWatch) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.gather {
		*w.gathered = append(*w.gathered, p...)
		return len(p), nil
	}
	return w.rawSocket.Write(p)
}

// gatherPool holds the buffers that gather a Write's records.
var gatherPool = sync.Pool{New: func() any { b := make([]byte, 0, 256<<10+64<<10); return &b }}

// startGather makes writes collect until flush.
func (w *eofWatch) startGather() {
	w.mu.Lock()
	w.gather = true
	w.gathered = gatherPool.Get().(*[]byte)
	w.mu.Unlock()
}

// flush writes what was gathered in one go and stops gathering.
func (w *eofWatch) flush() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	b := w.gathered
	w.gather, w.gathered = false, nil
	_, err := w.rawSocket.Write(*b)
	*b = (*b)[:0]
	gatherPool.Put(b)
	return err
}

// errWouldBlock is what a read that would have to wait returns. It is a
// temporary net.Error, so crypto/tls keeps a half-read record and does not
// take the connection for broken.
var errWouldBlock error = wouldBlock{}

type wouldBlock struct{}

func (wouldBlock) Error() string   { return "read would block" }
func (wouldBlock) Timeout() bool   { return true }
func (wouldBlock) Temporary() bool { return true }

// TLSConn is a TLS connection over a socket gnc owns. It is not itself an
// own socket for the copy engine (its bytes are not the socket's), so it
// takes the buffered path; CloseWrite sends close_notify and then the
// TCP FIN, so a half-close crosses TLS as it crosses TCP.
type TLSConn struct {
	*tls.Conn
	raw     *eofWatch
	peer    string
	client  bool
	timeout time.Duration
	opt     *TLSOptions
	dest    string // for Destination; empty when the remote address says it

	// What WaitRead read while waiting, returned by the next Read. Only
	// the goroutine that reads touches them.
	waited    [1]byte
	hasWaited bool
	waitErr   error

	shook atomic.Bool // the handshake is done: Writes may gather records
}

func newTLSConn(raw rawSocket, cfg *tls.Config, client bool, peer string, o *TLSOptions) *TLSConn {
	w := &eofWatch{rawSocket: raw}
	c := &TLSConn{raw: w, peer: peer, client: client, timeout: o.handshakeTimeout(), opt: o}
	if client {
		c.Conn = tls.Client(w, cfg)
	} else {
		c.Conn = tls.Server(w, cfg)
	}
	return c
}

// HandshakeContext runs the handshake, bounded by the handshake timeout,
// and turns a failure into a *TLSError.
func (c *TLSConn) HandshakeContext(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// The handshake's cryptography grows a goroutine's stack to tens of
	// KiB. Run in a goroutine of its own, that stack goes when the
	// handshake ends, instead of staying with the connection's long-lived
	// copy goroutine for as long as the connection sits idle.
	done := make(chan error, 1)
	go func() { done <- c.Conn.HandshakeContext(ctx) }()
	if err := <-done; err != nil {
		return describeHandshake(err, c.peer, c.client, c.timeout, c.opt)
	}
	c.shook.Store(true)
	return nil
}

// Read reads plaintext. A peer that closes its socket without a
// close_notify in the middle of a record has cut the stream short: that
// is an error naming it. At a record boundary it is an end of file, as
// most TLS stacks accept, and Unclean reports it.
func (c *TLSConn) Read(p []byte) (int, error) {
	n, err := c.read(p)
	if err != nil && err != io.EOF {
		err = c.alert(err)
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = &net.OpError{Op: "read", Net: "tls", Source: c.LocalAddr(), Addr: c.RemoteAddr(), Err: errors.New("the peer closed the connection in the middle of a TLS record: the data is cut short")}
	}
	return n, err
}

// read returns what WaitRead took, then what has arrived: the first
// record waited for unless WaitRead already waited, and then, while p has
// room for another whole record, every record that is already there.
func (c *TLSConn) read(p []byte) (int, error) {
	n := 0
	if c.hasWaited {
		c.hasWaited = false
		if len(p) == 0 {
			return 0, nil
		}
		p[0], n = c.waited[0], 1
	} else if c.waitErr != nil {
		err := c.waitErr
		c.waitErr = nil
		return 0, err
	} else {
		m, err := c.Conn.Read(p)
		if err != nil || !canReadNoWait {
			return m, err
		}
		n = m
	}
	// A TLS record holds at most 16 KiB of plaintext: read on only while
	// another would fit, so a record is never left half-taken.
	c.raw.noWait = true
	defer func() { c.raw.noWait = false }()
	for len(p)-n >= 16<<10 || n == 1 && len(p) > 1 {
		m, err := c.Conn.Read(p[n:])
		n += m
		if err != nil {
			if err != errWouldBlock && !errors.Is(err, errWouldBlock) {
				// Kept for the next Read: these bytes go first.
				c.waitErr = err
			}
			return n, nil
		}
		if m == 0 {
			break
		}
	}
	return n, nil
}

// Write writes plaintext, gathering the records of one Write into one
// system call; an alert from the peer is one line naming it.
func (c *TLSConn) Write(p []byte) (int, error) {
	if !c.shook.Load() || len(p) <= 16<<10 {
		n, err := c.Conn.Write(p)
		if err != nil {
			err = c.alert(err)
		}
		return n, err
	}
	c.raw.startGather()
	n, err := c.Conn.Write(p)
	if ferr := c.raw.flush(); err == nil && ferr != nil {
		n, err = 0, ferr
	}
	if err != nil {
		err = c.alert(err)
	}
	return n, err
}

// alert turns an alert the peer sent after the handshake (a TLS 1.3
// server refusing the client's certificate, say) into a *TLSError naming
// the peer; other errors pass unchanged.
func (c *TLSConn) alert(err error) error {
	var oe *net.OpError
	if errors.As(err, &oe) && oe.Op == "remote error" {
		return &TLSError{Peer: c.peer, Reason: "remote error: " + oe.Err.Error(), Err: err}
	}
	return err
}

// Destination names the destination of a client conn through proxies,
// "example.com:443 via proxy", whose remote address is the first proxy's;
// it is empty otherwise.
func (c *TLSConn) Destination() string { return c.dest }

// Insecure reports whether this client conn skipped verifying the
// server's certificate.
func (c *TLSConn) Insecure() bool { return c.client && c.opt.Insecure }

// Unclean reports whether the peer ended its data with a bare TCP close
// rather than a close_notify, so the end may be a truncation.
func (c *TLSConn) Unclean() bool { return c.raw.eof.Load() }

// CloseWrite sends close_notify, then shuts the socket's sending side.
func (c *TLSConn) CloseWrite() error {
	err := c.Conn.CloseWrite()
	if werr := c.raw.CloseWrite(); err == nil {
		err = werr
	}
	return err
}

// SetLinger sets the socket's SO_LINGER, so that a reset on the other side
// of a relay can be passed on.
func (c *TLSConn) SetLinger(sec int) error {
	if l, ok := c.raw.rawSocket.(interface{ SetLinger(int) error }); ok {
		return l.SetLinger(sec)
	}
	return nil
}

// ParseALPN reads a comma-separated list of application protocols, such
// as "h2,http/1.1".
func ParseALPN(s string) ([]string, error) {
	var protos []string
	for _, p := range strings.Split(s, ",") {
		p = strings.TrimSpace(p)
		if p == "" || len(p) > 255 {
			return nil, &ParseError{What: "ALPN list", Value: s, Reason: "empty or over-long protocol name", Hint: `list protocols as in "h2,http/1.1"`}
		}
		protos = append(protos, p)
	}
	return protos, nil
}

// ParseTLSVersion reads "1.2" or "1.3" (also "tls1.3", "TLSv1.3").
func ParseTLSVersion(s string) (uint16, error) {
	v := strings.TrimPrefix(strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "tls"), "v")
	switch v {
	case "1.2":
		return tls.VersionTLS12, nil
	case "1.3":
		return tls.VersionTLS13, nil
	}
	return 0, &ParseError{What: "TLS version", Value: s, Reason: "gnc speaks TLS 1.2 and 1.3", Hint: `give "1.2" or "1.3"`}
}

// TLSPeer names a host and port for TLS messages: "example.com port 443".
func TLSPeer(host string, port int) string {
	return host + " port " + strconv.Itoa(port)
}

// TLSDialer is an endpoint that connects over TCP and then TLS.
type TLSDialer struct {
	*TCPDialer
	opt *TLSOptions
	cfg *tls.Config
}

// NewTLSDialer makes a TLS client endpoint over d; every mistake in o is
// reported now, as a usage error, before anything is dialed.
func NewTLSDialer(d *TCPDialer, o *TLSOptions) (*TLSDialer, error) {
	cfg, err := o.ClientConfig(d.Host)
	if err != nil {
		return nil, err
	}
	return &TLSDialer{TCPDialer: d, opt: o, cfg: cfg}, nil
}

// String is "tls:host:port", as written in a relay endpoint.
func (d *TLSDialer) String() string { return "tls:" + d.TCPDialer.String() }

// Open connects and completes the handshake, so a verification failure
// is the endpoint's failure to open, reported before any byte moves.
func (d *TLSDialer) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	raw, prefix, err := d.dial(ctx)
	if err != nil {
		return nil, err
	}
	c := newTLSConn(withPrefix(raw, prefix), d.cfg, true, TLSPeer(d.Host, d.Port), d.opt)
	if len(d.Proxies) > 0 {
		c.dest = d.targetAddr() + " via proxy"
	}
	if err := c.HandshakeContext(ctx); err != nil {
		raw.Close()
		return nil, err
	}
	return c, nil
}

// TLSListener is an endpoint that accepts TCP connections and speaks TLS
// on them as a server. Open returns conns whose handshake has not run:
// the relay server runs it in each connection's own goroutine (the conn
// is a relay.Handshaker), so a client that never speaks TLS holds up no
// one else.
type TLSListener struct {
	*TCPListener
	*TLSServer
}

// TLSServer is a checked server configuration, made before anything is
// bound so that a mistake in it binds nothing.
type TLSServer struct {
	opt  *TLSOptions
	cfg  *tls.Config
	self *Pin // the self-made certificate's pin, if it has one
}

// NewTLSServer checks o and builds the server side of TLS for a listener
// on host (as typed; empty for every address). Without a certificate in
// o it makes an ephemeral one for host and the machine's names, whose pin
// SelfPin reports so that it can be shown.
func NewTLSServer(host string, o *TLSOptions) (*TLSServer, error) {
	var self *tls.Certificate
	var pin Pin
	if o.CertFile == "" && o.KeyFile == "" {
		if err := o.check(true); err != nil {
			return nil, err
		}
		cert, p, err := SelfSigned(SelfNames(host))
		if err != nil {
			return nil, fmt.Errorf("tls: making a certificate: %w", err)
		}
		self, pin = &cert, p
	}
	cfg, err := o.ServerConfig(self)
	if err != nil {
		return nil, err
	}
	s := &TLSServer{opt: o, cfg: cfg}
	if self != nil {
		s.self = &pin
	}
	return s, nil
}

// Listener serves TLS on l.
func (s *TLSServer) Listener(l *TCPListener) *TLSListener {
	return &TLSListener{TCPListener: l, TLSServer: s}
}

// SelfPin returns the pin of the certificate the server made for itself;
// ok is false when it presents one it was given.
func (s *TLSServer) SelfPin() (pin Pin, ok bool) {
	if s.self == nil {
		return Pin{}, false
	}
	return *s.self, true
}

// String is "tls-listen:..." for a listener written "listen:...".
func (l *TLSListener) String() string { return "tls-" + l.TCPListener.String() }

// Open accepts the next client and returns its TLS conn, before the
// handshake.
func (l *TLSListener) Open(ctx context.Context) (io.ReadWriteCloser, error) {
	c, err := l.TCPListener.Open(ctx)
	if err != nil {
		return nil, err
	}
	raw, ok := c.(rawSocket)
	if !ok {
		c.Close()
		return nil, fmt.Errorf("tls: accepted conn %T cannot carry TLS", c)
	}
	return newTLSConn(raw, l.cfg, false, raw.RemoteAddr().String(), l.opt), nil
}
