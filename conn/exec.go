package conn

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"io/fs"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"syscall"
	"time"

	"gnc/relay"
)

// ExecOptions say what program an Exec endpoint runs for each connection,
// and how.
type ExecOptions struct {
	// Argv is the program and its arguments. Argv[0] is looked up on PATH
	// when it holds no slash; it must not be empty.
	Argv []string
	// Name is how messages name the program, as the user wrote it
	// ("/bin/cat", "exec:./handler"); empty: Argv joined by spaces.
	Name string
	// Flag is the flag or endpoint that gave the program, for the message
	// when it cannot be found ("-e"); empty: "exec".
	Flag string
	// Stderr sends the program's stderr into the connection with its
	// stdout; false leaves it on gnc's own stderr.
	Stderr bool
	// PTY runs the program on a pseudo-terminal of its own (its
	// controlling terminal, in a session of its own, 80x24), for
	// interactive programs; stdin, stdout and stderr are then all the
	// terminal.
	PTY bool
	// Env holds KEY=VALUE settings added to the program's environment
	// after gnc's own and the connection's; nil adds none.
	Env []string
	// Dir is the program's working directory; empty: gnc's.
	Dir string
}

// How long a program may take to end by itself once its connection is
// over, and then to end after SIGTERM, before it is sent SIGKILL.
const (
	execGrace = 2 * time.Second
	execTerm  = 2 * time.Second
)

// shellPath runs the commands of -c and of exec: endpoints.
const shellPath = "/bin/sh"

// Exec is an endpoint that runs a program for each conn: the conn's
// incoming bytes are the program's standard output (and, with Stderr, its
// standard error) and what is written to the conn is its standard input.
// On Linux the engine splices between the connection and the program's
// pipes, so no byte passes through gnc's memory.
//
// The program's environment is gnc's, plus the connection's addresses
// when it is opened for a peer (relay.PeerOpener): GNC_REMOTE_ADDR,
// GNC_REMOTE_PORT, GNC_LOCAL_ADDR, GNC_LOCAL_PORT and GNC_PROTO ("tcp",
// "tls"), the same under NCAT_ for ncat's scripts (NCAT_PROTO is ncat's
// "TCP"), and GNC_TLS_PEER_SUBJECT when the peer's certificate was
// verified; then Env.
//
// Each conn is a relay.Process: the pairing ends once the program has
// exited and its output has all been delivered, and closing the conn
// closes gnc's ends of the pipes; a program that has not exited within 2s
// after that gets SIGTERM, and SIGKILL 2s later (at once, and 2s later,
// when gnc is stopping).
type Exec struct {
	opt  ExecOptions
	path string   // the program, looked up
	env  []string // gnc's environment without execEnvKeys or opt.Env's keys

	mu     sync.Mutex
	live   map[*execConn]struct{} // started and not yet exited
	closed bool
}

// NewExec checks o and makes the endpoint; a program that cannot be found
// or is not executable, or a Dir that is not a directory, is reported now
// as a usage error, before anything listens or dials.
func NewExec(o ExecOptions) (*Exec, error) {
	flag := o.Flag
	if flag == "" {
		flag = "exec"
	}
	if len(o.Argv) == 0 || o.Argv[0] == "" {
		return nil, &ParseError{What: "command", Reason: flag + " needs a program to run", Hint: `as in "-e /bin/cat" or "exec:./handler"`}
	}
	if err := execPrepare(o); err != nil {
		return nil, err
	}
	if o.Name == "" {
		o.Name = strings.Join(o.Argv, " ")
	}
	path, err := exec.LookPath(o.Argv[0])
	if errors.Is(err, exec.ErrDot) {
		err = nil // found through a relative PATH entry: the user's choice
	}
	if err != nil {
		reason, hint := "not found on PATH", "give its path, as in ./"+o.Argv[0]+", or check the name"
		switch {
		case strings.Contains(o.Argv[0], "/") && errors.Is(err, fs.ErrNotExist):
			reason, hint = "no such file", "check the path"
		case errors.Is(err, fs.ErrPermission):
			reason, hint = "not an executable file", "make it executable (chmod +x), or run it through its interpreter, as in -e 'sh "+o.Argv[0]+"'"
		}
		return nil, &FileError{Flag: flag, Path: o.Argv[0], Err: errors.New(reason), Hint: hint}
	}
	if o.Dir != "" {
		if st, err := os.Stat(o.Dir); err != nil || !st.IsDir() {
			return nil, &FileError{Flag: "dir=", Path: o.Dir, Err: errors.New("not a directory"), Hint: "give a directory that exists"}
		}
	}
	for _, kv := range o.Env {
		if k, _, ok := strings.Cut(kv, "="); !ok || k == "" {
			return nil, &ParseError{What: "environment setting", Value: kv, Reason: "not KEY=VALUE", Hint: `as in "env=LANG=C"`}
		}
	}
	o.Env = dedupEnv(o.Env)
	return &Exec{opt: o, path: path, env: baseEnv(os.Environ(), o.Env), live: map[*execConn]struct{}{}}, nil
}

// String names the endpoint as the user wrote it.
func (e *Exec) String() string { return e.opt.Name }

// Open starts the program for a conn with no peer to tell it about.
func (e *Exec) Open(ctx context.Context) (relay.Conn, error) {
	return e.start(ctx, nil)
}

// OpenFor starts the program for the conn peer, with peer's addresses in
// its environment; see relay.PeerOpener. The peer is paired as it is.
func (e *Exec) OpenFor(ctx context.Context, peer relay.Conn) (client, opened relay.Conn, err error) {
	c, err := e.start(ctx, peer)
	if err != nil {
		return peer, nil, err
	}
	return peer, c, nil
}

// Close ends every program still running (as when gnc stops: SIGTERM,
// then SIGKILL 2s later) and waits until each has been reaped; later
// opens fail.
func (e *Exec) Close() error {
	e.mu.Lock()
	e.closed = true
	live := make([]*execConn, 0, len(e.live))
	for c := range e.live {
		live = append(live, c)
	}
	e.mu.Unlock()
	for _, c := range live {
		c.Reap(true)
	}
	return nil
}

// track records a started conn until its program exits; false means the
// endpoint was closed meanwhile.
func (e *Exec) track(c *execConn) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	e.live[c] = struct{}{}
	return true
}

func (e *Exec) untrack(c *execConn) {
	e.mu.Lock()
	delete(e.live, c)
	e.mu.Unlock()
}

// execEnvKeys are the variables gnc sets for the program; inherited ones
// are dropped, so that a program never sees another connection's values.
var execEnvKeys = []string{
	"GNC_REMOTE_ADDR", "GNC_REMOTE_PORT", "GNC_LOCAL_ADDR", "GNC_LOCAL_PORT", "GNC_PROTO", "GNC_TLS_PEER_SUBJECT",
	"NCAT_REMOTE_ADDR", "NCAT_REMOTE_PORT", "NCAT_LOCAL_ADDR", "NCAT_LOCAL_PORT", "NCAT_PROTO",
}

// baseEnv is env, deduplicated, without execEnvKeys or the keys that
// extra sets.
func baseEnv(env, extra []string) []string {
	return slices.DeleteFunc(dedupEnv(env), func(kv string) bool {
		k := envKey(kv)
		return slices.Contains(execEnvKeys, k) || slices.ContainsFunc(extra, func(x string) bool { return envKey(x) == k })
	})
}

// dedupEnv is env with the last setting of each key only, in order.
func dedupEnv(env []string) []string {
	seen := make(map[string]bool, len(env))
	out := make([]string, len(env))
	n := len(out)
	for i := len(env) - 1; i >= 0; i-- {
		if k := envKey(env[i]); !seen[k] {
			seen[k] = true
			n--
			out[n] = env[i]
		}
	}
	return out[n:]
}

func envKey(kv string) string {
	k, _, _ := strings.Cut(kv, "=")
	return k
}

// environ is the program's environment for a conn with peer (nil: none):
// see execEnv. Every key is set once, as the keys of e.env and
// e.opt.Env are apart.
func (e *Exec) environ(peer relay.Conn) []string {
	env := execEnv(e.env, peer, e.opt.Env)
	if len(e.opt.Env) > 0 {
		// Settings of the user's replace the connection's.
		env = dedupEnv(env)
	}
	return env
}

// execEnv is the program's environment: base (see baseEnv), what peer
// tells of the connection, then extra.
func execEnv(base []string, peer relay.Conn, extra []string) []string {
	env := make([]string, len(base), len(base)+len(execEnvKeys)+len(extra))
	copy(env, base)
	set := func(k, v string) { env = append(env, "GNC_"+k+"="+v, "NCAT_"+k+"="+v) }
	if a, ok := peer.(interface {
		LocalAddr() net.Addr
		RemoteAddr() net.Addr
	}); ok {
		for _, side := range []struct {
			name string
			addr net.Addr
		}{{"REMOTE", a.RemoteAddr()}, {"LOCAL", a.LocalAddr()}} {
			if side.addr == nil {
				continue
			}
			host, port, err := net.SplitHostPort(side.addr.String())
			if err != nil {
				host, port = side.addr.String(), ""
			}
			set(side.name+"_ADDR", host)
			if port != "" {
				set(side.name+"_PORT", port)
			}
		}
		if ra := a.RemoteAddr(); ra != nil {
			proto := ra.Network()
			ts, isTLS := peer.(interface{ ConnectionState() tls.ConnectionState })
			// ncat says TCP for its TLS connections too.
			env = append(env, "NCAT_PROTO="+strings.ToUpper(proto))
			if isTLS {
				proto = "tls"
				if s := verifiedSubject(peer, ts.ConnectionState()); s != "" {
					// A NUL would end the value short, and the
					// system refuses it: it is shown escaped.
					env = append(env, "GNC_TLS_PEER_SUBJECT="+strings.ReplaceAll(s, "\x00", `\x00`))
				}
			}
			env = append(env, "GNC_PROTO="+proto)
		}
	}
	return append(env, extra...)
}

// verifiedSubject is the subject of the peer's certificate when gnc
// verified it: a server asks for client certificates only to check them
// (--client-ca, --client-pin), so any it got was verified; a client
// verifies the server's unless it was told not to.
func verifiedSubject(peer relay.Conn, cs tls.ConnectionState) string {
	if len(cs.PeerCertificates) == 0 {
		return ""
	}
	if ic, ok := peer.(interface{ Insecure() bool }); ok && ic.Insecure() {
		return ""
	}
	return cs.PeerCertificates[0].Subject.String()
}

// ExecError is a program that could not be started for a connection.
type ExecError struct {
	// Name is the program as the user wrote it.
	Name string
	// Reason says why, in words.
	Reason string
	// Err is the underlying failure.
	Err error
	// Hint, if not empty, says what to do about it.
	Hint string
}

// Error reads "exec ./handler: cannot start: REASON".
func (e *ExecError) Error() string { return "exec " + e.Name + ": cannot start: " + e.Reason }

// Unwrap gives the underlying failure.
func (e *ExecError) Unwrap() error { return e.Err }

// HintText is the hint, for the ui.
func (e *ExecError) HintText() string { return e.Hint }

// startError explains why the program did not start: most often a script
// whose #! interpreter is missing, which the system reports as the script
// itself being missing, or a limit on descriptors or processes.
func (e *Exec) startError(err error) error {
	reason, hint := Reason(err), ""
	switch {
	case errors.Is(err, fs.ErrNotExist):
		if interp := interpreter(e.path); interp != "" {
			reason = "its interpreter " + interp + " (from its #! line) is missing"
			hint = "install it, or fix the script's first line"
		}
	case errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE):
		hint = "each client holds 3 descriptors while its program runs: raise the limit (ulimit -n) or bound the clients with -m"
	case errors.Is(err, syscall.EAGAIN):
		hint = "the limit on processes (ulimit -u) is reached: bound the clients with -m"
	}
	return &ExecError{Name: e.opt.Name, Reason: reason, Err: err, Hint: hint}
}

// interpreter returns the program a script's #! line names; empty when
// path is not such a script.
func interpreter(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	b := make([]byte, 256)
	n, _ := f.Read(b)
	line, _, _ := bytes.Cut(b[:n], []byte("\n"))
	rest, ok := bytes.CutPrefix(line, []byte("#!"))
	if !ok {
		return ""
	}
	fields := strings.Fields(string(rest))
	if len(fields) == 0 {
		return ""
	}
	return fields[0]
}

// SplitCommand splits the program and arguments of -e as a shell splits a
// simple command, but runs no shell: words are separated by blanks
// (spaces, tabs, newlines); '...' keeps everything inside as it is;
// "..." keeps everything but a backslash before \ " $ ` or a newline; a
// backslash outside quotes keeps the next character as it is (and joins
// lines before a newline). Nothing else is special: no variables, no
// globbing, no redirections. An unclosed quote, a trailing backslash, a
// NUL byte or an empty command is a *ParseError.
func SplitCommand(s string) ([]string, error) {
	fail := func(reason string) ([]string, error) {
		return nil, &ParseError{What: "command", Value: s, Reason: reason, Hint: `quote as a shell would, as in -e "grep -i 'hello world'"`}
	}
	if strings.IndexByte(s, 0) >= 0 {
		return fail("it holds a NUL byte")
	}
	var (
		args []string
		cur  strings.Builder
		word bool // a word has begun, perhaps with an empty quote
	)
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case ' ', '\t', '\n':
			if word {
				args = append(args, cur.String())
				cur.Reset()
				word = false
			}
		case '\\':
			if i+1 == len(s) {
				return fail("it ends with a backslash")
			}
			i++
			if s[i] != '\n' {
				cur.WriteByte(s[i])
				word = true
			}
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return fail("a single quote is not closed")
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			word = true
		case '"':
			word = true
			for i++; ; i++ {
				if i == len(s) {
					return fail("a double quote is not closed")
				}
				if s[i] == '"' {
					break
				}
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("\\\"$`\n", s[i+1]) >= 0 {
					i++
					if s[i] == '\n' {
						continue
					}
				}
				cur.WriteByte(s[i])
			}
		default:
			cur.WriteByte(c)
			word = true
		}
	}
	if word {
		args = append(args, cur.String())
	}
	if len(args) == 0 {
		return fail("the command is empty")
	}
	return args, nil
}

// cutCommand splits "COMMAND,OPTIONS" at the first comma that is neither
// inside single or double quotes nor after a backslash: the command keeps
// its quotes and backslashes, for the shell to read.
func cutCommand(s string) (command, options string, err error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case ',':
			return s[:i], s[i+1:], nil
		case '\\':
			i++
		case '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return "", "", syntaxf("a single quote in the command is not closed")
			}
			i += j + 1
		case '"':
			for i++; ; i++ {
				if i >= len(s) {
					return "", "", syntaxf("a double quote in the command is not closed")
				}
				if s[i] == '\\' {
					i++
				} else if s[i] == '"' {
					break
				}
			}
		}
	}
	return s, "", nil
}

// parseCommandEndpoint reads an endpoint whose address is a shell command
// (exec:COMMAND[,OPTIONS]), where a comma inside quotes or after a
// backslash belongs to the command; ok is false for any other endpoint.
func parseCommandEndpoint(ctx context.Context, s string, d Defaults) (e relay.Endpoint, ok bool, err error) {
	name, rest, hasColon := strings.Cut(s, ":")
	if !hasColon {
		return nil, false, nil
	}
	sc, _ := findScheme(name + ":")
	if sc == nil || sc.names[0] != "exec" {
		return nil, false, nil
	}
	command, rawOpts, err := cutCommand(rest)
	var o options
	if err == nil {
		o, err = parseOptions(rawOpts, sc)
	}
	if err == nil {
		e, err = sc.open(ctx, command, o, d)
	}
	if pe, isParse := err.(*ParseError); isParse {
		reason := pe.Reason
		if pe.What != "endpoint" {
			reason = pe.Error()
		}
		return nil, true, &ParseError{What: "endpoint", Value: s, Reason: reason, Hint: "valid form: " + sc.form + optionsHint(sc)}
	}
	return e, true, err
}

func openExec(_ context.Context, command string, o options, _ Defaults) (relay.Endpoint, error) {
	if strings.TrimSpace(command) == "" {
		return nil, syntaxf("need a command, as in exec:./handler")
	}
	if strings.IndexByte(command, 0) >= 0 {
		return nil, syntaxf("the command holds a NUL byte")
	}
	eo := ExecOptions{Argv: []string{shellPath, "-c", command}, Name: "exec:" + command, Flag: "exec:", Env: o["env"]}
	var err error
	if eo.Stderr, err = o.flag("stderr"); err != nil {
		return nil, err
	}
	if eo.PTY, err = o.flag("pty"); err != nil {
		return nil, err
	}
	if eo.PTY && eo.Stderr {
		return nil, syntaxf("stderr and pty exclude each other: on a terminal, stderr goes into the connection already")
	}
	eo.Dir, _ = o.get("dir")
	return NewExec(eo)
}
