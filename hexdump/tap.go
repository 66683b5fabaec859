package hexdump

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"golang.org/x/term"

	"gnc/relay"
)

// Dumper writes the hex dump of any number of pairings to one writer. Each
// chunk's header and lines go out in a single Write, under a lock, so the
// blocks of concurrent connections never mix; when the writer is gnc's
// stderr, it shares that lock with the -v logs.
type Dumper struct {
	w     io.Writer
	mu    sync.Mutex
	f     Formatter
	multi bool
	err   error
	file  *os.File // the dump's own file, closed by Close

	queue   chan *[]byte  // blocks for the writer goroutine (file dumps)
	written chan struct{} // closed when the writer goroutine is done
}

// NewDumper dumps to w. With multi set every header names its connection
// (its id and both addresses), for modes that serve many at once; color
// turns on ANSI colours by direction.
func NewDumper(w io.Writer, multi, color bool) *Dumper {
	return &Dumper{w: w, f: Formatter{Color: color}, multi: multi}
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

// Close closes the dump's file, if it has one, and reports the first
// error met writing the dump.
//
// Every tap must be done before Close is called.
func (d *Dumper) Close() error {
	if d.queue != nil {
		close(d.queue)
		<-d.written
	}
	err := d.Err()
	if d.file != nil {
		if cerr := d.file.Close(); err == nil && cerr != nil {
			err = fmt.Errorf("hex dump: %w", cerr)
		}
	}
	return err
}

// Err returns the first error met writing the dump, if any. The dump then
// stops, but the traffic goes on: a full disk must not cut connections.
func (d *Dumper) Err() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.err
}

// write writes one formatted block and gives its buffer back to the pool:
// at once, or through the writer goroutine when the dump has its own file.
func (d *Dumper) write(bp *[]byte) {
	if d.queue != nil {
		d.queue <- bp
		return
	}
	d.writeNow(*bp)
	bufs.Put(bp)
}

func (d *Dumper) writeNow(p []byte) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.err != nil {
		return
	}
	if _, err := d.w.Write(p); err != nil {
		d.err = fmt.Errorf("hex dump: %w", err)
	}
}

// queueLen bounds the blocks waiting for the writer goroutine: enough to
// keep formatting and writing busy on two cores at once, little enough
// that a slow disk slows the traffic (nothing is ever dropped) rather than
// filling memory.
const queueLen = 4

// writeBehind starts the goroutine that writes a file dump, so that one
// core formats while another copies into the file. Blocks stay in order:
// there is one queue and one writer.
func (d *Dumper) writeBehind() {
	d.queue = make(chan *[]byte, queueLen)
	d.written = make(chan struct{})
	go func() {
		defer close(d.written)
		for bp := range d.queue {
			d.writeNow(*bp)
			bufs.Put(bp)
		}
	}()
}

// bufs holds formatting buffers; each is used for one chunk at a time, so
// many idle connections do not each keep one.
var bufs = sync.Pool{New: func() any { b := make([]byte, 0, 1<<20); return &b }}

// Tap returns the tap of pairing id, whose Forward direction goes from
// from to to. It satisfies relay.Server's NewTap.
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

// Chunk formats p into a pooled buffer and writes it as one block.
func (t *tap) Chunk(dir relay.Dir, p []byte) {
	bp := bufs.Get().(*[]byte)
	*bp = t.d.f.AppendChunk((*bp)[:0], mark(dir), t.header(dir), t.off[dir], p)
	t.off[dir] += int64(len(p))
	t.d.write(bp)
}

// EOF marks a direction's clean end, so a reader of the dump sees who
// closed first.
func (t *tap) EOF(dir relay.Dir) {
	bp := bufs.Get().(*[]byte)
	*bp = t.d.f.AppendEOF((*bp)[:0], mark(dir), t.header(dir))
	t.d.write(bp)
}
