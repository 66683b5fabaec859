package tty

import (
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"
)

// vt is as much of a VT100 as the line editor drives: printing with
// autowrap (and the pending wrap at the last column), wide characters,
// CR, LF, BS, tab, BEL, and the CSI sequences A B C D G H J K m and the
// private modes. Anything else is recorded as an error.
type vt struct {
	mu       sync.Mutex
	w, h     int
	used     int // rows past this one are blank
	rows     [][]rune
	row, col int
	wrapNext bool
	carry    []byte
	errs     []string
	changed  chan struct{}
	writes   int
}

func newVT(w, h int) *vt {
	v := &vt{w: w, h: h, changed: make(chan struct{}, 1)}
	for range h {
		v.rows = append(v.rows, v.blank())
	}
	return v
}

func (v *vt) blank() []rune {
	r := make([]rune, v.w)
	for i := range r {
		r[i] = ' '
	}
	return r
}

func (v *vt) Write(p []byte) (int, error) {
	v.mu.Lock()
	v.writes++
	data := append(v.carry, p...)
	v.carry = nil
	i := 0
	for i < len(data) {
		n := v.step(data[i:])
		if n == 0 {
			v.carry = append([]byte(nil), data[i:]...)
			break
		}
		i += n
	}
	v.used = max(v.used, v.row)
	v.mu.Unlock()
	select {
	case v.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (v *vt) lf() {
	v.wrapNext = false
	if v.row == v.h-1 {
		copy(v.rows, v.rows[1:])
		v.rows[v.h-1] = v.blank()
		return
	}
	v.row++
	v.used = max(v.used, v.row)
}

// step interprets the sequence at the start of p; 0: incomplete.
func (v *vt) step(p []byte) int {
	switch b := p[0]; {
	case b == '\r':
		v.col, v.wrapNext = 0, false
		return 1
	case b == '\n':
		v.lf()
		return 1
	case b == '\b':
		v.col, v.wrapNext = max(v.col-1, 0), false
		return 1
	case b == '\a':
		return 1
	case b == '\t':
		v.col = min((v.col/8+1)*8, v.w-1)
		return 1
	case b == 0x1b:
		if len(p) < 2 {
			return 0
		}
		if p[1] != '[' {
			v.errs = append(v.errs, fmt.Sprintf("ESC %q", p[1]))
			return 2
		}
		j := 2
		for j < len(p) && (p[j] < 0x40 || p[j] > 0x7e) {
			j++
		}
		if j == len(p) {
			return 0
		}
		v.csi(string(p[2:j]), p[j])
		return j + 1
	case b < 0x20 || b == 0x7f:
		v.errs = append(v.errs, fmt.Sprintf("control %#x", b))
		return 1
	}
	if !utf8.FullRune(p) {
		return 0
	}
	r, size := utf8.DecodeRune(p)
	v.print(r)
	return size
}

func (v *vt) print(r rune) {
	cw := runeWidth(r)
	if cw == 0 {
		return
	}
	if v.wrapNext || v.col+cw > v.w {
		v.col = 0
		v.lf()
	}
	v.rows[v.row][v.col] = r
	if cw == 2 {
		v.rows[v.row][v.col+1] = 0 // the right half of a wide rune
	}
	v.col += cw
	if v.col >= v.w {
		v.col, v.wrapNext = v.w-1, true
	}
}

func (v *vt) csi(params string, f byte) {
	if strings.HasPrefix(params, "?") {
		return // private modes (bracketed paste)
	}
	n := 1
	if params != "" {
		x, err := strconv.Atoi(strings.Split(params, ";")[0])
		if err != nil {
			v.errs = append(v.errs, "CSI "+params+string(f))
			return
		}
		n = x
	}
	v.wrapNext = false
	switch f {
	case 'A':
		v.row = max(v.row-n, 0)
	case 'B':
		v.row = min(v.row+n, v.h-1)
		v.used = max(v.used, v.row)
	case 'C':
		v.col = min(v.col+n, v.w-1)
	case 'D':
		v.col = max(v.col-n, 0)
	case 'G':
		v.col = min(max(n-1, 0), v.w-1)
	case 'H':
		v.row, v.col = 0, 0
	case 'J':
		if params == "2" {
			for i := range v.rows {
				v.rows[i] = v.blank()
			}
			return
		}
		for c := v.col; c < v.w; c++ {
			v.rows[v.row][c] = ' '
		}
		for r := v.row + 1; r < v.h; r++ {
			v.rows[r] = v.blank()
		}
	case 'K':
		for c := v.col; c < v.w; c++ {
			v.rows[v.row][c] = ' '
		}
	case 'm':
	default:
		v.errs = append(v.errs, "CSI "+params+string(f))
	}
}

// screen returns the rows up to the last that is not blank (or the
// cursor's), trailing blanks cut, and the cursor.
func (v *vt) screen() (rows []string, row, col int) {
	v.mu.Lock()
	defer v.mu.Unlock()
	last := v.row
	for i, r := range v.rows[:v.used+1] {
		if strings.TrimRight(string(r), " ") != "" {
			last = max(last, i)
		}
	}
	for _, r := range v.rows[:last+1] {
		rows = append(rows, strings.TrimRight(strings.ReplaceAll(string(r), "\x00", ""), " "))
	}
	return rows, v.row, v.col
}

// waitFor waits until the screen satisfies ok.
func (v *vt) waitFor(t *testing.T, what string, ok func(rows []string, row, col int) bool) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		rows, row, col := v.screen()
		if ok(rows, row, col) {
			return
		}
		select {
		case <-v.changed:
		case <-deadline:
			t.Fatalf("waiting for %s; screen (cursor %d,%d):\n%s", what, row, col, strings.Join(rows, "\n"))
		}
	}
}

func (v *vt) check(t *testing.T) {
	t.Helper()
	v.mu.Lock()
	defer v.mu.Unlock()
	if len(v.errs) > 0 {
		t.Errorf("terminal saw what it cannot do: %q", v.errs)
	}
}
