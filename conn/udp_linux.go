package conn

import (
	"net"
	"net/netip"
	"os"
	"sync"
	"sync/atomic"
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
	// Always ask first: the poller forgets what it saw before this
	// read began, so only the socket itself can say it is empty.
	var ok bool
	b.n, b.errno, ok = mmsgCall(unix.SYS_RECVMMSG, fd, b.hs, unix.MSG_DONTWAIT)
	return ok
}

// mmsgCall makes recvmmsg(2) or sendmmsg(2) (trap) on hs, again after
// EINTR. ok is false for EAGAIN (nothing to read, no room to send), so
// that the poller waits; otherwise n is how many headers were done, or
// errno why none was.
func mmsgCall(trap, fd uintptr, hs []mmsghdr, flags int) (n int, errno error, ok bool) {
	for {
		r, _, e := unix.Syscall6(trap, fd, uintptr(unsafe.Pointer(&hs[0])), uintptr(len(hs)), uintptr(flags), 0, 0)
		switch e {
		case 0:
			return int(r), nil, true
		case unix.EINTR:
			continue
		case unix.EAGAIN:
			return 0, nil, false
		}
		return 0, e, true
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

// batchIO says the platform sends and receives datagrams in batches.
const batchIO = true

// mmsgBatch is the state of one sendmmsg(2) or recvmmsg(2) call on a
// socket of many datagrams: the headers, made once and lent from mmsgPool,
// so that a batch allocates nothing.
type mmsgBatch struct {
	hs   []mmsghdr
	iovs []unix.Iovec
	name unix.RawSockaddrInet6 // every datagram's destination, when not connected
	runs []int                 // sending: how many datagrams each header carries
	oob  []byte                // sending: a UDP_SEGMENT control message per header

	k, n   int // headers asked, and done
	errno  error
	sendFn func(fd uintptr) bool // sendCall, made once
}

// oobSpace is the room one UDP_SEGMENT control message takes.
var oobSpace = unix.CmsgSpace(2)

var mmsgPool = sync.Pool{New: func() any {
	n := relay.DatagramBatch
	b := &mmsgBatch{hs: make([]mmsghdr, n), iovs: make([]unix.Iovec, n), runs: make([]int, n), oob: make([]byte, n*oobSpace)}
	for i := range n {
		h := (*unix.Cmsghdr)(unsafe.Pointer(&b.oob[i*oobSpace]))
		h.Level, h.Type = unix.SOL_UDP, unix.UDP_SEGMENT
		h.SetLen(unix.CmsgLen(2))
	}
	b.sendFn = b.sendCall
	return b
}}

// gsoMax is the largest datagram sent in a UDP_SEGMENT run (generic
// segmentation offload: a run of datagrams of one size crosses the
// stack as one buffer and is cut into datagrams at its end, which on
// loopback costs a third of sending them one by one). A run is refused
// with EINVAL when a datagram with its headers exceeds the route's MTU,
// and by kernels before 4.18; each refusal lowers gsoMax below the size
// refused, down to 0 (no runs at all), and the datagrams go again one by
// one, so nothing is lost and the refusal is not met twice.
var gsoMax atomic.Int64

func init() { gsoMax.Store(MaxDatagram) }

// maxRun bounds a run: the kernel's UDP_MAX_SEGMENTS, and a run's bytes
// fit in one IP packet's length field.
const (
	maxRun      = 64
	maxRunBytes = 65000
)

// sendDatagrams sends each of ds as a datagram on rc's socket: to to, or
// when to is the zero AddrPort on a connected socket to its peer.
// Consecutive datagrams of one size (the last of a run may be shorter) go
// as one UDP_SEGMENT run where the kernel takes it.
func sendDatagrams(rc syscall.RawConn, ds [][]byte, to netip.AddrPort) (int, error) {
	b := mmsgPool.Get().(*mmsgBatch)
	defer mmsgPool.Put(b)
	namelen := uint32(0)
	if to.IsValid() {
		namelen = b.setName(to)
	}
	sent := 0
	for sent < len(ds) {
		limit := int(gsoMax.Load())
		longest := b.fill(ds[sent:], namelen, limit)
		b.n, b.errno = 0, nil
		err := rc.Write(b.sendFn)
		clear(b.iovs) // drop the references to the caller's buffers
		if err != nil {
			return sent, err
		}
		if b.errno != nil {
			if b.n == 0 && longest > 0 && gsoRefused(b.errno) {
				// Lower the bound below the run that may have been
				// refused, and send these again.
				for {
					cur := gsoMax.Load()
					if int64(longest) > cur || gsoMax.CompareAndSwap(cur, int64(longest-1)) {
						break
					}
				}
				continue // each time with fewer runs: it ends
			}
			return sent, os.NewSyscallError("sendmmsg", b.errno)
		}
		for _, r := range b.runs[:b.n] {
			sent += r
		}
	}
	return sent, nil
}

// gsoRefused reports the errors with which a kernel refuses a
// UDP_SEGMENT run: too large for the route, or not known at all.
func gsoRefused(err error) bool {
	return err == unix.EINVAL || err == unix.ENOPROTOOPT || err == unix.EIO
}

// fill sets up b's headers for the datagrams at the start of ds, runs of
// one size up to limit bytes each becoming one header, and returns the
// largest datagram size sent in a run (0: no run).
func (b *mmsgBatch) fill(ds [][]byte, namelen uint32, limit int) (longest int) {
	b.k = 0
	iov := 0
	for i := 0; i < len(ds) && b.k < len(b.hs) && iov < len(b.iovs); {
		h := &b.hs[b.k].hdr
		*h = unix.Msghdr{}
		if namelen > 0 {
			h.Name = (*byte)(unsafe.Pointer(&b.name))
			h.Namelen = namelen
		}
		size := len(ds[i])
		run := 1
		if size > 0 && size <= limit {
			total := size
			for i+run < len(ds) && run < maxRun && iov+run < len(b.iovs) {
				next := len(ds[i+run])
				if next == 0 || next > size || total+next > maxRunBytes {
					break
				}
				run++
				total += next
				if next < size {
					break // only the last of a run may be shorter
				}
			}
		}
		if size > 0 {
			for j := range run {
				d := ds[i+j]
				b.iovs[iov+j].Base = &d[0]
				b.iovs[iov+j].SetLen(len(d))
			}
			h.Iov = &b.iovs[iov]
			h.SetIovlen(run)
		}
		if run > 1 {
			c := b.oob[b.k*oobSpace : (b.k+1)*oobSpace]
			*(*uint16)(unsafe.Pointer(&c[unix.CmsgLen(0)])) = uint16(size)
			h.Control = &c[0]
			h.SetControllen(len(c))
			longest = max(longest, size)
		}
		b.runs[b.k] = run
		b.k++
		iov += run
		i += run
	}
	return longest
}

func (b *mmsgBatch) sendCall(fd uintptr) bool {
	var ok bool
	b.n, b.errno, ok = mmsgCall(unix.SYS_SENDMMSG, fd, b.hs[:b.k], 0)
	return ok
}

// setName puts to in b.name as the kernel takes it, and returns its
// length. An address as a socket reported it has the socket's family.
func (b *mmsgBatch) setName(to netip.AddrPort) uint32 {
	b.name = unix.RawSockaddrInet6{}
	if to.Addr().Is4() {
		sa := (*unix.RawSockaddrInet4)(unsafe.Pointer(&b.name))
		sa.Family = unix.AF_INET
		putPort(&sa.Port, to.Port())
		sa.Addr = to.Addr().As4()
		return unix.SizeofSockaddrInet4
	}
	b.name.Family = unix.AF_INET6
	putPort(&b.name.Port, to.Port())
	b.name.Addr = to.Addr().As16()
	if z := to.Addr().Zone(); z != "" {
		if sa, ok := udpSockaddr(to).(*syscall.SockaddrInet6); ok {
			b.name.Scope_id = sa.ZoneId
		}
	}
	return unix.SizeofSockaddrInet6
}

// putPort stores port as the kernel does, in network byte order.
func putPort(dst *uint16, port uint16) {
	b := (*[2]byte)(unsafe.Pointer(dst))
	b[0], b[1] = byte(port>>8), byte(port)
}

// rxFill reads the datagrams already on a socket into bufs, in one
// recvmmsg(2); it returns syscall.EAGAIN when there are none, and an
// error met after some datagrams only on the next call (as the kernel
// does).
func rxFill(fd uintptr, bufs []*[]byte, sizes []int) (int, error) {
	b := mmsgPool.Get().(*mmsgBatch)
	defer mmsgPool.Put(b)
	b.k = min(len(bufs), len(b.hs))
	for i := range b.k {
		h := &b.hs[i].hdr
		*h = unix.Msghdr{}
		b.hs[i].len = 0
		buf := *bufs[i]
		b.iovs[i].Base = &buf[0]
		b.iovs[i].SetLen(len(buf))
		h.Iov = &b.iovs[i]
		h.SetIovlen(1)
	}
	n, err, ok := mmsgCall(unix.SYS_RECVMMSG, fd, b.hs[:b.k], unix.MSG_DONTWAIT)
	clear(b.iovs[:b.k])
	switch {
	case !ok:
		return 0, unix.EAGAIN
	case err != nil:
		return 0, err
	}
	for i := range n {
		sizes[i] = int(b.hs[i].len)
	}
	return n, nil
}
