package relay

import (
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// tcpInfo reads the kernel's TCP_INFO for c.
func tcpInfo(t *testing.T, c *net.TCPConn) *unix.TCPInfo {
	t.Helper()
	rc, err := c.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var info *unix.TCPInfo
	var ierr error
	if err := rc.Control(func(fd uintptr) {
		info, ierr = unix.GetsockoptTCPInfo(int(fd), unix.IPPROTO_TCP, unix.TCP_INFO)
	}); err != nil {
		t.Fatal(err)
	}
	if ierr != nil {
		t.Fatal(ierr)
	}
	return info
}

// TestLastBytesRideWithFIN: when the source has already ended behind its
// last bytes, those bytes and the relay's FIN reach the peer in one
// segment, and nothing changes in what the peer reads.
func TestLastBytesRideWithFIN(t *testing.T) {
	client, a := tcpPair(t)
	b, server := tcpPair(t)
	client.Write([]byte("request"))
	client.CloseWrite()
	// Wait for the client's FIN to reach the relay's socket, so that the
	// copy finds bytes and end of file together.
	deadline := time.Now().Add(10 * time.Second)
	for tcpInfo(t, a).State != unix.BPF_TCP_CLOSE_WAIT {
		if time.Now().After(deadline) {
			t.Fatal("the client's FIN never reached the relay")
		}
		runtime.Gosched()
	}
	before := tcpInfo(t, server).Segs_in
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, ownTCP{b}, Options{}) }()
	server.SetDeadline(time.Now().Add(10 * time.Second))
	got, err := io.ReadAll(server)
	if err != nil || string(got) != "request" {
		t.Fatalf("server read %q, %v; want \"request\" and end of file", got, err)
	}
	if n := tcpInfo(t, server).Segs_in - before; n != 1 {
		t.Errorf("the request and its FIN came in %d segments, want 1", n)
	}
	server.Write([]byte("reply"))
	server.Close()
	client.SetDeadline(time.Now().Add(10 * time.Second))
	if got, err := io.ReadAll(client); err != nil || string(got) != "reply" {
		t.Fatalf("client read %q, %v; want \"reply\" and end of file", got, err)
	}
	if r := waitResult(t, done); r.Err != nil || r.Bytes != [2]int64{7, 5} {
		t.Fatalf("result %+v, want no error and 7/5 bytes", r)
	}
}

// TestBulkTailNotHeld: once a stream into a pipe has moved enough to
// raise the socket's low-water mark, a tail shorter than the mark that is
// not followed by more bytes or an end of file still comes out promptly.
func TestBulkTailNotHeld(t *testing.T) {
	client, a := tcpPair(t)
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer pr.Close()
	done := make(chan Result, 1)
	go func() { done <- Pair(context.Background(), ownTCP{a}, halves{w: pw}, Options{}) }()

	payload := make([]byte, 2*bulkAfter+1000)
	rand.NewChaCha8([32]byte{7}).Read(payload)
	burst, tail := payload[:2*bulkAfter], payload[2*bulkAfter:]
	got := make([]byte, len(payload))
	pr.SetReadDeadline(time.Now().Add(10 * time.Second))
	go client.Write(burst)
	if n, err := io.ReadFull(pr, got[:len(burst)]); err != nil {
		t.Fatalf("read %d of the burst's %d bytes from the pipe: %v", n, len(burst), err)
	}
	// The relay has drained the socket; now a tail and then nothing: no
	// more bytes, no FIN.
	client.Write(tail)
	if n, err := io.ReadFull(pr, got[len(burst):]); err != nil {
		t.Fatalf("read %d of the tail's %d bytes from the pipe: %v", n, len(tail), err)
	}
	if sha256.Sum256(got) != sha256.Sum256(payload) {
		t.Fatal("the bytes out of the pipe differ from those sent")
	}
	client.Close()
	if r := waitResult(t, done); r.Err != nil || r.Bytes[Forward] != int64(len(payload)) {
		t.Fatalf("result %+v, want no error and %d bytes forward", r, len(payload))
	}
}

// TestReset: a reset on one side ends the pairing at once with that
// error, and resets the other side.
func TestReset(t *testing.T) {
	client, server, done := relayed(t, Options{})
	client.Write([]byte("x"))
	server.SetDeadline(time.Now().Add(10 * time.Second))
	io.ReadFull(server, make([]byte, 1))
	client.SetLinger(0)
	client.Close()
	r := waitResult(t, done)
	if !errors.Is(r.Err, syscall.ECONNRESET) {
		t.Fatalf("result %+v, want a connection reset", r)
	}
	if _, err := server.Read(make([]byte, 1)); !errors.Is(err, syscall.ECONNRESET) {
		t.Fatalf("server read %v, want the reset passed on", err)
	}
}
