package hexdump

import (
	"bytes"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite testdata/*.golden from the current output")

// A fixed zone keeps the goldens independent of the machine's time zone.
var (
	zone   = time.FixedZone("test", 90*60)
	tFixed = time.Date(2026, 11, 21, 11, 2, 3, 123456789, zone)
	// Single-digit fields and a sub-microsecond remainder check padding
	// and truncation.
	tSmall = time.Date(2026, 1, 2, 3, 4, 5, 7999, zone)
)

func seq(from, to int) []byte {
	b := make([]byte, 0, to-from)
	for i := from; i < to; i++ {
		b = append(b, byte(i))
	}
	return b
}

func TestGolden(t *testing.T) {
	plain := &Formatter{}
	color := &Formatter{Color: true}
	single := Header{Time: tFixed}
	v4 := Header{Time: tFixed, ID: 3, Src: "127.0.0.1:51234", Dst: "93.184.216.34:80"}
	v4back := Header{Time: tSmall, ID: 3, Src: "93.184.216.34:80", Dst: "127.0.0.1:51234"}
	v6 := Header{Time: tFixed, ID: 18446744073709551615, Src: "[::1]:40000", Dst: "[2001:db8::1%eth0]:443"}
	v6back := Header{Time: tSmall, ID: 18446744073709551615, Src: "[2001:db8::1%eth0]:443", Dst: "[::1]:40000"}
	http := []byte("GET / HTTP/1.1\r\nHost: example.com\r\nUser-Agent: gnc\r\nAccept: */*\r\n\r\n")

	cases := []struct {
		name string
		out  func() []byte
	}{
		{"ascii", func() []byte {
			return plain.AppendChunk(nil, Send, single, 0, http)
		}},
		{"binary", func() []byte {
			return plain.AppendChunk(nil, Recv, single, 0, seq(0, 256))
		}},
		{"partial", func() []byte {
			var b []byte
			off := int64(0)
			for _, n := range []int{1, 15, 17, 8, 9} {
				b = plain.AppendChunk(b, Send, single, off, []byte(strings.Repeat("abcdefghijklmnopq", 2)[:n]))
				off += int64(n)
			}
			return b
		}},
		{"empty", func() []byte {
			b := plain.AppendChunk(nil, Send, single, 0, nil)
			return plain.AppendChunk(b, Recv, v4back, 42, []byte{})
		}},
		{"eof", func() []byte {
			b := plain.AppendEOF(nil, Send, single)
			b = plain.AppendEOF(b, Recv, single)
			return plain.AppendEOF(b, Recv, v4back)
		}},
		{"directions", func() []byte {
			var b []byte
			b = plain.AppendChunk(b, Send, v4, 0, http[:16])
			b = plain.AppendChunk(b, Recv, v4back, 0, []byte("HTTP/1.1 200 OK\r\n"))
			b = plain.AppendChunk(b, Send, v4, 16, http[16:])
			b = plain.AppendEOF(b, Send, v4)
			b = plain.AppendChunk(b, Recv, v4back, 17, []byte("Content-Length: 0\r\n\r\n"))
			return plain.AppendEOF(b, Recv, v4back)
		}},
		{"unaligned", func() []byte {
			b := plain.AppendChunk(nil, Send, single, 5, seq(0x20, 0x20+40))
			return plain.AppendChunk(b, Recv, single, 0x7fff, seq(0x70, 0x90))
		}},
		{"bigoffset", func() []byte {
			// Crosses 1<<32 within a chunk, then far beyond it.
			b := plain.AppendChunk(nil, Send, single, 0xffffffe0, seq(0, 72))
			b = plain.AppendChunk(b, Recv, single, 0xfffffff8, seq(0x41, 0x41+20))
			b = plain.AppendChunk(b, Recv, single, 0x123456789abc, seq(0x30, 0x30+33))
			return plain.AppendChunk(b, Send, single, math.MaxInt64-20, seq(0x61, 0x61+30))
		}},
		{"multiconn", func() []byte {
			var b []byte
			b = plain.AppendChunk(b, Send, v4, 0, []byte("ping\n"))
			b = plain.AppendChunk(b, Recv, v4back, 0, []byte("pong\n"))
			b = plain.AppendChunk(b, Send, v6, 0, seq(0xf0, 0x100))
			b = plain.AppendChunk(b, Recv, v6back, 0, nil)
			b = plain.AppendEOF(b, Recv, v6back)
			return plain.AppendChunk(b, Send, Header{Time: tFixed, ID: 9}, 0, []byte("no addresses"))
		}},
		{"color", func() []byte {
			var b []byte
			b = color.AppendChunk(b, Send, single, 0, http)
			b = color.AppendChunk(b, Recv, v4back, 0, seq(0, 40))
			b = color.AppendChunk(b, Recv, v4back, 0xfffffff8, seq(0x41, 0x41+20))
			b = color.AppendChunk(b, Send, v6, 3, nil)
			b = color.AppendEOF(b, Send, v6)
			return color.AppendEOF(b, Recv, single)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := c.out()
			path := filepath.Join("testdata", c.name+".golden")
			if *update {
				if err := os.WriteFile(path, got, 0o644); err != nil {
					t.Fatal(err)
				}
				return
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("output differs from %s (go test -update rewrites it)\ngot:\n%s\nwant:\n%s", path, got, want)
			}
			// Every golden must also read back cleanly.
			if _, err := parseDump(got); err != nil {
				t.Errorf("golden does not parse: %v", err)
			}
		})
	}
}

// TestFirstLine pins the examples of the spec independently of the goldens,
// so that `go test -update` cannot silently bless a format change.
func TestFirstLine(t *testing.T) {
	var f Formatter
	h := Header{Time: time.Date(2026, 11, 21, 11, 2, 3, 123456000, zone)}
	got := string(f.AppendChunk(nil, Send, h, 0, []byte("GET / HTTP/1.1\r\n")))
	want := "> 2026-11-21 11:02:03.123456 len=16\n" +
		"> 00000000  47 45 54 20 2f 20 48 54  54 50 2f 31 2e 31 0d 0a  |GET / HTTP/1.1..|\n"
	if got != want {
		t.Errorf("got\n%q\nwant\n%q", got, want)
	}
	h = Header{Time: h.Time, ID: 3, Src: "10.0.0.1:80", Dst: "127.0.0.1:51234"}
	got = string(f.AppendEOF(nil, Recv, h))
	want = "< 2026-11-21 11:02:03.123456 #3 10.0.0.1:80 -> 127.0.0.1:51234 eof\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestText8 checks the word-at-a-time text column against the definition for
// every byte value in every lane, next to neighbours that could disturb it
// through a carry.
func TestText8(t *testing.T) {
	for c := range 256 {
		for lane := range 8 {
			for _, fill := range []uint64{0, 0x1f1f1f1f1f1f1f1f, 0x2020202020202020, 0x7e7e7e7e7e7e7e7e, 0x7f7f7f7f7f7f7f7f, 0x8080808080808080, 0xffffffffffffffff} {
				x := fill&^(0xff<<(8*lane)) | uint64(c)<<(8*lane)
				var want uint64
				for k := range 8 {
					b := byte(x >> (8 * k))
					if b < 0x20 || b > 0x7e {
						b = '.'
					}
					want |= uint64(b) << (8 * k)
				}
				if got := text8(x); got != want {
					t.Fatalf("text8(%#016x) = %#016x, want %#016x", x, got, want)
				}
			}
		}
	}
}

func TestAppendKeepsPrefix(t *testing.T) {
	var f Formatter
	h := Header{Time: tFixed}
	dst := append(make([]byte, 0, 8), "prefix\n"...)
	got := f.AppendChunk(dst, Send, h, 0, seq(0, 100))
	want := append([]byte("prefix\n"), f.AppendChunk(nil, Send, h, 0, seq(0, 100))...)
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestNegativeOffsetIsZero(t *testing.T) {
	var f Formatter
	h := Header{Time: tFixed}
	got := f.AppendChunk(nil, Recv, h, -5, seq(0, 20))
	want := f.AppendChunk(nil, Recv, h, 0, seq(0, 20))
	if !bytes.Equal(got, want) {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestOddDirIsSend(t *testing.T) {
	var f Formatter
	h := Header{Time: tFixed}
	want := f.AppendChunk(nil, Send, h, 0, seq(0, 20))
	for _, d := range []Dir{2, 3, 255} {
		if got := f.AppendChunk(nil, d, h, 0, seq(0, 20)); !bytes.Equal(got, want) {
			t.Errorf("Dir(%d): got\n%s\nwant\n%s", d, got, want)
		}
	}
}

func TestZeroTimeIsNow(t *testing.T) {
	var f Formatter
	before := time.Now()
	line := string(f.AppendEOF(nil, Send, Header{}))
	after := time.Now()
	ts, err := time.ParseInLocation("2006-01-02 15:04:05.000000", strings.TrimSuffix(line[2:], " eof\n"), time.Local)
	if err != nil {
		t.Fatalf("%q: %v", line, err)
	}
	if ts.Before(before.Truncate(time.Microsecond)) || ts.After(after) {
		t.Errorf("time %v not between %v and %v", ts, before, after)
	}
}

func TestYearOutOfRange(t *testing.T) {
	var f Formatter
	for y, want := range map[int]string{
		0:     "0000-03-04",
		999:   "0999-03-04",
		9999:  "9999-03-04",
		10000: "10000-03-04",
		-1:    "-1-03-04",
	} {
		want = "> " + want + " 05:06:07.000000 eof\n"
		got := string(f.AppendEOF(nil, Send, Header{Time: time.Date(y, 3, 4, 5, 6, 7, 0, time.UTC)}))
		if got != want {
			t.Errorf("year %d: got %q, want %q", y, got, want)
		}
	}
}

// TestTimeMatchesFormat compares the hand-written time formatting with
// time.Format over many instants.
func TestTimeMatchesFormat(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	zones := []*time.Location{time.UTC, zone, time.FixedZone("w", -7*3600-30*60), time.Local}
	for range 10000 {
		ts := time.Unix(r.Int64N(300e9)-50e9, r.Int64N(1e9)).In(zones[r.IntN(len(zones))])
		got := string(appendTime(nil, ts))
		want := ts.Format("2006-01-02 15:04:05.000000")
		if got != want {
			t.Fatalf("%v: got %q, want %q", ts, got, want)
		}
	}
}

// TestHexdumpC checks the data lines against the real hexdump -C, also at
// unaligned offsets (hexdump -s cuts lines from the skip point the same way).
func TestHexdumpC(t *testing.T) {
	bin, err := exec.LookPath("hexdump")
	if err != nil {
		t.Skip("hexdump not installed")
	}
	r := rand.New(rand.NewPCG(3, 4))
	dir := t.TempDir()
	var f Formatter
	for _, off := range []int{0, 5, 16, 4095} {
		for _, n := range []int{0, 1, 2, 7, 8, 9, 15, 16, 17, 31, 32, 33, 100, 255, 256, 1000, 4099} {
			data := make([]byte, off+n)
			for i := range data {
				// Half text, half binary, so both text-column cases
				// are exercised.
				if r.IntN(2) == 0 {
					data[i] = byte(0x20 + r.IntN(0x60))
				} else {
					data[i] = byte(r.Uint32())
				}
			}
			path := filepath.Join(dir, "in")
			if err := os.WriteFile(path, data, 0o644); err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(bin, "-v", "-C", "-s", strconv.Itoa(off), path)
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("%v: %v", cmd, err)
			}
			want := strings.SplitAfter(string(out), "\n")
			// Drop the final offset-only line and the empty string after
			// the last newline.
			want = want[:max(0, len(want)-2)]
			dump := f.AppendChunk(nil, Send, Header{Time: tFixed}, int64(off), data[off:])
			got := dataLines(dump)
			if strings.Join(got, "") != strings.Join(want, "") {
				t.Errorf("off %d, %d bytes: got\n%s\nhexdump -v -C gives\n%s", off, n, strings.Join(got, ""), strings.Join(want, ""))
			}
		}
	}
}

// TestRoundTrip interleaves chunks of random sizes in both directions, the
// way the copy engine would, and rebuilds each direction from the text.
func TestRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	for _, color := range []bool{false, true} {
		f := &Formatter{Color: color}
		var sent [2][]byte
		var dump []byte
		for range 100 {
			d := Dir(r.IntN(2))
			n := r.IntN(70001)
			if r.IntN(2) == 0 {
				n = r.IntN(40) // small reads are common too
			}
			p := make([]byte, n)
			for i := range p {
				p[i] = byte(r.Uint32())
			}
			h := Header{Time: tFixed}
			if r.IntN(2) == 0 {
				h = Header{Time: tFixed, ID: 7, Src: "[::1]:1", Dst: "[::1]:2"}
			}
			before := len(dump)
			dump = f.AppendChunk(dump, d, h, int64(len(sent[d])), p)
			sent[d] = append(sent[d], p...)
			if got, want := bytes.Count(dump[before:], []byte("\n")), (n+15)/16+1; got != want {
				t.Fatalf("chunk of %d bytes: %d lines, want %d", n, got, want)
			}
		}
		dump = f.AppendEOF(dump, Send, Header{Time: tFixed})
		dump = f.AppendEOF(dump, Recv, Header{Time: tFixed})
		lines, err := parseDump(dump)
		if err != nil {
			t.Fatal(err)
		}
		got, err := streams(lines, [2]uint64{})
		if err != nil {
			t.Fatal(err)
		}
		for d := range got {
			if !bytes.Equal(got[d], sent[d]) {
				t.Errorf("color=%v dir %d: %d bytes read back, %d sent, or contents differ", color, d, len(got[d]), len(sent[d]))
			}
		}
	}
}

// TestWideOffsets runs chunks across every change of offset width, where a
// chunk's lines change length part way through.
func TestWideOffsets(t *testing.T) {
	r := rand.New(rand.NewPCG(9, 10))
	for _, color := range []bool{false, true} {
		f := &Formatter{Color: color}
		for digits := 8; digits < 16; digits++ {
			edge := uint64(1) << (4 * digits)
			for range 20 {
				n := r.IntN(200)
				start := edge - uint64(r.IntN(n+1))
				if digits == 15 {
					start = min(start, math.MaxInt64)
				}
				p := make([]byte, n)
				for i := range p {
					p[i] = byte(r.Uint32())
				}
				dump := f.AppendChunk(nil, Recv, Header{Time: tFixed}, int64(start), p)
				lines, err := parseDump(dump)
				if err != nil {
					t.Fatalf("start %#x, %d bytes: %v", start, n, err)
				}
				got, err := streams(lines, [2]uint64{Recv: start})
				if err != nil {
					t.Fatalf("start %#x, %d bytes: %v\n%s", start, n, err, dump)
				}
				if !bytes.Equal(got[Recv], p) {
					t.Fatalf("start %#x, %d bytes: bytes differ", start, n)
				}
			}
		}
	}
}

// TestConcurrent shares one Formatter between goroutines; run with -race.
func TestConcurrent(t *testing.T) {
	f := &Formatter{Color: true}
	data := seq(0, 256)
	want := f.AppendChunk(nil, Recv, Header{Time: tFixed}, 0, data)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			var buf []byte
			for range 100 {
				buf = f.AppendChunk(buf[:0], Recv, Header{Time: tFixed}, 0, data)
				if !bytes.Equal(buf, want) {
					t.Error("concurrent output differs")
					return
				}
			}
		})
	}
	wg.Wait()
}

func TestNoAllocs(t *testing.T) {
	if testing.CoverMode() != "" {
		t.Skip("coverage counters change allocations")
	}
	f := &Formatter{}
	p := seq(0, 256)
	p = append(p, p[:77]...)
	h := Header{Time: tFixed, ID: 1, Src: "a", Dst: "b"}
	buf := make([]byte, 0, 1<<16)
	for _, color := range []bool{false, true} {
		f.Color = color
		allocs := testing.AllocsPerRun(100, func() {
			buf = f.AppendChunk(buf[:0], Send, h, 0xfffffff0, p)
			buf = f.AppendEOF(buf, Send, Header{})
		})
		if allocs != 0 {
			t.Errorf("color=%v: %v allocations per chunk with a large enough buffer", color, allocs)
		}
	}
}

func TestColorEnabled(t *testing.T) {
	env := func(vars ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(vars); i += 2 {
				if vars[i] == k {
					return vars[i+1]
				}
			}
			return ""
		}
	}
	cases := []struct {
		mode string
		tty  bool
		env  func(string) string
		want bool
	}{
		{"auto", false, env(), false},
		{"auto", true, env(), true},
		{"", true, env(), true},
		{"", false, env(), false},
		{"auto", true, env("NO_COLOR", "1"), false},
		{"auto", true, env("NO_COLOR", "0"), false},
		{"auto", true, env("NO_COLOR", ""), true},
		{"always", false, env("NO_COLOR", "1"), true},
		{"always", true, env(), true},
		{"never", true, env(), false},
	}
	for _, c := range cases {
		got, err := ColorEnabled(c.mode, c.tty, c.env)
		if err != nil || got != c.want {
			t.Errorf("ColorEnabled(%q, %v) = %v, %v; want %v", c.mode, c.tty, got, err, c.want)
		}
	}
	t.Run("nil env reads the environment", func(t *testing.T) {
		t.Setenv("NO_COLOR", "yes")
		if got, _ := ColorEnabled("auto", true, nil); got {
			t.Error("colour on with NO_COLOR set")
		}
		t.Setenv("NO_COLOR", "")
		if got, _ := ColorEnabled("auto", true, nil); !got {
			t.Error("colour off on a terminal without NO_COLOR")
		}
	})
	for _, mode := range []string{"sometimes", "Always", " auto"} {
		got, err := ColorEnabled(mode, true, env())
		if err == nil || got {
			t.Errorf("ColorEnabled(%q) = %v, %v; want an error", mode, got, err)
			continue
		}
		msg := err.Error()
		rest := strings.Replace(msg, `"`+mode+`"`, "", 1)
		if rest == msg || rest != strings.ToLower(rest) || strings.HasSuffix(msg, ".") ||
			!strings.Contains(msg, "auto, always or never") {
			t.Errorf("error text %q", msg)
		}
	}
}

func FuzzFormat(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzFormat.
	f.Fuzz(func(t *testing.T, data []byte, off int64, recv, color bool) {
		fm := &Formatter{Color: color}
		d := Send
		if recv {
			d = Recv
		}
		start := uint64(max(off, 0))
		dump := fm.AppendChunk([]byte("x"), d, Header{Time: tFixed, ID: uint64(len(data)), Src: "s", Dst: "d"}, off, data)
		if dump[0] != 'x' {
			t.Fatal("prefix overwritten")
		}
		dump = dump[1:]
		if got, want := bytes.Count(dump, []byte("\n")), (len(data)+15)/16+1; got != want {
			t.Fatalf("%d lines, want %d", got, want)
		}
		lines, err := parseDump(dump)
		if err != nil {
			t.Fatal(err)
		}
		if !lines[0].header || lines[0].n != len(data) || lines[0].dir != d {
			t.Fatalf("bad header %+v", lines[0])
		}
		for _, l := range lines[1:] {
			if l.header || l.dir != d {
				t.Fatalf("bad data line %+v", l)
			}
		}
		var starts [2]uint64
		starts[d] = start
		got, err := streams(lines, starts)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got[d], data) {
			t.Fatalf("read back %x, want %x", got[d], data)
		}
	})
}

func benchChunk(b *testing.B, f *Formatter, n int) {
	p := make([]byte, n)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	h := Header{Time: tFixed, ID: 3, Src: "127.0.0.1:51234", Dst: "93.184.216.34:80"}
	var dst []byte
	off := int64(0)
	b.SetBytes(int64(n))
	b.ReportAllocs()
	for b.Loop() {
		dst = f.AppendChunk(dst[:0], Send, h, off, p)
		off += int64(n)
	}
}

// BenchmarkAppendChunk measures the formatter on 64 KiB reads of random
// data, the figure bench/hexfmt.sh compares with xxd.
func BenchmarkAppendChunk(b *testing.B) { benchChunk(b, &Formatter{}, 64<<10) }

func BenchmarkColorChunk(b *testing.B) { benchChunk(b, &Formatter{Color: true}, 64<<10) }

// BenchmarkWideChunk is BenchmarkAppendChunk past 4 GiB, where offsets
// need more than 8 digits.
func BenchmarkWideChunk(b *testing.B) {
	p := make([]byte, 64<<10)
	r := rand.New(rand.NewPCG(7, 8))
	for i := range p {
		p[i] = byte(r.Uint32())
	}
	var f Formatter
	var dst []byte
	b.SetBytes(int64(len(p)))
	for b.Loop() {
		dst = f.AppendChunk(dst[:0], Send, Header{Time: tFixed}, 1<<40, p)
	}
}

// BenchmarkSmallChunk shows the per-chunk cost (header, time) that
// dominates interactive traffic.
func BenchmarkSmallChunk(b *testing.B) { benchChunk(b, &Formatter{}, 10) }
