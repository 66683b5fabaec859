package conn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"

	"gnc/relay"
	"gnc/tty"
)

// DefaultBrokerQueue is how many bytes a broker holds for one participant
// that has not read them yet, when BrokerOptions.QueueSize is zero.
const DefaultBrokerQueue = 1 << 20

// maxChatLine bounds a chat line: a participant that sends more without a
// newline has what it sent so far passed on as a line of its own.
const maxChatLine = 16 << 10

// dropGrace is how long a dropped participant's pairing is left to come
// back for the notice telling its client why, before it is ended.
const dropGrace = 250 * time.Millisecond

// ErrTooSlow is (by errors.Is) the Result.Err of the pairing of a broker
// participant dropped because it fell a whole queue behind the others and
// took nothing for a while. It also matches ErrStalled, as a -k client
// dropped for the same reason does.
var ErrTooSlow = errors.New("too slow for the broker")

// ErrBrokerFull is Join's error when BrokerOptions.MaxParticipants
// clients are there already.
var ErrBrokerFull = errors.New("broker full: too many participants")

// ErrBrokerClosed is Join's error once the broker is closed.
var ErrBrokerClosed = errors.New("broker closed")

// A Broker is an endpoint whose conns can be dropped from outside their
// pairing.
var (
	_ relay.Endpoint  = (*Broker)(nil)
	_ relay.Abortable = (*Participant)(nil)
)

// slowError is the error of a dropped participant.
type slowError struct {
	queue int
	stall time.Duration
}

func (e *slowError) Error() string {
	return fmt.Sprintf("fell %s behind the other participants and took nothing for %v", queueSize(e.queue), e.stall)
}

func (e *slowError) Is(target error) bool { return target == ErrTooSlow || target == ErrStalled }

// queueSize renders a queue bound for people: "1 MiB", "256 KiB".
func queueSize(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return strconv.Itoa(n>>20) + " MiB"
	case n >= 1<<10 && n%(1<<10) == 0:
		return strconv.Itoa(n>>10) + " KiB"
	}
	return strconv.Itoa(n) + " bytes"
}

// BrokerOptions shape a Broker. The zero value relays bytes as they are,
// holds up to DefaultBrokerQueue bytes for each participant, drops a
// participant stuck for 2s, and takes any number of clients.
type BrokerOptions struct {
	// Chat makes it ncat's --chat: each participant's lines reach the
	// others prefixed "<userN> ", with the control bytes in them shown
	// visibly, and joins and leaves are announced.
	Chat bool
	// QueueSize is the most bytes held for one participant that has not
	// taken them yet; zero or negative means DefaultBrokerQueue.
	QueueSize int
	// MaxParticipants bounds the clients at once (-m); the participant of
	// gnc's own standard I/O is not counted. Zero or negative: no bound.
	MaxParticipants int
	// Stall is how long a participant whose queue is full may go without
	// taking anything before it is dropped; zero or negative means 2s,
	// as for a -k client that takes no input.
	Stall time.Duration
}

// Broker is ncat's --broker: every participant's bytes go to all the
// others, never back to the sender. Participants are the clients of a
// listener and, optionally, gnc's own standard I/O; each is a conn for
// the engine to pair (see Join).
//
// A participant gets what the others send through a queue of its own,
// bounded by QueueSize, so one that reads slowly does not hold the
// others' bytes up as long as its queue has room. A sender whose bytes
// would overflow some participant's queue waits for room: without that
// wait, any bulk transfer through the broker would drop every reader, as
// all the senders together fill each queue faster than one reader can
// empty it. A participant that keeps its queue full and takes nothing for
// Stall is dropped (its pairing ends with ErrTooSlow, after a notice to
// its client where that can still get through), and the senders go on.
// So a stuck client holds the others up for at most Stall, and memory
// stays at QueueSize per participant, plus a chunk.
//
// A Broker is a relay.Endpoint whose Open joins a new participant, so
// that a relay.Server can pair each client of a listener with one.
type Broker struct {
	opt   BrokerOptions
	queue int
	stall time.Duration

	mu      sync.Mutex
	parts   []*Participant // in the order they joined
	clients int            // parts that are not local
	nextID  int
	local   bool // a local participant has joined
	closed  bool
	space   chan struct{} // closed, and replaced, when room is made while senders wait
	waiting int           // senders waiting for room
	peak    int           // the most bytes one queue held (for tests)
}

// NewBroker returns a broker with no participants.
func NewBroker(opt BrokerOptions) *Broker {
	b := &Broker{opt: opt, queue: opt.QueueSize, stall: opt.Stall, nextID: 1, space: make(chan struct{})}
	if b.queue <= 0 {
		b.queue = DefaultBrokerQueue
	}
	if b.stall <= 0 {
		b.stall = stallTimeout
	}
	return b
}

// String names the endpoint in messages.
func (b *Broker) String() string {
	if b.opt.Chat {
		return "chat"
	}
	return "broker"
}

// Open joins a new, unnamed client participant (see Join); ctx is not
// used, as joining never waits.
func (b *Broker) Open(ctx context.Context) (relay.Conn, error) {
	p, err := b.Join("")
	if err != nil {
		return nil, err
	}
	return p, nil
}

// Close ends the broker: every participant gets what is queued for it,
// then end of file; senders waiting for room fail; Join fails from now
// on.
func (b *Broker) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	for _, p := range b.parts {
		p.poke()
	}
	b.makeRoom()
	return nil
}

// Join adds a client participant, numbered from 1 in the order clients
// join: pair it with the client's conn. name is how chat announces it to
// the others (the client's address); with an empty name the announcement
// waits for SetName, which the caller can make once it knows the client
// (on relay.Opened, before any byte moves), or for the participant's
// first Read or Write.
//
// A client participant ends its pairing when its client has finished
// sending (EndsWithPeer), as ncat's broker does: there is no end to what
// the others may send it.
func (b *Broker) Join(name string) (*Participant, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return nil, ErrBrokerClosed
	case b.opt.MaxParticipants > 0 && b.clients >= b.opt.MaxParticipants:
		return nil, ErrBrokerFull
	}
	p := b.addLocked(b.nextID, false)
	b.nextID++
	b.clients++
	if name != "" {
		p.name = name
		b.announceJoinLocked(p)
	}
	return p, nil
}

// JoinLocal adds the participant of gnc's own standard I/O, user0 in
// chat: pair the stdio conn with it. Unlike a client's, its pairing goes
// on when its input ends (CloseWrite): that ends only what it sends, and
// it goes on receiving from the clients. There can be one.
func (b *Broker) JoinLocal() (*Participant, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	switch {
	case b.closed:
		return nil, ErrBrokerClosed
	case b.local:
		return nil, errors.New("broker: standard I/O has joined already")
	}
	b.local = true
	p := b.addLocked(0, true)
	p.name = "stdio"
	b.announceJoinLocked(p)
	return p, nil
}

func (b *Broker) addLocked(id int, local bool) *Participant {
	p := &Participant{b: b, id: id, local: local, ready: make(chan struct{}, 1), closedCh: make(chan struct{})}
	b.parts = append(b.parts, p)
	return p
}

// removeLocked takes p out of the participants.
func (b *Broker) removeLocked(p *Participant) {
	for i, x := range b.parts {
		if x == p {
			b.parts = append(b.parts[:i], b.parts[i+1:]...)
			if !p.local {
				b.clients--
			}
			break
		}
	}
	p.q, p.queued = nil, 0
	b.makeRoom()
}

// makeRoom wakes the senders waiting for room.
func (b *Broker) makeRoom() {
	if b.waiting > 0 {
		close(b.space)
		b.space = make(chan struct{})
	}
}

// tag is how chat names p: <user3>.
func (p *Participant) tag() string { return "<user" + strconv.Itoa(p.id) + ">" }

// announceJoinLocked tells everyone p has joined, and p who was there.
func (b *Broker) announceJoinLocked(p *Participant) {
	if p.announced {
		return
	}
	p.announced = true
	if !b.opt.Chat {
		return
	}
	b.announceLocked([]byte("<announce> "+p.name+" is connected as "+p.tag()+".\n"), nil)
	var others []string
	for _, x := range b.parts {
		if x != p && x.announced {
			others = append(others, x.name+" as "+x.tag())
		}
	}
	list := "nobody"
	if len(others) > 0 {
		list = joinComma(others)
	}
	b.enqueueLocked(p, []byte("<announce> already connected: "+list+".\n"))
}

func joinComma(s []string) string {
	var buf bytes.Buffer
	for i, x := range s {
		if i > 0 {
			buf.WriteString(", ")
		}
		buf.WriteString(x)
	}
	return buf.String()
}

// announceLocked queues msg for everyone but except, without waiting for
// room: announcements are small, and a participant whose queue they take
// past twice its bound is dropped.
func (b *Broker) announceLocked(msg []byte, except *Participant) {
	for _, p := range append([]*Participant(nil), b.parts...) {
		if p != except {
			b.enqueueLocked(p, msg)
		}
	}
}

// enqueueLocked adds c, which nobody changes afterwards, to p's queue.
func (b *Broker) enqueueLocked(p *Participant, c []byte) {
	if p.gone() {
		return
	}
	if p.queued > 2*b.queue {
		b.dropLocked(p)
		return
	}
	if p.queued == 0 {
		p.last = time.Now() // the clock of a stall starts with work to do
	}
	p.q = append(p.q, c)
	p.queued += len(c)
	b.peak = max(b.peak, p.queued)
	p.poke()
}

// deliver passes c, one chunk sent by from, to every other participant,
// waiting while some participant's queue has no room for it, and
// dropping those that stay stuck.
func (b *Broker) deliver(from *Participant, c []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	var timer *time.Timer
	defer func() {
		if timer != nil {
			timer.Stop()
		}
	}()
	for {
		switch {
		case from.dropped:
			return from.dropErr
		case from.closed || b.closed:
			return net.ErrClosed
		}
		var full []*Participant
		for _, p := range b.parts {
			if p != from && p.queued > 0 && p.queued+len(c) > b.queue {
				full = append(full, p)
			}
		}
		if len(full) == 0 {
			for _, p := range append([]*Participant(nil), b.parts...) {
				if p != from {
					b.enqueueLocked(p, c)
				}
			}
			return nil
		}
		now := time.Now()
		var wait time.Duration
		dropped := false
		for _, p := range full {
			idle := now.Sub(p.last)
			if idle >= b.stall {
				b.dropLocked(p)
				dropped = true
				continue
			}
			if left := b.stall - idle; wait == 0 || left < wait {
				wait = left
			}
		}
		if dropped {
			continue
		}
		if timer == nil {
			timer = time.NewTimer(wait)
		} else {
			timer.Reset(wait)
		}
		space := b.space
		b.waiting++
		b.mu.Unlock()
		select {
		case <-space:
		case <-timer.C:
		case <-from.closedCh:
		}
		b.mu.Lock()
		b.waiting--
	}
}

// dropLocked ends p's part for being too slow: its queue is emptied and
// replaced by a notice to its client, and its pairing is ended soon after
// (at once, were the engine able to write the notice, it would take it
// from Read and end the pairing itself, with the same error).
func (b *Broker) dropLocked(p *Participant) {
	if p.gone() {
		return
	}
	p.dropped = true
	p.dropErr = &slowError{queue: b.queue, stall: b.stall}
	b.removeLocked(p)
	if !p.local {
		p.notice = []byte("gnc: you were dropped: too slow (" + queueSize(b.queue) + " behind)\n")
	}
	p.poke()
	if b.opt.Chat && p.announced {
		b.announceLocked([]byte("<announce> "+p.tag()+" is disconnected (too slow).\n"), p)
	}
	if p.abort != nil {
		abort, err := p.abort, p.dropErr
		p.abortTimer = time.AfterFunc(dropGrace, func() { abort(err) })
	}
}

// Participant is one party of a Broker, as a conn the engine pairs with
// the party's client (or with standard I/O): Read returns what the others
// send, Write sends to all of them, CloseWrite ends what it sends, Close
// leaves the broker.
type Participant struct {
	b     *Broker
	id    int
	local bool

	writeMu sync.Mutex // one Write or CloseWrite at a time
	partial []byte     // chat: the line being sent, not yet ended

	// Under b.mu:
	name       string
	announced  bool
	q          [][]byte // chunks to read; q[0] is read from off
	off        int
	queued     int // bytes in q, from off
	last       time.Time
	ready      chan struct{} // poked when there is something to look at
	closedCh   chan struct{} // closed by Close
	closed     bool
	sendDone   bool
	dropped    bool
	dropErr    error
	notice     []byte
	abort      func(error)
	abortTimer *time.Timer
}

func (p *Participant) gone() bool { return p.closed || p.dropped }

func (p *Participant) poke() {
	select {
	case p.ready <- struct{}{}:
	default:
	}
}

// ID is the participant's number: 0 for standard I/O, then 1, 2... for
// clients in the order they joined.
func (p *Participant) ID() int { return p.id }

// String names the participant in messages: "broker <user3>".
func (p *Participant) String() string { return p.b.String() + " " + p.tag() }

// SetName names a client participant that joined without a name and
// announces it (chat), unless it was announced already.
func (p *Participant) SetName(name string) {
	p.b.mu.Lock()
	defer p.b.mu.Unlock()
	if p.announced || p.gone() {
		return
	}
	p.name = name
	p.b.announceJoinLocked(p)
}

// announceSoon announces p under a placeholder name if nobody named it
// before it started moving bytes.
func (p *Participant) announceSoon() {
	if p.name == "" {
		p.name = "a client"
	}
	p.b.announceJoinLocked(p)
}

// Read returns what the other participants sent, in the order the broker
// passed it on. It returns io.EOF once the broker is closed and all that
// was queued has been read, net.ErrClosed after Close, and after the
// participant was dropped the notice to its client and then ErrTooSlow.
func (p *Participant) Read(buf []byte) (int, error) {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if !p.announced && !p.gone() {
		p.announceSoon()
	}
	for {
		if p.queued > 0 && len(buf) > 0 {
			n := 0
			for n < len(buf) && len(p.q) > 0 {
				m := copy(buf[n:], p.q[0][p.off:])
				n += m
				p.off += m
				if p.off == len(p.q[0]) {
					p.q[0] = nil
					p.q, p.off = p.q[1:], 0
				}
			}
			p.queued -= n
			p.last = time.Now()
			b.makeRoom()
			return n, nil
		}
		switch {
		case p.dropped && len(p.notice) > 0:
			n := copy(buf, p.notice)
			p.notice = p.notice[n:]
			return n, nil
		case p.dropped:
			return 0, p.dropErr
		case p.closed:
			return 0, net.ErrClosed
		case b.closed:
			return 0, io.EOF
		}
		b.mu.Unlock()
		select {
		case <-p.ready:
		case <-p.closedCh:
		}
		b.mu.Lock()
	}
}

// Write passes data to every other participant: as it is, or in chat as
// lines prefixed with the participant's tag (a line not yet ended waits
// for the rest). It waits while a slow participant's queue has no room
// (see Broker). It returns len(data), or an error once the participant
// has left or was dropped, or the broker is closed.
func (p *Participant) Write(data []byte) (int, error) {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	b := p.b
	b.mu.Lock()
	if !p.announced && !p.gone() {
		p.announceSoon()
	}
	done := p.sendDone
	b.mu.Unlock()
	if done {
		return 0, net.ErrClosed
	}
	if !b.opt.Chat {
		if len(data) == 0 {
			return 0, nil
		}
		if err := b.deliver(p, bytes.Clone(data)); err != nil {
			return 0, err
		}
		return len(data), nil
	}
	p.partial = append(p.partial, data...)
	for {
		i := bytes.IndexByte(p.partial, '\n')
		if i < 0 && len(p.partial) < maxChatLine {
			break
		}
		var line []byte
		if i >= 0 {
			line, p.partial = p.partial[:i+1], p.partial[i+1:]
		} else {
			// Cut before a rune that would be split, if it can be told.
			cut := maxChatLine
			for cut > maxChatLine-utf8.UTFMax && cut < len(p.partial) && !utf8.RuneStart(p.partial[cut]) {
				cut--
			}
			line, p.partial = p.partial[:cut], p.partial[cut:]
		}
		if err := b.deliver(p, p.chatLine(line)); err != nil {
			return 0, err
		}
	}
	if len(p.partial) == 0 {
		p.partial = nil // let a long line's buffer go
	}
	return len(data), nil
}

// chatLine renders one line sent by p as the others see it: tagged, its
// control bytes visible (a CR too, but for one that ends the line, so
// that a line cannot pass for another participant's), ended by a newline.
func (p *Participant) chatLine(line []byte) []byte {
	end := "\n"
	switch {
	case bytes.HasSuffix(line, []byte("\r\n")):
		line, end = line[:len(line)-2], "\r\n"
	case bytes.HasSuffix(line, []byte("\n")):
		line = line[:len(line)-1]
	}
	out := append([]byte(p.tag()), ' ')
	for {
		i := bytes.IndexByte(line, '\r')
		if i < 0 {
			break
		}
		out = tty.AppendSafe(out, line[:i], false)
		out = append(out, '^', 'M')
		line = line[i+1:]
	}
	out = tty.AppendSafe(out, line, false)
	return append(out, end...)
}

// CloseWrite ends what the participant sends; in chat, a line not yet
// ended is passed on first. It still receives.
func (p *Participant) CloseWrite() error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	var err error
	if p.b.opt.Chat && len(p.partial) > 0 {
		err = p.b.deliver(p, p.chatLine(p.partial))
		p.partial = nil
	}
	p.b.mu.Lock()
	p.sendDone = true
	p.b.mu.Unlock()
	return err
}

// Close leaves the broker: a Read or Write in progress returns, what was
// queued for the participant is dropped, and in chat the others are told.
func (p *Participant) Close() error {
	b := p.b
	b.mu.Lock()
	defer b.mu.Unlock()
	if p.closed {
		return nil
	}
	p.closed = true
	close(p.closedCh)
	if p.abortTimer != nil {
		p.abortTimer.Stop()
	}
	if p.dropped {
		return nil // removed, and announced, already
	}
	b.removeLocked(p)
	if b.opt.Chat && p.announced {
		b.announceLocked([]byte("<announce> "+p.tag()+" is disconnected.\n"), p)
	}
	return nil
}

// EndsWithPeer is true for a client's participant, whose pairing has no
// use once its client has finished sending, and false for standard I/O's,
// which goes on receiving after its input ends.
func (p *Participant) EndsWithPeer() bool { return !p.local }

// BindAbort is how the engine lets the broker end the participant's
// pairing when it drops it for being too slow (see relay.Abortable).
func (p *Participant) BindAbort(abort func(err error)) {
	p.b.mu.Lock()
	p.abort = abort
	p.b.mu.Unlock()
}

// OpenFor joins a participant for the accepted client peer, named after
// its address, so that chat can announce it before any byte moves; it
// makes the Broker a relay.PeerOpener.
func (b *Broker) OpenFor(ctx context.Context, peer relay.Conn) (relay.Conn, relay.Conn, error) {
	name := ""
	if a, ok := peer.(interface{ RemoteAddr() net.Addr }); ok && a.RemoteAddr() != nil {
		name = a.RemoteAddr().String()
	}
	p, err := b.Join(name)
	if err != nil {
		return peer, nil, err
	}
	return peer, p, nil
}

// AttachStdio makes gnc's own standard I/O one more participant, paired
// with it in a goroutine of its own for as long as the broker lasts (the
// end of stdin ends only what it sends). Call wait once the broker is
// closed: what was queued for stdout is written out, and a read of stdin
// still waiting is cut short after stdioGrace.
func (b *Broker) AttachStdio(stdio *Stdio, opt relay.Options) (wait func() relay.Result, err error) {
	c, err := stdio.Open(context.Background())
	if err != nil {
		return nil, err
	}
	p, err := b.JoinLocal()
	if err != nil {
		c.Close()
		return nil, err
	}
	done := make(chan relay.Result, 1)
	go func() { done <- relay.Pair(context.Background(), c, p, opt) }()
	var res relay.Result
	var once sync.Once
	return func() relay.Result {
		once.Do(func() {
			t := time.NewTimer(stdioGrace)
			defer t.Stop()
			select {
			case res = <-done:
			case <-t.C:
				c.Close() // stdin may never end: nobody is left to send to
				res = <-done
			}
		})
		return res
	}, nil
}

// stdioGrace is how long a closed broker lets stdio's pairing finish
// writing what the clients sent before it cuts a read of stdin short.
const stdioGrace = 2 * time.Second
