// Package testca makes certificate authorities and certificates for
// gnc's tests: PEM files in a test's temporary directory.
package testca

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// CA is a certificate authority made for one test, writing PEM files
// into the test's temporary directory.
type CA struct {
	t    *testing.T
	dir  string
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	// File is the CA certificate's PEM file.
	File string
	// Cert is the CA's certificate.
	Cert *x509.Certificate
}

var (
	mu     sync.Mutex
	serial int64
)

func next() *big.Int {
	mu.Lock()
	defer mu.Unlock()
	serial++
	return big.NewInt(serial)
}

// New makes a CA whose certificate's common name is name.
func New(t *testing.T, name string) *CA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          next(),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	ca := &CA{t: t, dir: t.TempDir(), cert: cert, key: key, Cert: cert}
	ca.File = ca.Write(name+"-ca.pem", "CERTIFICATE", der)
	return ca
}

// Write writes der as a PEM block of typ into the CA's directory.
func (ca *CA) Write(name, typ string, der []byte) string {
	p := filepath.Join(ca.dir, name)
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		ca.t.Fatal(err)
	}
	return p
}

// Leaf is a certificate the CA issued, with its files.
type Leaf struct {
	CertFile, KeyFile string
	Cert              *x509.Certificate
	Pair              tls.Certificate
}

// Issue makes a leaf for names (DNS names or IP addresses), valid from
// notBefore to notAfter, usable by servers and clients.
func (ca *CA) Issue(cn string, names []string, notBefore, notAfter time.Time) Leaf {
	ca.t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		ca.t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: next(),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    notBefore,
		NotAfter:     notAfter,
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth, x509.ExtKeyUsageClientAuth},
	}
	for _, n := range names {
		if ip := net.ParseIP(n); ip != nil {
			tmpl.IPAddresses = append(tmpl.IPAddresses, ip)
		} else {
			tmpl.DNSNames = append(tmpl.DNSNames, n)
		}
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		ca.t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		ca.t.Fatal(err)
	}
	l := Leaf{
		CertFile: ca.Write(cn+".pem", "CERTIFICATE", der),
		KeyFile:  ca.Write(cn+"-key.pem", "EC PRIVATE KEY", kder),
	}
	l.Cert, _ = x509.ParseCertificate(der)
	if l.Pair, err = tls.LoadX509KeyPair(l.CertFile, l.KeyFile); err != nil {
		ca.t.Fatal(err)
	}
	return l
}

// Server issues a leaf valid now for localhost and 127.0.0.1.
func (ca *CA) Server() Leaf {
	return ca.Issue("server", []string{"localhost", "127.0.0.1"}, time.Now().Add(-time.Hour), time.Now().Add(time.Hour))
}
