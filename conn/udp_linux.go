package conn

import (
	"net"
	"net/netip"
	"os"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"gnc/relay"
)

// batchReader reads many datagrams from a socket in one recvmmsg(2).
// golang.org/x/net's ReadBatch makes the same call, but allocates a
// net.UDPAddr and its IP for every datagram; here the headers, addresses
// and buffers are made once and each sender is read into a netip.AddrPort,
// so the hot path allocates nothing.
type batchReader struct {
	rc    syscall.RawConn
	hs    []mmsghdr
	iovs  []unix.Iovec
	names []unix.RawSockaddrInet6 // large enough for either family
	bufs  [][]byte

	n      int
	errno  error
	recvFn func(fd uintptr) bool // recv, made once
}

// mmsghdr is struct mmsghdr: Go pads it to the C layout on every
// architecture (msg_len, then padding to msghdr's alignment).
type mmsghdr struct {
	hdr unix.Msghdr
	len uint32
}

func newBatchReader(c *net.UDPConn, n int) datagramReader {
	rc, err := c.SyscallConn()
	if err != nil {
		return &oneReader{c: c, buf: make([]byte, relay.DatagramBuffer)}
	}
	b := &batchReader{
		rc:    rc,
		hs:    make([]mmsghdr, n),
		iovs:  make([]unix.Iovec, n),
		names: make([]unix.RawSockaddrInet6, n),
		bufs:  make([][]byte, n),
	}
	for i := range b.hs {
		b.bufs[i] = make([]byte, relay.DatagramBuffer)
		b.iovs[i].Base = &b.bufs[i][0]
		b.iovs[i].SetLen(len(b.bufs[i]))
		h := &b.hs[i].hdr
		h.Name = (*byte)(unsafe.Pointer(&b.names[i]))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	b.recvFn = b.recv
	return b
}

func (b *batchReader) read() (int, error) {
	for i := range b.hs {
		b.hs[i].hdr.Namelen = unix.SizeofSockaddrInet6
		b.hs[i].hdr.Flags = 0
		b.hs[i].len = 0
	}
	b.n, b.errno = 0, nil
	if err := b.rc.Read(b.recvFn); err != nil {
		return 0, err
	}
	if b.errno != nil {
		return 0, os.NewSyscallError("recvmmsg", b.errno)
	}
	return b.n, nil
}

// recv makes the system call; false means nothing is there yet.
func (b *batchReader) recv(fd uintptr) bool {
	for {
		r, _, e := unix.Syscall6(unix.SYS_RECVMMSG, fd, uintptr(unsafe.Pointer(&b.hs[0])), uintptr(len(b.hs)), unix.MSG_DONTWAIT, 0, 0)
		switch e {
		case 0:
			b.n = int(r)
			return true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return false
		}
		b.errno = e
		return true
	}
}

func (b *batchReader) datagram(i int) ([]byte, netip.AddrPort) {
	p := b.bufs[i][:b.hs[i].len]
	sa := &b.names[i]
	switch sa.Family {
	case unix.AF_INET:
		sa4 := (*unix.RawSockaddrInet4)(unsafe.Pointer(sa))
		return p, netip.AddrPortFrom(netip.AddrFrom4(sa4.Addr), ntohs(sa4.Port))
	case unix.AF_INET6:
		a := netip.AddrFrom16(sa.Addr)
		if sa.Scope_id != 0 {
			a = a.WithZone(zoneName(int(sa.Scope_id)))
		}
		return p, netip.AddrPortFrom(a, ntohs(sa.Port))
	}
	return p, netip.AddrPort{}
}

// ntohs reads a port as the kernel stores it, in network byte order.
func ntohs(port uint16) uint16 {
	b := (*[2]byte)(unsafe.Pointer(&port))
	return uint16(b[0])<<8 | uint16(b[1])
}

// zoneName names an IPv6 scope by its interface, as net does.
func zoneName(index int) string {
	if ifi, err := net.InterfaceByIndex(index); err == nil {
		return ifi.Name
	}
	return itoa(index)
}
