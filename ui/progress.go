package ui

import (
	"fmt"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"

	"gnc/relay"
)

// ProgressMode says when -P shows its status line.
type ProgressMode int

const (
	// ProgressNever shows nothing (no -P, or --progress=never).
	ProgressNever ProgressMode = iota
	// ProgressAuto shows the status line only while stderr is a
	// terminal (-P, --progress, --progress=auto).
	ProgressAuto
	// ProgressAlways shows it whatever stderr is (--progress=always).
	ProgressAlways
)

// ParseProgressMode reads --progress's value: "" or "auto", "always",
// "never". Anything else is a usage error.
func ParseProgressMode(s string) (ProgressMode, error) {
	switch s {
	case "", "auto":
		return ProgressAuto, nil
	case "always":
		return ProgressAlways, nil
	case "never":
		return ProgressNever, nil
	}
	return ProgressNever, Usagef("--progress takes auto, always or never", "--progress: unknown mode %q", s)
}

// Show reports whether the status line is shown, given whether stderr is
// a terminal. When it is not shown, -P prints nothing at all: no status
// line and no final line.
func (m ProgressMode) Show(stderrTerminal bool) bool {
	return m == ProgressAlways || m == ProgressAuto && stderrTerminal
}

// ProgressSource is what a Progress reads: live byte counts, updated by
// the engine as it delivers bytes. Its methods are called from the
// meter's goroutine while the counts change, so they must be safe for
// that (relay.Counters is).
type ProgressSource interface {
	// Sent is the bytes delivered so far from gnc's input towards the
	// network (relay.Forward).
	Sent() int64
	// Received is the bytes delivered so far the other way
	// (relay.Backward).
	Received() int64
}

// PairingSource is a ProgressSource for a relay: with one, the status
// line shows pairings rather than a transfer's percent.
type PairingSource interface {
	ProgressSource
	// Open is the number of pairings open now.
	Open() int64
	// Pairings is the number of pairings opened so far.
	Pairings() int64
}

// CountersSource is a ProgressSource reading c, the live counters of a
// pairing.
func CountersSource(c *relay.Counters) ProgressSource { return countersSource{c} }

type countersSource struct{ c *relay.Counters }

func (s countersSource) Sent() int64     { return s.c.Load(relay.Forward) }
func (s countersSource) Received() int64 { return s.c.Load(relay.Backward) }

// ProgressOptions shape a Progress. The zero value shows counts and rates
// with no size, on a terminal 80 columns wide.
type ProgressOptions struct {
	// Size is the number of bytes the transfer is expected to move (stdin
	// a regular file, or --size N), for a percent and an ETA. Zero or
	// negative: unknown.
	Size int64
	// SizeReceived says Size counts received bytes (gnc -l > file with
	// --size) rather than sent ones.
	SizeReceived bool
	// Width, if not nil, returns the terminal's width; the status line is
	// cut to one column less, so it never wraps. Nil, or a result of zero
	// or less, means 80.
	Width func() int

	// For tests: the clock, and the ticker that paces redraws.
	now  func() time.Time
	tick <-chan time.Time
}

// The status line is redrawn every progressInterval, and never more than
// maxDraws times in a second, however the ticks come.
const (
	progressInterval = 100 * time.Millisecond
	maxDraws         = 10
)

// The windows over which rates are computed: the current rate over the
// last second, the ETA's over the last ten, so that it does not jump
// about.
const (
	rateWindow = time.Second
	etaWindow  = 10 * time.Second
)

// Progress is -P's live status line on stderr: bytes sent and received,
// the current rate each way and the elapsed time, and with a size the
// percent and ETA, as pv shows them; for a relay, open pairings,
// pairings per second, and bytes and rate each way. It redraws at most
// 10 times a second in its own goroutine and only reads the source's
// counts, so the data path is not touched. Stop ends it with one final
// line and leaves no partial line behind.
type Progress struct {
	w     io.Writer
	src   ProgressSource
	pairs PairingSource // nil: not a relay
	opt   ProgressOptions
	now   func() time.Time

	mu      sync.Mutex
	start   time.Time
	samples []progressSample // oldest first, covering etaWindow
	draws   []time.Time      // of the last maxDraws redraws, oldest first
	drawn   bool             // a status line is on the screen
	started bool
	stopped bool
	quit    chan struct{}
	done    chan struct{}
}

type progressSample struct {
	t              time.Time
	sent, received int64
	pairings       int64
}

// NewProgress returns a meter of src writing to w, stderr. It counts
// time from now; Start starts the redraws.
func NewProgress(w io.Writer, src ProgressSource, opt ProgressOptions) *Progress {
	p := &Progress{w: w, src: src, opt: opt, now: opt.now, quit: make(chan struct{}), done: make(chan struct{})}
	if p.now == nil {
		p.now = time.Now
	}
	p.pairs, _ = src.(PairingSource)
	p.start = p.now()
	p.samples = append(p.samples, p.sample(p.start))
	return p
}

func (p *Progress) sample(t time.Time) progressSample {
	s := progressSample{t: t, sent: p.src.Sent(), received: p.src.Received()}
	if p.pairs != nil {
		s.pairings = p.pairs.Pairings()
	}
	return s
}

// Start starts redrawing the status line in a goroutine of its own, which
// Stop ends.
func (p *Progress) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.started || p.stopped {
		return
	}
	p.started = true
	tick := p.opt.tick
	var ticker *time.Ticker
	if tick == nil {
		ticker = time.NewTicker(progressInterval)
		tick = ticker.C
	}
	go func() {
		defer close(p.done)
		if ticker != nil {
			defer ticker.Stop()
		}
		for {
			select {
			case <-tick:
				p.tick()
			case <-p.quit:
				return
			}
		}
	}()
}

// tick redraws the status line, unless it was drawn maxDraws times in
// the last second already.
func (p *Progress) tick() {
	now := p.now()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.stopped {
		return
	}
	if len(p.draws) == maxDraws {
		if now.Sub(p.draws[0]) < time.Second {
			return
		}
		p.draws = append(p.draws[:0], p.draws[1:]...)
	}
	p.draws = append(p.draws, now)
	s := p.sample(now)
	p.samples = append(p.samples, s)
	// Keep one progressSample older than the window, so the window is covered.
	drop := 0
	for drop+1 < len(p.samples) && now.Sub(p.samples[drop+1].t) >= etaWindow {
		drop++
	}
	p.samples = p.samples[drop:]
	line := p.status(s)
	p.w.Write([]byte("\r" + line + "\x1b[K"))
	p.drawn = true
}

// since returns the progressSample nearest to, but not after, d before s.
func (p *Progress) since(s progressSample, d time.Duration) progressSample {
	old := p.samples[0]
	for _, x := range p.samples {
		if s.t.Sub(x.t) < d {
			break
		}
		old = x
	}
	return old
}

// progressRate is the rate of n over d, 0 for no time.
func progressRate(n int64, d time.Duration) float64 {
	if d <= 0 {
		return 0
	}
	return float64(n) / d.Seconds()
}

// status is the status line for progressSample s.
func (p *Progress) status(s progressSample) string {
	old := p.since(s, rateWindow)
	dt := s.t.Sub(old.t)
	sentRate := progressRate(s.sent-old.sent, dt)
	recvRate := progressRate(s.received-old.received, dt)
	line := clockTime(s.t.Sub(p.start))
	if p.pairs != nil {
		line += "  " + strconv.FormatInt(p.pairs.Open(), 10) + " open  " +
			strconv.FormatFloat(progressRate(s.pairings-old.pairings, dt), 'f', 1, 64) + " pairings/s  > " +
			byteCount(s.sent) + "  " + rateOf(sentRate) + "  < " + byteCount(s.received) + "  " + rateOf(recvRate)
	} else {
		sent := "  sent " + byteCount(s.sent) + "  " + rateOf(sentRate)
		received := "  received " + byteCount(s.received) + "  " + rateOf(recvRate)
		if p.opt.Size > 0 {
			done, eta := s.sent, p.eta(s, func(x progressSample) int64 { return x.sent })
			if p.opt.SizeReceived {
				done, eta = s.received, p.eta(s, func(x progressSample) int64 { return x.received })
			}
			part := "  " + strconv.FormatInt(done*100/p.opt.Size, 10) + "%  ETA " + eta
			if p.opt.SizeReceived {
				received += part
			} else {
				sent += part
			}
		}
		line += sent + received
	}
	w := 80
	if p.opt.Width != nil {
		if x := p.opt.Width(); x > 0 {
			w = x
		}
	}
	if len(line) > w-1 {
		// Cut whole fields, so no number is shown cut short.
		line = line[:max(w-1, 0)]
		if i := strings.LastIndex(line, "  "); i > 0 {
			line = line[:i]
		}
	}
	return line
}

// eta is the time left for the sized direction, whose count get reads,
// at its rate over the ETA window.
func (p *Progress) eta(s progressSample, get func(progressSample) int64) string {
	left := p.opt.Size - get(s)
	if left <= 0 {
		return clockTime(0)
	}
	old := p.since(s, etaWindow)
	r := progressRate(get(s)-get(old), s.t.Sub(old.t))
	if r <= 0 {
		return "--:--"
	}
	return clockTime(time.Duration(float64(left)/r*float64(time.Second)) + time.Second - 1)
}

// clockTime renders d as m:ss, or h:mm:ss from an hour on, rounded down.
func clockTime(d time.Duration) string {
	s := int64(d / time.Second)
	if s >= 3600 {
		return fmt.Sprintf("%d:%02d:%02d", s/3600, s/60%60, s%60)
	}
	return fmt.Sprintf("%d:%02d", s/60, s%60)
}

// byteCount renders a byte count in decimal units, as rate does.
func byteCount(n int64) string {
	if n < 1000 {
		return strconv.FormatInt(n, 10) + " B"
	}
	r := float64(n)
	units := []string{"B", "kB", "MB", "GB", "TB", "PB"}
	i := 0
	for r >= 1000 && i < len(units)-1 {
		r /= 1000
		i++
	}
	return strconv.FormatFloat(r, 'f', 1, 64) + " " + units[i]
}

// rateOf renders a rate in bytes per second, as rate does.
func rateOf(r float64) string {
	return rate(int64(r), time.Second)
}

// Write prints b, lines of other messages, above the status line: the
// line is cleared first and drawn again at the next redraw. It lets
// messages share stderr with the meter without being cut into.
func (p *Progress) Write(b []byte) (int, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		if _, err := p.w.Write(append([]byte("\r\x1b[K"), b...)); err != nil {
			return 0, err
		}
		p.drawn = false
		return len(b), nil
	}
	return p.w.Write(b)
}

// Stop ends the redraws and replaces the status line with the final one,
// the -vv summary ("sent N bytes, received M bytes in 1.234s (rate)",
// preceded for a relay by the number of pairings), ended by a newline.
// It may be called more than once; later calls do nothing.
func (p *Progress) Stop() {
	p.mu.Lock()
	if p.stopped {
		p.mu.Unlock()
		return
	}
	p.stopped = true
	started := p.started
	p.mu.Unlock()
	if started {
		close(p.quit)
		<-p.done
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	d := p.now().Sub(p.start)
	s := p.sample(p.now())
	line := fmt.Sprintf("sent %d bytes, received %d bytes in %s (%s)", s.sent, s.received, seconds(d), rate(s.sent+s.received, d))
	if p.opt.Size > 0 {
		// Where the live line got to, which a quick transfer never drew.
		done := s.sent
		if p.opt.SizeReceived {
			done = s.received
		}
		line += fmt.Sprintf(", %d%% of %d", done*100/p.opt.Size, p.opt.Size)
	}
	if p.pairs != nil {
		n := s.pairings
		plural := "s"
		if n == 1 {
			plural = ""
		}
		line = fmt.Sprintf("%d pairing%s, %s", n, plural, line)
	}
	prefix := ""
	if p.drawn {
		prefix = "\r\x1b[K"
	}
	p.w.Write([]byte(prefix + line + "\n"))
	p.drawn = false
}
