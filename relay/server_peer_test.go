package relay_test

import (
	"io"
	"testing"

	"gnc/relay"
)

// TestServerDialLoopPeerOpener: between two endpoints that do not listen,
// a PeerOpener is opened second, through OpenFor with the other side's
// conn (as a program started for a connection needs its addresses),
// whichever side it is on.
func TestServerDialLoopPeerOpener(t *testing.T) {
	echo := echoServer(t)
	x := newCountingListener(t)
	_, ran := runServer(t, &relay.Server{From: lineOpener{}, To: dialEP{x.l.Addr().String()}})
	c := x.next(t)
	c.Write([]byte(echo + "\nasked by the dialed side"))
	c.CloseWrite()
	if got, _ := io.ReadAll(c); string(got) != "asked by the dialed side" {
		t.Fatalf("echo %q", got)
	}
	if err := waitRun(t, ran); err != nil {
		t.Fatal(err)
	}
}
