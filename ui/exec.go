package ui

import (
	"strings"

	"gnc/relay"
)

// exitNote is ", exit 0" for a pairing whose conn is a process, for the
// end of a relay's close line; empty for a pairing without one.
func exitNote(r relay.Result) string {
	var b strings.Builder
	for _, s := range r.Exit {
		if s != "" {
			b.WriteString(", " + s)
		}
	}
	return b.String()
}

// exited says at -v, in nc mode, how the program run for a connection
// ended: "Closed 127.0.0.1 41234: /bin/cat (pid 4242): exit 0".
func (u *UI) exited(e relay.Event) {
	if u.Verbose < 1 {
		return
	}
	conns := [2]relay.Conn{e.Conn, e.Peer}
	for i, s := range e.Result.Exit {
		if s == "" {
			continue
		}
		peer := relay.PeerName(conns[1-i])
		if a := remote(conns[1-i]); a != nil {
			host, port := splitAddr(a)
			peer = host + " " + port
		}
		u.Logf(1, "Closed %s: %s: %s", peer, relay.PeerName(conns[i]), s)
	}
}
