// Command gnc is a netcat-style TCP tool: it connects or listens and pipes
// stdin and stdout through the socket, relays between two endpoints, and
// dumps what crosses in hex.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/debug"
	"sync"
	"syscall"
	"time"

	"github.com/urfave/cli/v2"

	"gnc/conn"
	"gnc/hexdump"
	"gnc/relay"
	"gnc/ui"
)

func main() {
	// All the work, and every deferred restore, happens inside run.
	os.Exit(run(os.Args[1:]))
}

var ncFlags = []cli.Flag{
	&cli.BoolFlag{Name: "listen", Aliases: []string{"l"}, Usage: "listen for a connection instead of connecting"},
	&cli.StringFlag{Name: "port", Aliases: []string{"p"}, Usage: "port to listen on (with -l), or source port to connect from"},
	&cli.StringFlag{Name: "source", Aliases: []string{"s"}, Usage: "address to listen on (with -l), or source address to connect from"},
	&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}, Usage: "with -l, serve clients concurrently until interrupted"},
	&cli.IntFlag{Name: "max-conns", Aliases: []string{"m"}, Usage: "with -k, at most `N` clients at once (others wait in the backlog)"},
	&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "say what happens on stderr; -vv adds a transfer summary"},
	&cli.BoolFlag{Name: "nodns", Aliases: []string{"n"}, Usage: "numeric addresses only, no name lookups"},
	&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
	&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
	&cli.GenericFlag{Name: "wait", Aliases: []string{"w"}, Value: &ui.Duration{Flag: "-w"}, Usage: "connect timeout (`DURATION`: 500ms, 2s, 1m; a bare number is seconds); with -z it defaults to 5s"},
	&cli.GenericFlag{Name: "idle-timeout", Aliases: []string{"i"}, Value: &ui.Duration{Flag: "-i"}, Usage: "end a session idle in both directions for `DURATION`"},
	&cli.GenericFlag{Name: "q", Value: &ui.Duration{Flag: "-q"}, Usage: "after end of file on stdin, wait at most `SECS` for the peer, then quit (negative: forever, the default)"},
	&cli.BoolFlag{Name: "N", Usage: "accepted for OpenBSD nc scripts: gnc always half-closes at end of stdin"},
	&cli.BoolFlag{Name: "no-shutdown", Usage: "never half-close the socket (for peers that treat FIN as an abort)"},
	&cli.BoolFlag{Name: "recv-only", Aliases: []string{"d"}, Usage: "never read stdin"},
	&cli.BoolFlag{Name: "send-only", Usage: "discard what arrives instead of writing it to stdout"},
	&cli.BoolFlag{Name: "crlf", Aliases: []string{"C"}, Usage: "send LF as CRLF"},
	&cli.BoolFlag{Name: "zero", Aliases: []string{"z"}, Usage: "check which ports accept a connection, sending nothing: gnc -z HOST PORTS..."},
}

var relayFlags = []cli.Flag{
	&cli.BoolFlag{Name: "keep-open", Aliases: []string{"k"}, Usage: "keep pairing: reconnect (connect to connect) or pair every arriving client (listen to listen)"},
	&cli.BoolFlag{Name: "once", Usage: "serve a single connection, then exit"},
	&cli.IntFlag{Name: "max-conns", Aliases: []string{"m"}, Usage: "at most `N` pairings at once; more clients wait in the listen backlog"},
	&cli.BoolFlag{Name: "verbose", Aliases: []string{"v"}, Usage: "log each pairing; -vv adds accepts and dial timings"},
	&cli.BoolFlag{Name: "nodns", Aliases: []string{"n"}, Usage: "numeric addresses only, no name lookups"},
	&cli.BoolFlag{Name: "4", Usage: "IPv4 only"},
	&cli.BoolFlag{Name: "6", Usage: "IPv6 only"},
	&cli.GenericFlag{Name: "wait", Aliases: []string{"w"}, Value: &ui.Duration{Flag: "-w"}, Usage: "connect timeout for the dialing side (`DURATION`)"},
	&cli.GenericFlag{Name: "idle-timeout", Aliases: []string{"i"}, Value: &ui.Duration{Flag: "-i"}, Usage: "end a pairing idle in both directions for `DURATION`"},
	&cli.GenericFlag{Name: "drain", Value: &ui.Duration{Flag: "--drain", D: 10 * time.Second}, Usage: "on SIGINT/SIGTERM, let open pairings finish for up to `DURATION`"},
	&cli.BoolFlag{Name: "no-shutdown", Usage: "never half-close either side"},
	&cli.StringSliceFlag{Name: "allow", Usage: "accept clients only from `CIDR` (repeatable)"},
	&cli.StringSliceFlag{Name: "deny", Usage: "refuse clients from `CIDR` (repeatable)"},
	&cli.StringSliceFlag{Name: "allow-file", Usage: "read allowed CIDRs or addresses from `FILE`, one per line"},
	&cli.StringSliceFlag{Name: "deny-file", Usage: "read denied CIDRs or addresses from `FILE`, one per line"},
}

// dumpFlags are the hex dump's flags, in every mode.
func dumpFlags() []cli.Flag {
	return []cli.Flag{
		&cli.BoolFlag{Name: "hexdump", Aliases: []string{"x"}, Usage: "dump all traffic in hex on stderr ('>' sent, '<' received)"},
		&cli.StringFlag{Name: "hexdump-file", Usage: "dump to `FILE` instead of stderr (implies -x)"},
		&cli.BoolFlag{Name: "append", Usage: "append to the --hexdump-file instead of truncating it"},
		&cli.StringFlag{Name: "color", Value: "auto", Usage: "colour the dump by direction: `auto`, always or never (auto honours NO_COLOR)"},
	}
}

func init() {
	// urfave/cli's own version flag is -v, which is nc's --verbose.
	cli.VersionFlag = &cli.BoolFlag{Name: "version", Aliases: []string{"V"}, Usage: "print the version"}
	ncFlags = append(ncFlags, dumpFlags()...)
	relayFlags = append(relayFlags, dumpFlags()...)
	for _, f := range append(append(ncFlags, relayFlags...), cli.VersionFlag) {
		if b, ok := f.(*cli.BoolFlag); ok {
			b.DisableDefaultText = true // "(default: false)" on every switch is noise
		}
	}
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
	return hexdump.Open(c.String("hexdump-file"), c.Bool("append"), u, c.String("color"), multi)
}

// runServer runs s with the hex dump the flags ask for.
func runServer(c *cli.Context, u *ui.UI, s *relay.Server, graceful bool) error {
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
	return &cli.App{
		Name:      "gnc",
		Usage:     "netcat, done right: connect, listen, relay and dump TCP",
		UsageText: "gnc [flags] HOST PORT\ngnc -l [flags] [ADDR] PORT\ngnc -z [flags] HOST PORTS...\ngnc relay [flags] FROM TO",
		Version:   version(),
		Flags:     ncFlags,
		Action:    func(c *cli.Context) error { return ncAction(c, u) },
		Commands: []*cli.Command{{
			Name:      "relay",
			Usage:     "forward between two endpoints",
			UsageText: "gnc relay [flags] FROM TO\n\nendpoints: HOST:PORT (tcp:HOST:PORT), listen:[ADDR:]PORT, - (stdio)\nexamples:  gnc relay listen:8080 example.com:80\n           gnc relay -k gateway:9001 localhost:22\n           gnc relay listen:9001 listen:9002",
			Flags:     relayFlags,
			Action:    func(c *cli.Context) error { return relayAction(c, u) },
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
	argv, err := normalize(args)
	if err != nil {
		return u.Fail(err)
	}
	return u.Fail(newApp(u).Run(append([]string{"gnc"}, argv...)))
}

// normalize reorders the arguments of gnc or of its relay subcommand.
func normalize(args []string) ([]string, error) {
	top := ui.Spec(append(ncFlags, cli.VersionFlag, cli.HelpFlag)...)
	if i := ui.FirstPositional(args, top); i >= 0 && args[i] == "relay" {
		rest := append(append([]string{}, args[:i]...), args[i+1:]...)
		out, err := ui.Reorder(rest, ui.Spec(append(relayFlags, cli.HelpFlag)...))
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

// durationErr returns the mistake in a duration flag's value, if any.
func durationErr() error {
	for _, f := range append(ncFlags, relayFlags...) {
		if g, ok := f.(*cli.GenericFlag); ok {
			if _, err := g.Value.(*ui.Duration).Value(); err != nil {
				return err
			}
		}
	}
	return nil
}

func ncAction(c *cli.Context, u *ui.UI) error {
	u.Verbose = c.Count("verbose")
	args := c.Args().Slice()
	if err := durationErr(); err != nil {
		return err
	}
	o, err := tcpOptions(c)
	if err != nil {
		return err
	}
	if c.Bool("zero") {
		return scan(c, u, o, args)
	}
	if c.Bool("keep-open") && !c.Bool("listen") {
		return ui.Usagef(`"gnc -l -k PORT" serves many clients; to reconnect, use "gnc relay -k"`, "-k works with -l only")
	}
	var other relay.Endpoint
	if c.Bool("listen") {
		host, port, err := ui.ListenArgs(args, c.String("source"), c.String("port"))
		if err != nil {
			return err
		}
		if other, err = conn.ListenTCP(c.Context, host, port, o); err != nil {
			return err
		}
	} else {
		host, port, err := conn.ParseTarget(args)
		if err != nil {
			return err
		}
		d, err := conn.NewTCPDialer(host, port, o)
		if err != nil {
			return err
		}
		d.Source, d.Timeout = c.String("source"), duration(c, "wait")
		if p := c.String("port"); p != "" {
			if d.SourcePort, err = conn.ParsePort(p, "tcp", false); err != nil {
				return err
			}
		}
		other = d
	}
	stdio := conn.NewStdio(conn.StdioOptions{
		CRLF:     c.Bool("crlf"),
		RecvOnly: c.Bool("recv-only"),
		SendOnly: c.Bool("send-only"),
		Shared:   c.Bool("keep-open"),
	})
	defer stdio.Close()
	s := &relay.Server{
		From:     stdio,
		To:       other,
		Keep:     c.Bool("keep-open"),
		MaxConns: c.Int("max-conns"),
		Options: relay.Options{
			NoShutdown: c.Bool("no-shutdown"),
			Idle:       duration(c, "idle-timeout"),
			Linger:     linger(c),
		},
		Notify: u.Event,
	}
	return runServer(c, u, s, false)
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

func scan(c *cli.Context, u *ui.UI, o conn.TCPOptions, args []string) error {
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
	open, err := conn.Scan(c.Context, d, ports, 64, func(r conn.ScanResult) { u.ScanResult(r.Dialer, r.Conn, r.Err) })
	if err != nil {
		return err
	}
	if open == 0 {
		return ui.Quiet(ui.ExitFailure)
	}
	return nil
}

func relayAction(c *cli.Context, u *ui.UI) error {
	u.Verbose, u.Mode = c.Count("verbose"), ui.ModeRelay
	args := c.Args().Slice()
	if err := durationErr(); err != nil {
		return err
	}
	if len(args) != 2 {
		return ui.Usagef(`as in "gnc relay listen:8080 example.com:80"`, "relay needs two endpoints, FROM and TO")
	}
	o, err := tcpOptions(c)
	if err != nil {
		return err
	}
	def := conn.Defaults{TCP: o, Timeout: duration(c, "wait"), Shared: c.Bool("keep-open")}
	var eps [2]relay.Endpoint
	for i, a := range args {
		if eps[i], err = conn.ParseEndpoint(c.Context, a, def); err != nil {
			for _, e := range eps[:i] {
				e.Close()
			}
			return err
		}
	}
	acl, err := conn.NewACL(c.StringSlice("allow"), c.StringSlice("deny"), c.StringSlice("allow-file"), c.StringSlice("deny-file"))
	if err != nil {
		eps[0].Close()
		eps[1].Close()
		return err
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
	return runServer(c, u, s, true)
}

// serve runs s until it is done or a signal stops it. The first SIGINT or
// SIGTERM stops accepting and, when graceful, lets open pairings drain;
// otherwise, or on a second signal, everything ends at once and gnc exits
// with 128 plus the signal's number.
func serve(s *relay.Server, graceful bool) error {
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
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
