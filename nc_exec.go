package main

import (
	"strings"

	"github.com/urfave/cli/v2"

	"gnc/conn"
	"gnc/relay"
	"gnc/ui"
)

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
