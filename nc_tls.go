package main

import (
	"io"
	"os"

	"github.com/urfave/cli/v2"

	"gnc/conn"
	"gnc/ui"
)

// tlsFlags are nc mode's TLS flags, with ncat's names as aliases.
func tlsFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "tls", Aliases: []string{"ssl"}, Usage: "TLS on the connection: client side when connecting, server side with -l (a certificate is made if none is given)"},
		&cli.StringFlag{Name: "ca", Aliases: []string{"ssl-trustfile"}, Usage: "trust the PEM roots in `FILE` instead of the system's"},
		&cli.StringFlag{Name: "servername", Usage: "check the server's certificate against `NAME`, and send it (SNI), instead of the host as typed"},
		&cli.BoolFlag{Name: "insecure", Usage: "do not verify the server's certificate"},
		&cli.BoolFlag{Name: "ssl-verify", Usage: "accepted for ncat scripts: gnc verifies unless --insecure"},
		&cli.StringSliceFlag{Name: "pin", Usage: "accept exactly the server certificate whose SHA-256 is `SHA256:HEX`, whatever its chain or name (repeatable)"},
		&cli.StringFlag{Name: "cert", Aliases: []string{"ssl-cert"}, Usage: "PEM certificate `FILE` (a chain may follow it): the server's, or the client's for mutual TLS"},
		&cli.StringFlag{Name: "key", Aliases: []string{"ssl-key"}, Usage: "PEM private key `FILE` of --cert"},
		&cli.StringFlag{Name: "client-ca", Usage: "with -l --tls, require client certificates signed by the roots in `FILE`"},
		&cli.StringSliceFlag{Name: "client-pin", Usage: "with -l --tls, require the client certificate `SHA256:HEX` (repeatable)"},
		&cli.StringFlag{Name: "alpn", Usage: "application protocols to offer, or with -l to accept: `LIST`, comma-separated, as in h2,http/1.1"},
		&cli.StringFlag{Name: "tls-min", Usage: "lowest TLS `VERSION`: 1.2 (the default) or 1.3"},
	}
}

// tlsOptions reads nc mode's TLS flags; nil when --tls is not given.
func tlsOptions(c *cli.Context, keyLog io.Writer) (*conn.TLSOptions, error) {
	if !c.Bool("tls") {
		for _, name := range tlsOnly {
			if c.IsSet(name) {
				return nil, ui.Usagef(`as in "gnc --tls `+"--"+name+` ... HOST PORT"`, "--%s needs --tls", name)
			}
		}
		return nil, nil
	}
	o := &conn.TLSOptions{
		ServerName:       c.String("servername"),
		CAFile:           c.String("ca"),
		Insecure:         c.Bool("insecure"),
		CertFile:         c.String("cert"),
		KeyFile:          c.String("key"),
		ClientCAFile:     c.String("client-ca"),
		HandshakeTimeout: duration(c, "wait"),
		KeyLog:           keyLog,
	}
	var err error
	for _, f := range []struct {
		name string
		dst  *[]conn.Pin
	}{{"pin", &o.Pins}, {"client-pin", &o.ClientPins}} {
		for _, v := range c.StringSlice(f.name) {
			p, err := conn.ParsePin(v)
			if err != nil {
				return nil, err
			}
			*f.dst = append(*f.dst, p)
		}
	}
	if v := c.String("alpn"); v != "" {
		if o.ALPN, err = conn.ParseALPN(v); err != nil {
			return nil, err
		}
	}
	if v := c.String("tls-min"); v != "" {
		if o.MinVersion, err = conn.ParseTLSVersion(v); err != nil {
			return nil, err
		}
	}
	return o, nil
}

// keyLog opens the file SSLKEYLOGFILE names, as curl and browsers do, so
// that a capture can be decrypted; nil when it is not set.
func keyLog() (*os.File, error) {
	name := os.Getenv("SSLKEYLOGFILE")
	if name == "" {
		return nil, nil
	}
	f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, &conn.FileError{Flag: "SSLKEYLOGFILE", Path: name, Err: err, Hint: "name a file you can write to, or unset SSLKEYLOGFILE"}
	}
	return f, nil
}
