package hexdump

import (
	"fmt"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/term"

	"gnc/relay"
)

// Dumper writes the hex dump of any number of pairings to one writer. Each
// chunk's header and lines go out in a single Write, under a lock, so the
// blocks of concurrent connections never mix; when the writer is gnc's
// stderr, it shares that lock with the -v logs.
//
// Memory stays bounded however many pairings are dumped: chunks are
// formatted into a few blocks that all taps share, and a tap with no free
// block waits for one, which slows its copy down to the dump's pace
// rather than queueing text.
type Dumper struct {
	// OnError, if not nil, is told of the first error met writing the
	// dump, once, as it happens, from the goroutine that met it. The dump
	// then stops, but the traffic goes on: a full disk must not cut
	// connections. Set it before the first tap is made.
	OnError func(error)

	w     io.Writer
	f     Formatter
	multi bool
	file  *os.File // the dump's own file, closed by Close

	blocks  chan *[]byte  // free formatting blocks, shared by every tap
	queue   chan *[]byte  // formatted blocks for the writer goroutine (file dumps)
	written chan struct{} // closed when the writer goroutine is done

	mu     sync.Mutex // held for each Write to w
	err    error
	failed atomic.Bool // err is set: taps stop formatting
}

// numBlocks is how many chunks may be formatted or waiting to be written
// at once: enough to keep formatting and writing busy on two cores at
// once, few enough that a slow disk slows the traffic (nothing is ever
// dropped) rather than filling memory.
const numBlocks = 8

// maxBlockInput is the most bytes one block holds the dump of; a longer
// chunk (a conn's bytes read ahead) is dumped as several.
const maxBlockInput = relay.TapChunk

// NewDumper dumps to w. With multi set every header names its connection
// (its id and both addresses), for modes that serve many at once; color
// turns on ANSI colours by direction.
func NewDumper(w io.Writer, multi, color bool) *Dumper {
	d := &Dumper{w: w, f: Formatter{Color: color}, multi: multi, blocks: make(chan *[]byte, numBlocks)}
	for range numBlocks {
		d.blocks <- new([]byte)
	}
	return d
}

// Open sets up the dump of -x and --hexdump-file: to the file at path
// (created, truncated unless appendTo), or to stderr when path is empty.
// colorMode is --color's value (auto, always, never); auto colours only a
// terminal, and never when NO_COLOR is set.
func Open(path string, appendTo bool, stderr io.Writer, colorMode string, multi bool) (*Dumper, error) {
	w, fd := stderr, 2
	var f *os.File
	if path != "" {
		flags := os.O_WRONLY | os.O_CREATE | os.O_TRUNC
		if appendTo {
			flags = os.O_WRONLY | os.O_CREATE | os.O_APPEND
		}
		var err error
		if f, err = os.OpenFile(path, flags, 0o644); err != nil {
			return nil, err
		}
		w, fd = f, int(f.Fd())
	}
	color, err := ColorEnabled(colorMode, term.IsTerminal(fd), os.Getenv)
	if err != nil {
		if f != nil {
			f.Close()
		}
		return nil, err
	}
	d := NewDumper(w, multi, color)
	if f != nil {
		d.file = f
		d.writeBehind()
	}
	return d, nil
}

// Close waits for the dump to be written, closes its file, if it has one,
// and reports the first error met writing the dump, unless OnError has
// already been told of it.
//
// Every tap must be done before Close is called.
func (d *Dumper) Close() error {
	if d.queue != nil {
		close(d.queue)
		<-d.written
	}
	var err error
	if d.OnError == nil {
		err = d.Err()
	}
	if d.file != nil {
		if cerr := d.file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("hex dump: %w", cerr)
		}
	}
	return err
}

// Err returns the first error met writing the dump, if any. The dump then
// stops, but the traffic goes on.
func (d *Dumper) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// write writes one formatted block and gives it back to the free blocks:
// at once, or through the writer goroutine when the dump has its own file.
func (d *Dumper) write(bp *[]byte) {
	if d.queue != nil {
		d.queue <- bp // never waits: the queue holds every block
		return
	}
	d.writeNow(*bp)
	d.blocks <- bp
}

func (d *Dumper) writeNow(p []byte) {
	d.mu.Lock()
	if d.err != nil {
		d.mu.Unlock()
		return
	}
	var err error
	if _, werr := d.w.Write(p); werr != nil {
		err = fmt.Errorf("hex dump: %w", werr)
		d.err = err
		d.failed.Store(true)
	}
	d.mu.Unlock()
	// Outside the lock: OnError may well write to the same stderr.
	if err != nil && d.OnError != nil {
		d.OnError(err)
	}
}

// writeBehind starts the goroutine that writes a file dump, so that one
// core formats while another copies into the file. Blocks stay in order:
// there is one queue and one writer.
func (d *Dumper) writeBehind() {
	d.queue = make(chan *[]byte, numBlocks)
	d.written = make(chan struct{})
	go func() {
		defer close(d.written)
		for bp := range d.queue {
			d.writeNow(*bp)
			d.blocks <- bp
		}
	}()
}

// Tap returns the tap of pairing id, whose Forward direction goes from
// from to to. It has the type of an entry of relay.Server's Taps.
func (d *Dumper) Tap(id uint64, from, to relay.Conn) relay.Tap {
	t := &tap{d: d}
	if d.multi {
		t.id = id
		a, b := relay.PeerName(from), relay.PeerName(to)
		t.names = [2][2]string{{a, b}, {b, a}}
	}
	return t
}

// tap dumps one pairing: offsets count per direction from 0 and never
// restart.
type tap struct {
	d     *Dumper
	id    uint64
	names [2][2]string // per direction: source, destination
	off   [2]int64     // each direction is copied by one goroutine
}

func (t *tap) header(dir relay.Dir) Header {
	return Header{Time: time.Now(), ID: t.id, Src: t.names[dir][0], Dst: t.names[dir][1]}
}

func mark(dir relay.Dir) Dir {
	if dir == relay.Forward {
		return Send
	}
	return Recv
}

// Chunk formats p into a shared block, waiting for one to be free, and
// writes it as one Write.
func (t *tap) Chunk(dir relay.Dir, p []byte) {
	for len(p) > 0 && !t.d.failed.Load() {
		n := min(len(p), maxBlockInput)
		bp := <-t.d.blocks
		*bp = t.d.f.AppendChunk((*bp)[:0], mark(dir), t.header(dir), t.off[dir], p[:n])
		t.off[dir] += int64(n)
		t.d.write(bp)
		p = p[n:]
	}
}

// EOF marks a direction's clean end, so a reader of the dump sees who
// closed first.
func (t *tap) EOF(dir relay.Dir) {
	if t.d.failed.Load() {
		return
	}
	bp := <-t.d.blocks
	*bp = t.d.f.AppendEOF((*bp)[:0], mark(dir), t.header(dir))
	t.d.write(bp)
}
