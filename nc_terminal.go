package main

import (
	"os"

	"github.com/urfave/cli/v2"
	"golang.org/x/term"

	"gnc/conn"
	"gnc/hexdump"
	"gnc/relay"
	"gnc/tty"
	"gnc/ui"
)

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

func (st serverStats) Sent() int64 { return st.s.Stats().Bytes[relay.Forward] }

func (st serverStats) Received() int64 { return st.s.Stats().Bytes[relay.Backward] }

// relayStats adds the pairings, for a relay's status line.
type relayStats struct{ serverStats }

func (st relayStats) Open() int64 { return st.s.Stats().Open }

func (st relayStats) Pairings() int64 { return st.s.Stats().Opened }
