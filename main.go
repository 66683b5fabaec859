// Command gnc is a netcat-style TCP tool: it connects or listens and pipes
// stdin and stdout through the socket, relays between two endpoints, and
// dumps what crosses in hex.
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"gnc/conn"
	"gnc/hexdump"
	"gnc/proxy"
	"gnc/relay"
	"gnc/tty"
	"gnc/ui"
)

func main() {
	// All the work, and every deferred restore, happens inside run.
	os.Exit(run(os.Args[1:]))
}

// ncFlags are the flags of nc mode (connect, listen, scan). They are made
// afresh for each app, so that no flag value outlives one run.
func ncFlags() []cli.Flag {
	return slices.Concat([]cli.Flag{
		&cli.BoolFlag{Name: "listen", Aliases: []string{"l"}, Usage: "listen for a connection instead of connecting"},
		&cli.BoolFlag{Name: "udp", Aliases: []string{"u"}, Usage: "UDP instead of TCP: each read of stdin is one datagram, each datagram received goes to stdout whole; with -l the first sender is the peer, with -l -k every sender has a session"},
		&cli.BoolFlag{Name: "unix", Aliases: []string{"U"}, Usage: "a Unix-domain socket instead of TCP: gnc -U PATH, gnc -lU PATH (@NAME: abstract, on Linux); with -u, a datagram socket"},
		&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Usage: "`PORT` to listen on (with -l), or source port to connect from"},
		&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "`ADDR` to listen on (with -l), or source address to connect from"},
		&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}, Usage: "with -l, serve clients concurrently until interrupted"},
		maxConnsFlag("with -k, at most `N` clients at once (others wait in the backlog)"),
		verboseFlag("say what happens on stderr; -vv adds a transfer summary"),
	}, addressFlags(), execFlags(), []cli.Flag{
		durationFlag("wait", "w", 0, "connect timeout, and end the session when no byte moves either way for `DURATION` (exit 0); a bare number is seconds; -z defaults to 5s"),
		durationFlag("idle-timeout", "i", 0, "end a session idle in both directions for `DURATION`, as a failure (exit 1)"),
		durationFlag("q", "", 0, "after end of file on stdin, wait at most `SECS` for the peer, then quit (negative: forever, the default)"),
		&cli.BoolFlag{Name: "N", Usage: "accepted for OpenBSD nc scripts: gnc always half-closes at end of stdin"},
		&cli.BoolFlag{Name: "no-shutdown", Usage: "never half-close the socket (for peers that treat FIN as an abort)"},
		&cli.BoolFlag{Name: "recv-only", Aliases: []string{"d"}, Usage: "never read stdin"},
		&cli.BoolFlag{Name: "send-only", Usage: "discard what arrives instead of writing it to stdout"},
		&cli.BoolFlag{Name: "crlf", Aliases: []string{"C"}, Usage: "send LF as CRLF"},
		&cli.BoolFlag{Name: "zero", Aliases: []string{"z"}, Usage: "check which ports accept a connection, sending nothing: gnc -z HOST PORTS..."},
	}, tlsFlags(), proxyFlags(), terminalFlags(), dumpFlags())
}

// terminalFlags are nc mode's flags for a person at a terminal, and the
// progress meter and broker that go with them.
func terminalFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "raw", Usage: "put the terminal in raw mode and send every keystroke at once, Ctrl-C included; Enter ~ . disconnects, ~? lists the escapes"},
		&cli.BoolFlag{Name: "raw-output", Usage: "write what arrives to a terminal unchanged, escape sequences included (normally they are shown as ^[ and \\x9b)"},
		&cli.StringFlag{Name: "prompt", Usage: "show `STR` before each line being typed (line editing: stdin and stdout both terminals)"},
		&cli.StringFlag{Name: "history", Usage: "keep the lines typed in `FILE` across runs (created 0600)"},
		&cli.BoolFlag{Name: "progress", Aliases: []string{"P"}, Usage: "a live status line on stderr: bytes and rate each way, elapsed time, percent and ETA when the size is known; only while stderr is a terminal, unless --progress=always"},
		&cli.StringFlag{Name: "progress-when", Hidden: true},
		&cli.StringFlag{Name: "size", Usage: "the size to expect, in `BYTES` (K, M, G suffixes), for -P's percent and ETA; a regular file on stdin gives its own"},
		&cli.BoolFlag{Name: "broker", Usage: "with -l: every client's bytes go to all the other clients, and stdin and stdout take part (implies -k)"},
		&cli.BoolFlag{Name: "chat", Usage: "with -l: a --broker whose lines carry the sender's <userN>, with join and leave notices"},
	}
}

// stdioTerminal reads how the stdio endpoint treats terminals: line
// editing when stdin and stdout both are (unless --raw), safe display on
// a terminal stdout (unless --raw-output).
func stdioTerminal(c *cli.Context, u *ui.UI) (conn.TerminalOptions, error) {
	colour, err := hexdump.ColorEnabled(c.String("color"), term.IsTerminal(1), os.Getenv)
	if err != nil {
		return conn.TerminalOptions{}, ui.Usagef(`as in "--color never"`, "%v", err)
	}
	t := conn.TerminalOptions{
		Raw:    c.Bool("raw"),
		Safe:   !c.Bool("raw-output") && !c.Bool("raw"),
		Colour: colour,
		Help:   u,
	}
	if c.Bool("raw") && (c.IsSet("prompt") || c.IsSet("history")) {
		return t, ui.Usagef("--raw sends keystrokes as they are; line editing is for the default mode", "--prompt and --history edit lines, which --raw does not")
	}
	if !c.Bool("raw") {
		t.Line = &tty.LineOptions{Prompt: c.String("prompt"), HistoryFile: c.String("history")}
	}
	return t, nil
}

// progressMeter starts -P's status line when it is wanted, reading the
// server's live counts; stop ends it with its summary line.
func progressMeter(c *cli.Context, u *ui.UI, s *relay.Server, relayMode bool) (stop func(), err error) {
	if !c.Bool("progress") && !c.IsSet("progress-when") {
		return func() {}, nil
	}
	when := c.String("progress-when")
	if when == "" {
		when = "auto"
	}
	mode, err := ui.ParseProgressMode(when)
	if err != nil {
		return nil, ui.Usagef(`as in "--progress=always"`, "%v", err)
	}
	if !mode.Show(term.IsTerminal(2)) {
		return func() {}, nil
	}
	var o ui.ProgressOptions
	if c.IsSet("size") {
		if o.Size, err = conn.ParseSize(c.String("size")); err != nil {
			return nil, err
		}
	} else if !relayMode {
		o.Size = conn.StdinSize()
	}
	o.Width = func() int {
		w, _, _ := term.GetSize(2)
		return w
	}
	// What arrives is what is counted when nothing is sent from a file:
	// "gnc -l 9000 --size 1G >out", "gnc -d host port --size 1G".
	o.SizeReceived = c.IsSet("size") && (c.Bool("recv-only") || c.Bool("listen") && conn.StdinSize() == 0)
	var src ui.ProgressSource = serverStats{s}
	if relayMode {
		src = relayStats{serverStats{s}}
	}
	p := ui.NewProgress(u.Stderr(), src, o)
	u.Progress = true
	u.SetOverlay(p)
	p.Start()
	return func() {
		u.SetOverlay(nil)
		p.Stop()
	}, nil
}

// serverStats shows a Server's live byte counts to the progress meter.
type serverStats struct{ s *relay.Server }

func (st serverStats) Sent() int64     { return st.s.Stats().Bytes[relay.Forward] }
func (st serverStats) Received() int64 { return st.s.Stats().Bytes[relay.Backward] }

// relayStats adds the pairings, for a relay's status line.
type relayStats struct{ serverStats }

func (st relayStats) Open() int64     { return st.s.Stats().Open }
func (st relayStats) Pairings() int64 { return st.s.Stats().Opened }

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

// execFlags run a program on the connection instead of using stdin and
// stdout, with ncat's and nc.traditional's letters: -e runs a program, -c
// a shell command.
func execFlags() []cli.Flag {
	return []cli.Flag{
		&cli.StringFlag{Name: "exec", Aliases: []string{"e"}, Usage: "run `PROG` on the connection instead of stdin and stdout; \"PROG ARGS\" is split as a shell would (quotes honoured), but no shell runs; with -l -k, one per client"},
		&cli.StringFlag{Name: "sh-exec", Aliases: []string{"c"}, Usage: "run `CMD` with /bin/sh -c on the connection, as -e does"},
		&cli.BoolFlag{Name: "exec-stderr", Usage: "with -e or -c, send the program's stderr into the connection too (default: gnc's stderr)"},
		&cli.BoolFlag{Name: "pty", Usage: "with -e or -c, run the program on a pseudo-terminal (80x24, its own session), as an interactive shell needs"},
	}
}

// execOnly are the flags that mean nothing without -e or -c, and
// stdioOnly those about stdin and stdout, which -e and -c replace.
var (
	execOnly  = []string{"exec-stderr", "pty"}
	stdioOnly = [][2]string{
		{"recv-only", "-d"}, {"send-only", "--send-only"}, {"crlf", "-C"}, {"zero", "-z"},
		{"raw", "--raw"}, {"raw-output", "--raw-output"}, {"prompt", "--prompt"}, {"history", "--history"},
		{"broker", "--broker"}, {"chat", "--chat"},
	}
)

// execEndpoint reads nc mode's -e and -c into the endpoint that stands in
// for stdin and stdout; nil without them. A program that cannot be found
// is a usage error now, before anything listens or dials.
func execEndpoint(c *cli.Context) (relay.Endpoint, error) {
	if !c.IsSet("exec") && !c.IsSet("sh-exec") {
		for _, name := range execOnly {
			if c.IsSet(name) {
				return nil, ui.Usagef(`as in "gnc -l 9000 --`+name+` -e /bin/sh"`, "--%s needs -e or -c", name)
			}
		}
		return nil, nil
	}
	if c.IsSet("exec") && c.IsSet("sh-exec") {
		return nil, ui.Usagef(`-e runs a program directly, -c a shell command: give one`, "-e and -c exclude each other")
	}
	for _, f := range stdioOnly {
		if c.IsSet(f[0]) {
			return nil, ui.Usagef("the program reads and writes the connection itself", "%s is about stdin and stdout, which -e and -c replace", f[1])
		}
	}
	if c.Bool("pty") && c.Bool("exec-stderr") {
		return nil, ui.Usagef("drop --exec-stderr", "--exec-stderr and --pty exclude each other: on a terminal, stderr goes into the connection already")
	}
	o := conn.ExecOptions{Stderr: c.Bool("exec-stderr"), PTY: c.Bool("pty")}
	if c.IsSet("exec") {
		if strings.TrimSpace(c.String("exec")) == "" {
			return nil, ui.Usagef(`as in -e /bin/cat, or -e "grep -i hello"`, "-e needs a program")
		}
		argv, err := conn.SplitCommand(c.String("exec"))
		if err != nil {
			return nil, err
		}
		o.Argv, o.Name, o.Flag = argv, c.String("exec"), "-e"
	} else {
		cmd := c.String("sh-exec")
		if strings.TrimSpace(cmd) == "" {
			return nil, ui.Usagef(`as in -c 'echo hello; cat'`, "-c needs a command")
		}
		o.Argv, o.Name, o.Flag = []string{"/bin/sh", "-c", cmd}, cmd, "-c"
	}
	return conn.NewExec(o)
}

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

// tlsOnly are the flags that mean nothing without --tls.
var tlsOnly = []string{"ca", "servername", "insecure", "pin", "cert", "key", "client-ca", "client-pin", "alpn", "tls-min"}

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

// relayFlags are the flags of gnc relay.
func relayFlags() []cli.Flag {
	return slices.Concat([]cli.Flag{
		&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}, Usage: "keep pairing: reconnect (connect to connect) or pair every arriving client (listen to listen)"},
		&cli.BoolFlag{Name: "once", Usage: "serve a single connection, then exit"},
		maxConnsFlag("at most `N` pairings at once; more clients wait in the listen backlog"),
		verboseFlag("log each pairing; -vv adds accepts and dial timings"),
	}, addressFlags(), []cli.Flag{
		durationFlag("wait", "w", 0, "connect timeout for the dialing side (`DURATION`)"),
		durationFlag("idle-timeout", "i", 0, "end a pairing idle in both directions for `DURATION`"),
		durationFlag("drain", "", 10*time.Second, "on SIGINT/SIGTERM, let open pairings finish for up to `DURATION`"),
		&cli.BoolFlag{Name: "no-shutdown", Usage: "never half-close either side"},
		&cli.StringSliceFlag{Name: "allow", Usage: "accept clients only from `CIDR` (repeatable)"},
		&cli.StringSliceFlag{Name: "deny", Usage: "refuse clients from `CIDR` (repeatable)"},
		&cli.StringSliceFlag{Name: "allow-file", Usage: "read allowed CIDRs or addresses from `FILE`, one per line"},
		&cli.StringSliceFlag{Name: "deny-file", Usage: "read denied CIDRs or addresses from `FILE`, one per line"},
		&cli.BoolFlag{Name: "progress", Aliases: []string{"P"}, Usage: "a live status line on stderr: open pairings, pairings per second, bytes and rate each way; only while stderr is a terminal, unless --progress=always"},
		&cli.StringFlag{Name: "progress-when", Hidden: true},
		&cli.BoolFlag{Name: "raw-output", Usage: "write what arrives on a stdio endpoint to a terminal unchanged, escape sequences included"},
	}, dumpFlags())
}

func verboseFlag(usage string) cli.Flag {
	return &cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: usage}
}

func maxConnsFlag(usage string) cli.Flag {
	return &cli.IntFlag{Name: "max-conns", Aliases: []string{"m"}, Usage: usage}
}

// addressFlags choose how names and address families are handled.
func addressFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "nodns", Aliases: []string{"n"}, Usage: "numeric addresses only, no name lookups"},
		&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
		&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
	}
}

// durationFlag is a flag holding a ui.Duration; def is its default.
func durationFlag(name, alias string, def time.Duration, usage string) cli.Flag {
	f := &cli.GenericFlag{Name: name, Value: &ui.Duration{Flag: dashed(name, alias), D: def}, Usage: usage}
	if alias != "" {
		f.Aliases = []string{alias}
	}
	return f
}

// dashed names a flag as users type it: its one-letter form if it has one.
func dashed(name, alias string) string {
	if alias != "" {
		return "-" + alias
	}
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

// dumpFlags are the hex dump's flags, in every mode.
func dumpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "hexdump", Aliases: []string{"x"}, Usage: "dump all traffic in hex on stderr ('>' sent, '<' received)"},
		&cli.StringFlag{Name: "hexdump-file", Usage: "dump to `FILE` instead of stderr (implies -x)"},
		&cli.BoolFlag{Name: "append", Usage: "append to the --hexdump-file instead of truncating it"},
		&cli.StringFlag{Name: "color", Usage: "colour the dump by direction: `WHEN` is auto (the default: only on a terminal, not with NO_COLOR), always or never"},
	}
}

func init() {
	// urfave/cli's own version flag is -v, which is nc's --verbose.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version", DisableDefaultText: true}
	// A zero default (no bound, no limit) says nothing the usage does not.
	stringer := cli.FlagStringer
	cli.FlagStringer = func(f cli.Flag) string { return strings.TrimSuffix(stringer(f), " (default: 0)") }
}

// quiet turns off urfave's "(default: false)" on every switch: noise.
func quiet(flags []cli.Flag) []cli.Flag {
	for _, f := range flags {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true
		}
	}
	return flags
}

// dumper sets up the hex dump the flags ask for, or returns nil. multi
// puts each connection's id and addresses in the headers.
func dumper(c *cli.Context, u *ui.UI, multi bool) (*hexdump.Dumper, error) {
	if !c.Bool("hexdump") && c.String("hexdump-file") == "" {
		return nil, nil
	}
	if _, err := hexdump.ColorEnabled(c.String("color"), false, os.Getenv); err != nil {
		return nil, ui.Usagef(`as in "--color never"`, "%v", err)
	}
	d, err := hexdump.Open(c.String("hexdump-file"), c.Bool("append"), u, c.String("color"), multi)
	var pe *os.PathError
	if errors.As(err, &pe) {
		return nil, &conn.FileError{Flag: "--hexdump-file", Path: pe.Path, Err: pe.Err, Hint: "give a file in a directory that exists and that you can write to, or -x for stderr"}
	}
	return d, err
}

// runServer runs s with the hex dump the flags ask for. graceful says
// whether a signal lets open pairings drain (a relay serving clients) or
// ends everything at once (a session on standard I/O).
func runServer(c *cli.Context, u *ui.UI, s *relay.Server, graceful bool) error {
	u.Many = s.Many()
	d, err := dumper(c, u, s.Many())
	if err != nil {
		s.From.Close()
		s.To.Close()
		return err
	}
	if d == nil {
		return serve(s, graceful)
	}
	s.Taps = append(s.Taps, d.Tap)
	d.OnError = func(err error) { u.Errorf("%v", err) }
	err = serve(s, graceful)
	if derr := d.Close(); err == nil {
		err = derr
	}
	return err
}

func newApp(u *ui.UI) *cli.App {
	nc, rl := quiet(ncFlags()), quiet(relayFlags())
	return &cli.App{
		Name:      "gnc",
		Usage:     "netcat, done right: connect, listen, relay and dump TCP",
		UsageText: "gnc [flags] HOST PORT\ngnc -l [flags] [ADDR] PORT\ngnc -z [flags] HOST PORTS...\ngnc -U [flags] PATH\ngnc -lU [flags] PATH\ngnc relay [flags] FROM TO",
		Version:   version(),
		Flags:     nc,
		Action:    func(c *cli.Context) error { return ncAction(c, u, nc) },
		Commands: []*cli.Command{{
			Name:      "relay",
			Usage:     "forward between two endpoints",
			UsageText: "gnc relay [flags] FROM TO\n\nendpoints: HOST:PORT (tcp:HOST:PORT), tls:HOST:PORT, listen:[ADDR:]PORT, proxy, exec:COMMAND, echo:, - (stdio)\nexamples:  gnc relay listen:8080 example.com:80\n           gnc relay -k gateway:9001 localhost:22\n           gnc relay listen:9001 listen:9002\n           gnc relay listen:127.0.0.1:1080 proxy\n           gnc relay listen:8443 tls:example.com:443,proxy=socks5h://127.0.0.1:1080\n           gnc relay listen:8080 exec:./handler,stderr",
			Flags:     rl,
			Action:    func(c *cli.Context) error { return relayAction(c, u, rl) },
		}},
		HideHelpCommand: true,
		OnUsageError: func(c *cli.Context, err error, _ bool) error {
			return ui.Usagef(`"gnc --help" lists the flags`, "%v", err)
		},
		ExitErrHandler: func(*cli.Context, error) {},
		Writer:         os.Stdout,
		ErrWriter:      u,
	}
}

func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "devel"
}

func run(args []string) int {
	u := ui.New()
	// A reader of stdout that goes away must surface as EPIPE, handled
	// quietly, not as a signal that skips the deferred restores.
	signal.Notify(make(chan os.Signal, 1), syscall.SIGPIPE)
	app := newApp(u)
	argv, err := normalize(args, app)
	if err != nil {
		return u.Fail(err)
	}
	return u.Fail(app.Run(append([]string{"gnc"}, argv...)))
}

// normalize reorders the arguments of gnc or of its relay subcommand.
func normalize(args []string, app *cli.App) ([]string, error) {
	top := ui.Spec(append(slices.Clone(app.Flags), cli.VersionFlag, cli.HelpFlag)...).WithOptional("progress", "progress-when")
	if i := ui.FirstPositional(args, top); i >= 0 && args[i] == "relay" {
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		out, err := ui.Reorder(rest, ui.Spec(append(slices.Clone(app.Commands[0].Flags), cli.HelpFlag)...).WithOptional("progress", "progress-when"))
		return append([]string{"relay"}, out...), err
	}
	return ui.Reorder(args, top)
}

func tcpOptions(c *cli.Context) (conn.TCPOptions, error) {
	o := conn.TCPOptions{NoDNS: c.Bool("nodns")}
	switch {
	case c.Bool("4") && c.Bool("6"):
		return o, ui.Usagef("use one of them, or neither for both families", "-4 and -6 exclude each other")
	case c.Bool("4"):
		o.Network = "tcp4"
	case c.Bool("6"):
		o.Network = "tcp6"
	}
	return o, nil
}

func duration(c *cli.Context, name string) time.Duration {
	return c.Generic(name).(*ui.Duration).D
}

// checkFlags returns the first mistake in the values of flags: a
// duration that does not parse, or a negative count or time limit where
// only zero or more makes sense.
func checkFlags(c *cli.Context, flags []cli.Flag) error {
	for _, f := range flags {
		if g, ok := f.(*cli.GenericFlag); ok {
			d := g.Value.(*ui.Duration)
			if _, err := d.Value(); err != nil {
				return err
			}
			switch g.Name {
			case "wait", "idle-timeout":
				if d.D < 0 {
					return ui.Usagef(`as in "`+d.Flag+` 5s"; leave it out for no limit`, "%s takes a duration of 0 or more, not %s", d.Flag, d.Text)
				}
			}
		}
	}
	if c.Int("max-conns") < 0 {
		return ui.Usagef(`as in "-m 100"; leave it out for no bound`, "-m takes a number of connections, 0 or more, not %d", c.Int("max-conns"))
	}
	return nil
}

func ncAction(c *cli.Context, u *ui.UI, flags []cli.Flag) error {
	u.Verbose = c.Count("verbose")
	args := c.Args().Slice()
	if err := checkFlags(c, flags); err != nil {
		return err
	}
	if err := openBSDProxy(c, args); err != nil {
		return err
	}
	o, err := tcpOptions(c)
	if err != nil {
		return err
	}
	socket := c.Bool("udp") || c.Bool("unix")
	if socket {
		if err := socketFlagsCheck(c); err != nil {
			return err
		}
	}
	kl, err := keyLog()
	if err != nil {
		return err
	}
	if kl != nil {
		defer kl.Close()
	}
	var klw io.Writer
	if kl != nil {
		klw = kl
	}
	to, err := tlsOptions(c, klw)
	if err != nil {
		return err
	}
	ex, err := execEndpoint(c)
	if err != nil {
		return err
	}
	if c.Bool("zero") {
		if socket {
			return udpScan(c, u, o, args)
		}
		return scan(c, u, o, to, args)
	}
	if c.Bool("keep-open") && !c.Bool("listen") {
		return ui.Usagef(`"gnc -l -k PORT" serves many clients; to reconnect, use "gnc relay -k"`, "-k works with -l only")
	}
	var other relay.Endpoint
	if socket {
		other, err = socketEndpoint(c, u, o, args)
	} else {
		other, err = tcpEndpoint(c, u, o, to, args)
	}
	if err != nil {
		return err
	}
	broker := c.Bool("broker") || c.Bool("chat")
	if broker && !c.Bool("listen") {
		other.Close()
		return ui.Usagef(`as in "gnc -l --broker 9000"`, "--broker and --chat work with -l only")
	}
	if broker && c.Bool("udp") {
		other.Close()
		return ui.Usagef(`a broker joins stream clients: leave out -u, or use "gnc -lu -k PORT", which sends stdin to every sender`, "--broker and --chat do not work with -u")
	}
	from := ex // gnc's stdin and stdout are then left alone
	var stdio *conn.Stdio
	if from == nil {
		tt, err := stdioTerminal(c, u)
		if err != nil {
			return err
		}
		stdio, err = conn.NewStdio(conn.StdioOptions{
			CRLF:     c.Bool("crlf"),
			RecvOnly: c.Bool("recv-only"),
			SendOnly: c.Bool("send-only"),
			Shared:   c.Bool("keep-open") && !broker,
			Terminal: tt,
		})
		if err != nil {
			other.Close()
			return err
		}
		defer stdio.Close()
		from = stdio
	}
	opt := relay.Options{
		NoShutdown: c.Bool("no-shutdown"),
		Idle:       duration(c, "idle-timeout"),
		Wait:       duration(c, "wait"),
		Linger:     linger(c),
	}
	s := &relay.Server{
		From:     from,
		To:       other,
		Keep:     c.Bool("keep-open"),
		MaxConns: c.Int("max-conns"),
		Options:  opt,
		Notify:   u.Event,
	}
	if broker {
		// The clients are paired with the broker, and stdio is one more
		// of its participants.
		b := conn.NewBroker(conn.BrokerOptions{Chat: c.Bool("chat"), MaxParticipants: c.Int("max-conns")})
		wait, err := b.AttachStdio(stdio, relay.Options{NoShutdown: opt.NoShutdown})
		if err != nil {
			other.Close()
			return err
		}
		defer wait()
		s.From, s.To, s.Keep = other, b, true
	}
	datagramSession(c, s)
	stop, err := progressMeter(c, u, s, false)
	if err != nil {
		s.From.Close()
		s.To.Close()
		return err
	}
	defer stop()
	return runServer(c, u, s, false)
}

// tcpEndpoint is the endpoint nc mode's arguments name over TCP: a
// listener with -l, else a dialer, through proxies and TLS as the flags
// ask.
func tcpEndpoint(c *cli.Context, u *ui.UI, o conn.TCPOptions, to *conn.TLSOptions, args []string) (relay.Endpoint, error) {
	var other relay.Endpoint
	if c.Bool("listen") {
		if _, err := proxyChain(c, u, "", false); err != nil {
			return nil, err
		}
		host, port, err := ui.ListenArgs(args, c.String("source"), c.String("port"))
		if err != nil {
			return nil, err
		}
		var srv *conn.TLSServer
		if to != nil {
			if srv, err = conn.NewTLSServer(host, to); err != nil {
				return nil, err
			}
		}
		l, err := conn.ListenTCP(c.Context, host, port, o)
		if err != nil {
			return nil, err
		}
		other = l
		if srv != nil {
			other = srv.Listener(l)
		}
	} else {
		host, port, err := conn.ParseTarget(args)
		if err != nil {
			return nil, err
		}
		d, err := conn.NewTCPDialer(host, port, o)
		if err != nil {
			return nil, err
		}
		d.Source, d.Timeout = c.String("source"), duration(c, "wait")
		if p := c.String("port"); p != "" {
			if d.SourcePort, err = conn.ParsePort(p, "tcp", false); err != nil {
				return nil, err
			}
		}
		chain, err := proxyChain(c, u, host, to != nil)
		if err != nil {
			return nil, err
		}
		if err := d.SetProxies(chain); err != nil {
			return nil, err
		}
		d.OnHop = u.ProxyHop
		other = d
		if to != nil {
			if other, err = conn.NewTLSDialer(d, to); err != nil {
				return nil, err
			}
		}
	}
	return other, nil
}

// linger maps nc's -q (negative: forever, 0: at once) onto
// relay.Options.Linger (zero: forever, negative: at once).
func linger(c *cli.Context) time.Duration {
	if !c.IsSet("q") {
		return 0
	}
	switch q := duration(c, "q"); {
	case q < 0:
		return 0
	case q == 0:
		return -1
	default:
		return q
	}
}

func scan(c *cli.Context, u *ui.UI, o conn.TCPOptions, to *conn.TLSOptions, args []string) error {
	if len(args) < 2 {
		return ui.Usagef(`as in "gnc -z example.com 22 80-90,443"`, "-z needs a host and at least one port")
	}
	ports, err := conn.ParsePortList(args[1:])
	if err != nil {
		return err
	}
	d := &conn.TCPDialer{TCPOptions: o, Host: args[0], Timeout: 5 * time.Second}
	if c.IsSet("wait") {
		d.Timeout = duration(c, "wait")
	}
	chain, err := proxyChain(c, u, args[0], to != nil)
	if err != nil {
		return err
	}
	if err := d.SetProxies(chain); err != nil {
		return err
	}
	open, err := conn.Scan(c.Context, d, ports, 64, to, u.ScanResult)
	if err != nil {
		return err
	}
	if open == 0 {
		return ui.Quiet(ui.ExitFailure)
	}
	return nil
}

func relayAction(c *cli.Context, u *ui.UI, flags []cli.Flag) error {
	u.Verbose, u.Mode = c.Count("verbose"), ui.ModeRelay
	args := c.Args().Slice()
	if err := checkFlags(c, flags); err != nil {
		return err
	}
	if len(args) != 2 {
		return ui.Usagef(`as in "gnc relay listen:8080 example.com:80"`, "relay needs two endpoints, FROM and TO")
	}
	o, err := tcpOptions(c)
	if err != nil {
		return err
	}
	acl, err := conn.NewACL(c.StringSlice("allow"), c.StringSlice("deny"), c.StringSlice("allow-file"), c.StringSlice("deny-file"))
	if err != nil {
		return err
	}
	kl, err := keyLog()
	if err != nil {
		return err
	}
	colour, err := hexdump.ColorEnabled(c.String("color"), term.IsTerminal(1), os.Getenv)
	if err != nil {
		return ui.Usagef(`as in "--color never"`, "%v", err)
	}
	def := conn.Defaults{TCP: o, Timeout: duration(c, "wait"), Shared: c.Bool("keep-open"), OnHop: u.ProxyHop,
		Terminal: conn.TerminalOptions{Safe: !c.Bool("raw-output"), Colour: colour}}
	if kl != nil {
		defer kl.Close()
		def.KeyLog = kl
	}
	def.MaxSessions, def.Admit, def.OnDrop = c.Int("max-conns"), acl.Check, u.DatagramDropped
	var eps [2]relay.Endpoint
	for i, a := range args {
		if eps[i], err = conn.ParseEndpoint(c.Context, a, def); err != nil {
			for _, e := range eps[:i] {
				e.Close()
			}
			return err
		}
	}
	if err := conn.CheckProxyServer(eps[0], eps[1], acl); err != nil {
		eps[0].Close()
		eps[1].Close()
		return err
	}
	stdio := conn.IsStdio(eps[0]) || conn.IsStdio(eps[1])
	if conn.IsStdio(eps[0]) && conn.IsStdio(eps[1]) {
		eps[0].Close()
		eps[1].Close()
		return ui.Usagef(`one end is stdio, the other a network endpoint, as in "gnc relay - example.com:80"`, "both endpoints are stdio: there is nothing to relay between")
	}
	s := &relay.Server{
		From:     eps[0],
		To:       eps[1],
		Keep:     c.Bool("keep-open"),
		Once:     c.Bool("once"),
		MaxConns: c.Int("max-conns"),
		Drain:    duration(c, "drain"),
		Options: relay.Options{
			NoShutdown: c.Bool("no-shutdown"),
			Idle:       duration(c, "idle-timeout"),
		},
		Admit:  acl.Check,
		Notify: u.Event,
	}
	datagramDefaults(c, s)
	// A relay on standard I/O is a session, as in nc mode: a signal ends
	// it at once. A relay between network endpoints is a service, which a
	// service manager stops cleanly: it drains.
	stop, err := progressMeter(c, u, s, !stdio)
	if err != nil {
		s.From.Close()
		s.To.Close()
		return err
	}
	defer stop()
	return runServer(c, u, s, !stdio)
}

// stopSignals end gnc: the two a user or a service manager sends, and the
// two a terminal sends when it goes away or on Ctrl-\. Catching them all
// lets every deferred restore and flush run before gnc exits.
var stopSignals = []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP, syscall.SIGQUIT}

// serve runs s until it is done or a signal stops it. The first signal
// stops accepting and, when graceful, lets open pairings drain and ends
// with s's own result; otherwise, or on a second signal, everything ends
// at once and gnc exits with 128 plus the signal's number.
func serve(s *relay.Server, graceful bool) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, stopSignals...)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if !graceful {
		s.Drain = 0
	}
	var (
		wg    sync.WaitGroup
		first os.Signal
		hard  bool
		done  = make(chan struct{})
	)
	wg.Add(1)
	go func() {
		defer wg.Done()
		select {
		case first = <-sigs:
			cancel()
		case <-done:
			return
		}
		select {
		case <-sigs:
			hard = true
			s.Kill()
		case <-done:
		}
	}()
	err := s.Run(ctx)
	close(done)
	wg.Wait()
	if first != nil && (!graceful || hard) {
		return ui.Signaled(first)
	}
	return err
}

// socketEndpoint is the endpoint nc mode's arguments name with -u (UDP)
// or -U (a Unix-domain socket): a listener with -l, else a dialer.
func socketEndpoint(c *cli.Context, u *ui.UI, o conn.TCPOptions, args []string) (relay.Endpoint, error) {
	udp, listen, keep := c.Bool("udp"), c.Bool("listen"), c.Bool("keep-open")
	switch {
	case c.Bool("unix"):
		if len(args) != 1 {
			return nil, ui.Usagef(`as in "gnc -U /var/run/docker.sock" or "gnc -lU /tmp/gnc.sock"`, "-U takes one path, not %d arguments", len(args))
		}
		if listen {
			l, err := conn.ListenUnix(args[0], conn.UnixListenOptions{Datagram: udp})
			if err != nil {
				return nil, err
			}
			l.OnDrop = u.DatagramDropped
			return l, nil
		}
		d, err := conn.NewUnixDialer(args[0], udp)
		if err != nil {
			return nil, err
		}
		d.Timeout = duration(c, "wait")
		return d, nil
	case listen:
		host, port, err := ui.ListenArgs(args, c.String("source"), c.String("port"))
		if err != nil {
			return nil, err
		}
		l, err := conn.ListenUDP(c.Context, host, port, o, !keep)
		if err != nil {
			return nil, err
		}
		l.MaxSessions, l.OnDrop = c.Int("max-conns"), u.DatagramDropped
		return l, nil
	default:
		host, port, err := conn.ParseUDPTarget(args)
		if err != nil {
			return nil, err
		}
		d, err := conn.NewUDPDialer(host, port, o)
		if err != nil {
			return nil, err
		}
		d.Source = c.String("source")
		if p := c.String("port"); p != "" {
			if d.SourcePort, err = conn.ParsePort(p, "udp", false); err != nil {
				return nil, err
			}
		}
		return d, nil
	}
}

// datagramSession gives nc mode with -u UDP's own manners: -w 0 without
// -q sends stdin and goes, as nc.openbsd does, and a -k listener's
// sessions get UDP's idle expiry.
func datagramSession(c *cli.Context, s *relay.Server) {
	if !c.Bool("udp") {
		return
	}
	if !c.IsSet("q") && c.IsSet("wait") && duration(c, "wait") == 0 {
		s.Options.Linger = -1
	}
	if c.Bool("listen") && c.Bool("keep-open") {
		datagramDefaults(c, s)
	}
}

// socketFlagsCheck refuses the flags that mean nothing with -u or -U.
func socketFlagsCheck(c *cli.Context) error {
	udp, unix, listen, keep := c.Bool("udp"), c.Bool("unix"), c.Bool("listen"), c.Bool("keep-open")
	if keep && !listen {
		return ui.Usagef(`"gnc -l -k PORT" serves many clients; to reconnect, use "gnc relay -k"`, "-k works with -l only")
	}
	if c.Bool("tls") {
		return ui.Usagef("TLS runs over TCP: leave out -u and -U", "--tls does not work with -u or -U")
	}
	for _, name := range append([]string{"proxy"}, proxyOnly...) {
		if c.IsSet(name) {
			return ui.Usagef("proxies carry TCP here: leave out -u and -U", "%s does not work with -u or -U", dashed(name, ""))
		}
	}
	if _, err := tlsOptions(c, nil); err != nil {
		return err
	}
	if !unix {
		return nil
	}
	for _, f := range []struct{ name, flag string }{{"zero", "-z"}, {"port", "-p"}, {"source", "-s"}, {"4", "-4"}, {"6", "-6"}, {"nodns", "-n"}} {
		if c.IsSet(f.name) {
			return ui.Usagef(`-U takes a path, as in "gnc -U /tmp/app.sock"`, "%s means nothing with -U", f.flag)
		}
	}
	if udp && keep {
		return ui.Usagef(`serve one sender with "gnc -lUu PATH", or use UDP for many: "gnc -lu -k PORT"`, "-k does not work with -U -u: a datagram Unix listener serves one sender")
	}
	return nil
}

// datagramDefaults gives a server with a UDP side UDP's own defaults,
// unless the flags say otherwise: its pairings end after conn.UDPIdle
// without a datagram (UDP has no end of file, so a session whose sender
// went away ends only so), and a signal lets them drain for a second, for
// the replies in flight, not for an end that will not come.
func datagramDefaults(c *cli.Context, s *relay.Server) {
	for _, e := range []relay.Endpoint{s.From, s.To} {
		switch e.(type) {
		case *conn.UDPListener, *conn.UDPDialer:
			if !c.IsSet("idle-timeout") {
				s.Options.Idle = conn.UDPIdle
			}
			if !c.IsSet("drain") && s.Drain > udpDrain {
				s.Drain = udpDrain
			}
		}
	}
}

// udpDrain is how long a relay with a UDP side drains on a signal, unless
// --drain says otherwise.
const udpDrain = time.Second

// udpScan is -z -u: which ports refuse a datagram (closed) and which do
// not (open, or open|filtered when nothing came back).
func udpScan(c *cli.Context, u *ui.UI, o conn.TCPOptions, args []string) error {
	if len(args) < 2 {
		return ui.Usagef(`as in "gnc -zu example.com 53 123 161-162"`, "-z needs a host and at least one port")
	}
	ports, err := conn.ParsePortList(args[1:])
	if err != nil {
		return err
	}
	d := &conn.UDPDialer{TCPOptions: o, Host: args[0]}
	wait := time.Second
	if c.IsSet("wait") {
		wait = duration(c, "wait")
	}
	notClosed, err := conn.ScanUDP(c.Context, d, ports, 64, wait, u.UDPScanResult)
	if err != nil {
		return err
	}
	if notClosed == 0 {
		return ui.Quiet(ui.ExitFailure)
	}
	return nil
}
