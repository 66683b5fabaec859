// Command gnc is a netcat-style tool for TCP, UDP and Unix-domain sockets,
// with TLS and proxies: it connects or listens and pipes stdin and stdout
// (or a program) through the socket, relays between two endpoints, and
// dumps what crosses in hex.
package main

import (
	"context"
	"errors"
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
	"gnc/relay"
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

// tlsOnly are the flags that mean nothing without --tls.
var tlsOnly = []string{"ca", "servername", "insecure", "pin", "cert", "key", "client-ca", "client-pin", "alpn", "tls-min"}

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
		Usage:     "netcat, done right: connect, listen, relay and dump TCP, UDP, Unix sockets and TLS",
		UsageText: "gnc [flags] HOST PORT\ngnc -l [flags] [ADDR] PORT\ngnc -z [flags] HOST PORTS...\ngnc -u [flags] HOST PORT (UDP; -lu, -zu likewise)\ngnc -U [flags] PATH\ngnc -lU [flags] PATH\ngnc relay [flags] FROM TO",
		Version:   version(),
		Flags:     nc,
		Action:    func(c *cli.Context) error { return ncAction(c, u, nc) },
		Commands: []*cli.Command{{
			Name:      "relay",
			Usage:     "forward between two endpoints",
			UsageText: "gnc relay [flags] FROM TO\n\nendpoints: HOST:PORT (tcp:HOST:PORT), tls:HOST:PORT, listen:[ADDR:]PORT, tls-listen:[ADDR:]PORT,\n           udp:HOST:PORT, udp-listen:[ADDR:]PORT, unix:PATH, unix-listen:PATH, proxy, exec:COMMAND, echo:, - (stdio)\nexamples:  gnc relay listen:8080 example.com:80\n           gnc relay udp-listen:5353 udp:10.0.0.53:53\n           gnc relay listen:8080 unix:/run/app.sock\n           gnc relay -k gateway:9001 localhost:22\n           gnc relay listen:9001 listen:9002\n           gnc relay listen:127.0.0.1:1080 proxy\n           gnc relay listen:8443 tls:example.com:443,proxy=socks5h://127.0.0.1:1080\n           gnc relay listen:8080 exec:./handler,stderr",
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
