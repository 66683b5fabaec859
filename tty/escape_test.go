package tty

import (
	"bytes"
	"errors"
	"io"
	"testing"
)

// chunkReader returns its chunks one per Read.
type chunkReader struct{ chunks [][]byte }

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.chunks) == 0 {
		return 0, io.EOF
	}
	n := copy(p, c.chunks[0])
	if c.chunks[0] = c.chunks[0][n:]; len(c.chunks[0]) == 0 {
		c.chunks = c.chunks[1:]
	}
	return n, nil
}

// readFiltered reads f to its end with reads of size bufSize.
func readFiltered(f *EscapeFilter, bufSize int) ([]byte, error) {
	var out []byte
	buf := make([]byte, bufSize)
	for {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
}

func TestEscapeFilter(t *testing.T) {
	for _, c := range []struct {
		name   string
		chunks []string
		want   string
		err    error
		helps  int
	}{
		{"plain", []string{"ls -l\r", "\x03\x04"}, "ls -l\r\x03\x04", nil, 0},
		{"disconnect at the start", []string{"~.rest"}, "", ErrDisconnect, 0},
		{"disconnect after Enter", []string{"echo hi\r~.", "never"}, "echo hi\r", ErrDisconnect, 0},
		{"disconnect after LF", []string{"a\n~."}, "a\n", ErrDisconnect, 0},
		{"split across reads", []string{"x\r", "~", ".", "y"}, "x\r", ErrDisconnect, 0},
		{"not at line start", []string{"a~.b"}, "a~.b", nil, 0},
		{"double tilde", []string{"~~.x"}, "~.x", nil, 0},
		{"tilde then other", []string{"~x~.", "\r~a"}, "~x~.\r~a", nil, 0},
		{"tilde then Enter keeps line start", []string{"~\r~."}, "~\r", ErrDisconnect, 0},
		{"help", []string{"~?~."}, "", ErrDisconnect, 1},
		{"help then text", []string{"\r~?ab"}, "\rab", nil, 1},
		{"held at the end", []string{"ok\r~"}, "ok\r~", nil, 0},
		{"tilde in the middle of a line", []string{"cd ~/x\r"}, "cd ~/x\r", nil, 0},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, size := range []int{1, 2, 64} {
				var chunks [][]byte
				for _, s := range c.chunks {
					chunks = append(chunks, []byte(s))
				}
				var help bytes.Buffer
				f := NewEscapeFilter(&chunkReader{chunks: chunks}, &help)
				got, err := readFiltered(f, size)
				if string(got) != c.want || !errors.Is(err, c.err) && (err != nil || c.err != nil) {
					t.Errorf("reads of %d: got %q, %v; want %q, %v", size, got, err, c.want, c.err)
				}
				if help.String() != string(bytes.Repeat([]byte(EscapeHelp), c.helps)) {
					t.Errorf("reads of %d: help %q", size, help.String())
				}
				if err == ErrDisconnect {
					if n, err2 := f.Read(make([]byte, 8)); n != 0 || err2 != ErrDisconnect {
						t.Errorf("after ~.: %d, %v", n, err2)
					}
				}
			}
		})
	}
}

// escapeModel is the escape rules applied to a whole input, byte by byte,
// written as plainly as possible.
func escapeModel(in []byte) (out []byte, disconnect bool, helps int) {
	start := true
	for i := 0; i < len(in); i++ {
		b := in[i]
		if start && b == '~' {
			if i+1 == len(in) {
				return append(out, '~'), false, helps
			}
			i++
			switch in[i] {
			case '.':
				return out, true, helps
			case '?':
				helps++
				continue
			case '~':
				out = append(out, '~')
				start = false
				continue
			}
			out = append(out, '~')
			b = in[i]
		}
		out = append(out, b)
		start = b == '\r' || b == '\n'
	}
	return out, false, helps
}

func FuzzEscapeFilter(f *testing.F) {
	for _, s := range []string{"~.", "a\r~.b", "~~~", "~?\n~x", "\r\r~\r~.", "x~.", "~"} {
		f.Add([]byte(s), uint8(3), uint8(1))
	}
	f.Fuzz(func(t *testing.T, in []byte, chunk, bufSize uint8) {
		want, disconnect, helps := escapeModel(in)
		var chunks [][]byte
		step := int(chunk%9) + 1
		for rest := in; len(rest) > 0; {
			n := min(step, len(rest))
			chunks = append(chunks, rest[:n])
			rest = rest[n:]
		}
		var help bytes.Buffer
		got, err := readFiltered(NewEscapeFilter(&chunkReader{chunks: chunks}, &help), int(bufSize%5)+1)
		if (err == ErrDisconnect) != disconnect || err != nil && err != ErrDisconnect {
			t.Fatalf("%q: err %v, want disconnect %v", in, err, disconnect)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("%q: got %q, want %q", in, got, want)
		}
		if help.Len() != helps*len(EscapeHelp) {
			t.Fatalf("%q: %d bytes of help, want %d lists", in, help.Len(), helps)
		}
		// Nothing but escapes is lost or reordered: what came out is in
		// order within what went in.
		j := 0
		for _, b := range got {
			for j < len(in) && in[j] != b {
				j++
			}
			if j == len(in) {
				t.Fatalf("%q: output %q is not a subsequence of the input", in, got)
			}
			j++
		}
	})
}
