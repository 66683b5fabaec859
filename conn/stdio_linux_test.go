package conn

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"gnc/relay"
)

func testStdio(t *testing.T, o StdioOptions, in, out int) (*Stdio, *stdioConn) {
	t.Helper()
	s, err := newStdio(o, in, out)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	c, err := s.Open(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	return s, c.(*stdioConn)
}

// TestStdioPrivatePipes: pipes on stdin and stdout are read and written
// through private non-blocking descriptions (*os.File, which the engine
// splices), while the shared descriptors stay blocking; closing the conn
// cancels a read in progress.
func TestStdioPrivatePipes(t *testing.T) {
	inR, inW := sharedPipe(t)
	outR, outW := sharedPipe(t)
	_, c := testStdio(t, StdioOptions{}, inR, outW)
	rf, ok1 := c.ReadHalf().(*os.File)
	wf, ok2 := c.WriteHalf().(*os.File)
	if !ok1 || !ok2 {
		t.Fatalf("halves are %T and %T, want *os.File", c.ReadHalf(), c.WriteHalf())
	}
	if wf.Name() != "/dev/stdout" {
		t.Errorf("stdout is named %q; ui recognises a broken stdout by /dev/stdout", wf.Name())
	}
	for _, f := range []*os.File{rf, wf} {
		rc, _ := f.SyscallConn()
		rc.Control(func(fd uintptr) {
			if int(fd) == inR || int(fd) == outW || !isNonblocking(t, int(fd)) {
				t.Errorf("%s is fd %d, non-blocking %v; want a private non-blocking descriptor", f.Name(), fd, isNonblocking(t, int(fd)))
			}
		})
	}
	unix.Write(inW, []byte("in"))
	buf := make([]byte, 10)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "in" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	if _, err := c.Write([]byte("out")); err != nil {
		t.Fatal(err)
	}
	if n, err := unix.Read(outR, buf); err != nil || string(buf[:n]) != "out" {
		t.Fatalf("stdout carried %q, %v", buf[:n], err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("read of an empty stdin returned %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	c.Close()
	select {
	case err := <-errc:
		if !errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("read after Close: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the read of stdin")
	}
	for _, fd := range []int{inR, inW, outR, outW} {
		if isNonblocking(t, fd) {
			t.Errorf("shared fd %d is non-blocking", fd)
		}
	}
}

// TestStdioCloseWriteDevNull: CloseWrite leaves /dev/null on stdout's
// descriptor (its number is never free for another file) and closes
// everything else gnc holds on the pipe, so its reader sees end of file
// while stdin goes on.
func TestStdioCloseWriteDevNull(t *testing.T) {
	inR, _ := sharedPipe(t)
	outR, outW := sharedPipe(t)
	_, c := testStdio(t, StdioOptions{}, inR, outW)
	c.Write([]byte("last words"))
	if err := c.CloseWrite(); err != nil {
		t.Fatal(err)
	}
	var st, null unix.Stat_t
	if err := unix.Fstat(outW, &st); err != nil {
		t.Fatalf("stdout's descriptor after CloseWrite: %v", err)
	}
	unix.Stat("/dev/null", &null)
	if st.Mode&unix.S_IFMT != unix.S_IFCHR || st.Rdev != null.Rdev {
		t.Fatalf("stdout's descriptor is mode %o rdev %x after CloseWrite, want /dev/null", st.Mode, st.Rdev)
	}
	var got []byte
	buf := make([]byte, 100)
	for { // to the end of file: the only writer left was gnc's
		n, err := unix.Read(outR, buf)
		if n <= 0 || err != nil {
			break
		}
		got = append(got, buf[:n]...)
	}
	if string(got) != "last words" {
		t.Fatalf("stdout's reader got %q", got)
	}
}

// TestStdioRegularFile: a regular file on stdin is read from its current
// position, which advances for whoever shares the descriptor.
func TestStdioRegularFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "stdin")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("0123456789")
	f.Seek(3, io.SeekStart)
	rc, _ := f.SyscallConn()
	var fd int
	rc.Control(func(x uintptr) { fd = int(x) })
	_, c := testStdio(t, StdioOptions{SendOnly: true}, fd, -1)
	if _, ok := c.ReadHalf().(*os.File); !ok {
		t.Fatalf("stdin is %T, want *os.File (spliceable)", c.ReadHalf())
	}
	buf := make([]byte, 4)
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "3456" {
		t.Fatalf("read %q, %v", buf, err)
	}
	if pos, _ := f.Seek(0, io.SeekCurrent); pos != 7 {
		t.Fatalf("the shared position is %d after reading 4 bytes from 3, want 7", pos)
	}
}

// TestStdioSocket: a socket on stdin and stdout, which /proc cannot open
// again, is used as it is, without being made non-blocking; closing the
// conn still cancels a read in progress.
func TestStdioSocket(t *testing.T) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fds[0])
	defer unix.Close(fds[1])
	_, c := testStdio(t, StdioOptions{}, fds[1], fds[1])
	unix.Write(fds[0], []byte("hi"))
	buf := make([]byte, 10)
	if n, err := c.Read(buf); err != nil || string(buf[:n]) != "hi" {
		t.Fatalf("read %q, %v", buf[:n], err)
	}
	c.Write([]byte("ho"))
	if n, err := unix.Read(fds[0], buf); err != nil || string(buf[:n]) != "ho" {
		t.Fatalf("peer read %q, %v", buf[:n], err)
	}
	errc := make(chan error, 1)
	go func() {
		_, err := c.Read(buf)
		errc <- err
	}()
	select {
	case err := <-errc:
		t.Fatalf("read of a quiet socket returned %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	c.Close()
	select {
	case <-errc:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the read of the socket")
	}
	if isNonblocking(t, fds[1]) {
		t.Fatal("the socket was made non-blocking")
	}
}

// TestStdioSingleUse: without Shared the endpoint opens once.
func TestStdioSingleUse(t *testing.T) {
	inR, _ := sharedPipe(t)
	_, outW := sharedPipe(t)
	s, _ := testStdio(t, StdioOptions{}, inR, outW)
	if !s.SingleUse() {
		t.Error("SingleUse is false without Shared")
	}
	if _, err := s.Open(context.Background()); !errors.Is(err, relay.ErrExhausted) {
		t.Errorf("second Open: %v, want ErrExhausted", err)
	}
	shared, err := newStdio(StdioOptions{Shared: true, RecvOnly: true}, inR, outW)
	if err != nil {
		t.Fatal(err)
	}
	defer shared.Close()
	if shared.SingleUse() {
		t.Error("SingleUse is true with Shared")
	}
}
