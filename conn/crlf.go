package conn

import "io"

// crlfReader turns each LF not already preceded by CR into CRLF (-C).
type crlfReader struct {
	r      io.Reader
	lastCR bool
	in     []byte
	buf    []byte // reused for converted bytes
	out    []byte // converted bytes not yet returned, inside buf
	err    error  // the error that came with them, returned after them
}

func (c *crlfReader) Read(p []byte) (int, error) {
	if len(c.out) == 0 {
		if c.err != nil {
			return 0, c.err
		}
		if c.in == nil {
			c.in = make([]byte, 32<<10)
		}
		n, err := c.r.Read(c.in)
		out := c.buf[:0]
		for _, b := range c.in[:n] {
			if b == '\n' && !c.lastCR {
				out = append(out, '\r')
			}
			out = append(out, b)
			c.lastCR = b == '\r'
		}
		c.buf, c.out, c.err = out, out, err
	}
	n := copy(p, c.out)
	c.out = c.out[n:]
	if len(c.out) == 0 && c.err != nil {
		return n, c.err
	}
	return n, nil
}
