package main

import (
	"errors"
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"gnc/conn"
	"gnc/proxy"
	"gnc/ui"
)

// proxyFlags are nc mode's proxy flags: OpenBSD nc's -X and -P, ncat's
// --proxy-type and --proxy-auth. -x is not nc's proxy here: it is the
// hex dump, as in ncat.
func proxyFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringSliceFlag{Name: "proxy", Usage: "connect through the proxy `URL`: socks5h://, socks5://, socks4a://, socks4:// or http:// [user:pass@]host[:port], host[:port] with -X, or env (ALL_PROXY, and HTTPS_PROXY with --tls; NO_PROXY applies); repeat for a chain, dialed in order"},
		&cli.StringFlag{Name: "X", Usage: "`PROTO` of a --proxy given as host[:port], as in OpenBSD nc: 4 (SOCKS4), 5 (SOCKS5, the default) or connect (HTTP)"},
		&cli.StringFlag{Name: "proxy-type", Usage: "ncat's -X: `TYPE` socks4, socks5 or http"},
		&cli.StringFlag{Name: "proxy-auth", Usage: "credentials `USER:PASS` for each --proxy without its own"},
		&cli.StringFlag{Name: "proxy-user", Usage: "proxy `USER` (OpenBSD nc's -P, which in gnc is the progress meter); the password comes from GNC_PROXY_PASSWORD or a prompt on the terminal"},
	}
}

// proxyOnly are the flags that mean nothing without --proxy.
var proxyOnly = []string{"X", "proxy-type", "proxy-auth", "proxy-user"}

// proxyChain reads nc mode's proxy flags for a connection to host; nil
// when --proxy is not given. With env the chain may come out empty: the
// connection is then direct.
func proxyChain(c *cli.Context, u *ui.UI, host string, tls bool) ([]proxy.Hop, error) {
	values := c.StringSlice("proxy")
	if len(values) == 0 {
		for _, name := range proxyOnly {
			if c.IsSet(name) {
				flag := dashed(name, "")
				return nil, ui.Usagef(`as in "gnc --proxy socks5h://127.0.0.1:1080 HOST PORT"`, "%s needs --proxy", flag)
			}
		}
		return nil, nil
	}
	if c.Bool("listen") {
		return nil, ui.Usagef(`--proxy is for connecting, as in "gnc --proxy HOST:1080 example.com 80"; to serve a proxy, use "gnc relay listen:127.0.0.1:1080 proxy"`, "--proxy works when connecting, not with -l")
	}
	typ := c.String("X")
	if c.IsSet("proxy-type") {
		if c.IsSet("X") {
			return nil, ui.Usagef("-X and --proxy-type say the same thing: give one", "-X and --proxy-type exclude each other")
		}
		typ = c.String("proxy-type")
	}
	if typ != "" {
		if _, err := proxy.ParseHop("127.0.0.1", typ); err != nil {
			return nil, err
		}
	}
	chain, err := conn.ProxyChain(values, typ, host, tls, os.Getenv)
	if err != nil {
		return nil, err
	}
	if len(chain) == 0 {
		u.Logf(1, "gnc: --proxy env: no proxy in the environment for %s: connecting directly", host)
		return nil, nil
	}
	user, pass, have, err := proxyCredentials(c, chain)
	if err != nil || !have {
		return chain, err
	}
	given := false
	for i, h := range chain {
		if h.HasAuth() {
			continue
		}
		p := pass
		if h.Kind == proxy.SOCKS4 || h.Kind == proxy.SOCKS4a {
			p = "" // a SOCKS4 user id has no password
		}
		if chain[i], err = h.WithAuth(user, p); err != nil {
			return nil, err
		}
		given = true
	}
	if !given {
		return nil, ui.Usagef("give credentials once: in the URL, or with --proxy-auth or -P for a proxy written host[:port]", "every --proxy has credentials in its URL already")
	}
	return chain, nil
}

// proxyCredentials reads --proxy-auth, or -P with its password from
// GNC_PROXY_PASSWORD or the terminal; have is false when neither is given.
func proxyCredentials(c *cli.Context, chain []proxy.Hop) (user, pass string, have bool, err error) {
	switch {
	case c.IsSet("proxy-auth") && c.IsSet("proxy-user"):
		return "", "", false, ui.Usagef("--proxy-auth USER:PASS gives both; -P USER takes the password from GNC_PROXY_PASSWORD or the terminal", "--proxy-auth and -P exclude each other")
	case c.IsSet("proxy-auth"):
		user, pass, err = proxy.ParseUserPass(c.String("proxy-auth"))
		return user, pass, err == nil, err
	case !c.IsSet("proxy-user"):
		return "", "", false, nil
	}
	user = c.String("proxy-user")
	if user == "" {
		return "", "", false, ui.Usagef(`as in "-P alice"`, "-P needs a user name")
	}
	// Only the proxies that take a password need one.
	var asks *proxy.Hop
	for i, h := range chain {
		if !h.HasAuth() && h.Kind != proxy.SOCKS4 && h.Kind != proxy.SOCKS4a {
			asks = &chain[i]
			break
		}
	}
	if asks == nil {
		return user, "", true, nil
	}
	if v, ok := os.LookupEnv("GNC_PROXY_PASSWORD"); ok {
		return user, v, true, nil
	}
	pass, err = ui.PromptSecret("gnc: password for " + user + " at " + asks.String() + ": ")
	if errors.Is(err, ui.ErrNoTerminal) {
		return "", "", false, ui.Usagef("set GNC_PROXY_PASSWORD, or give --proxy-auth USER:PASS", "--proxy-user: no terminal to ask for the password of %s on", user)
	}
	return user, pass, err == nil, err
}

// openBSDProxy catches OpenBSD nc's "-x proxy:port host port": in gnc, as
// in ncat, -x is the hex dump, so the proxy was taken for a destination.
func openBSDProxy(c *cli.Context, args []string) error {
	if c.Bool("progress") && c.IsSet("proxy") && len(args) == 3 {
		// OpenBSD's "-P USER": in gnc -P is the progress meter, so USER
		// was taken for the host.
		return ui.Usagef(fmt.Sprintf("for the proxy's user: gnc --proxy-user %s ... %s %s", args[0], args[1], args[2]),
			"-P is the progress meter in gnc, not OpenBSD nc's proxy user: %s was taken for a destination", args[0])
	}
	if !c.Bool("hexdump") || c.IsSet("hexdump-file") || c.Bool("listen") || len(args) != 3 {
		return nil
	}
	host, port, err := conn.SplitHostPort(args[0])
	if err != nil || host == "" || port == "" {
		return nil
	}
	if _, err := conn.ParsePort(port, "tcp", false); err != nil {
		return nil
	}
	return ui.Usagef(fmt.Sprintf("to connect through that proxy: gnc --proxy %s %s %s (with -X 4|5|connect for its protocol; SOCKS5 by default)", args[0], args[1], args[2]),
		"-x is the hex dump in gnc, as in ncat, not OpenBSD nc's proxy: %s was taken for a destination", args[0])
}
