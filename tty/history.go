package tty

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// DefaultHistorySize is how many lines the history keeps when
// LineOptions.HistorySize is zero.
const DefaultHistorySize = 1000

// maxHistoryRead bounds how much of a history file is read at start: its
// end, which holds the newest lines.
const maxHistoryRead = 4 << 20

// history is the lines sent so far, oldest first, bounded, and kept in a
// file when there is one.
type history struct {
	max     int
	entries [][]byte
	file    *os.File // nil: in memory only
	path    string
	err     error // the first failure to write the file
}

// historyError names the history file in a failure to use it.
func historyError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return fmt.Errorf("history file %s: %s: %w", path, pe.Op, pe.Err)
	}
	return fmt.Errorf("history file %s: %w", path, err)
}

// openHistory loads the history kept in path, creating the file (mode
// 0600) if there is none, and trims a file holding more than max lines
// down to the newest max. An empty path keeps history in memory.
func openHistory(path string, max int) (*history, error) {
	h := &history{max: max, path: path}
	if path == "" {
		return h, nil
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, historyError(path, err)
	}
	data, err := readTail(f)
	if err != nil {
		f.Close()
		return nil, historyError(path, err)
	}
	lines := bytes.Split(data, []byte("\n"))
	for _, l := range lines {
		if len(l) > 0 {
			h.entries = append(h.entries, l)
		}
	}
	if len(h.entries) > max {
		h.entries = h.entries[len(h.entries)-max:]
		// Rewritten in place, so that a link or the file's mode stays.
		var keep []byte
		for _, l := range h.entries {
			keep = append(append(keep, l...), '\n')
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, historyError(path, err)
		}
		if _, err := f.Write(keep); err != nil {
			f.Close()
			return nil, historyError(path, err)
		}
	}
	h.file = f
	return h, nil
}

// readTail reads the end of f, at most maxHistoryRead bytes, starting on
// a line of its own.
func readTail(f *os.File) ([]byte, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return io.ReadAll(io.LimitReader(f, maxHistoryRead))
	}
	off := max(st.Size()-maxHistoryRead, 0)
	data := make([]byte, st.Size()-off)
	n, err := f.ReadAt(data, off)
	if err != nil && err != io.EOF {
		return nil, err
	}
	data = data[:n]
	if off > 0 {
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			data = data[i+1:] // the first line was cut
		}
	}
	return data, nil
}

// add records line (without its line end) unless it is empty or the
// same as the newest entry, and appends it to the file.
func (h *history) add(line []byte) {
	if len(line) == 0 || h.max <= 0 {
		return
	}
	if n := len(h.entries); n > 0 && bytes.Equal(h.entries[n-1], line) {
		return
	}
	entry := bytes.Clone(line)
	if len(h.entries) == h.max {
		copy(h.entries, h.entries[1:])
		h.entries = h.entries[:h.max-1]
	}
	h.entries = append(h.entries, entry)
	if h.file != nil && h.err == nil {
		if _, err := h.file.Write(append(entry, '\n')); err != nil {
			h.err = historyError(h.path, err)
		}
	}
}

// len is the number of entries.
func (h *history) len() int { return len(h.entries) }

// at returns the entry i steps back: 0 is the newest.
func (h *history) at(i int) []byte { return h.entries[len(h.entries)-1-i] }

// close closes the file and reports the first failure to write it.
func (h *history) close() error {
	if h.file == nil {
		return h.err
	}
	err := h.file.Close()
	h.file = nil
	if h.err != nil {
		return h.err
	}
	if err != nil {
		return historyError(h.path, err)
	}
	return nil
}
