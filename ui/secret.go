package ui

import (
	"errors"
	"io"
)

// ErrNoTerminal is PromptSecret's error when there is no terminal to ask
// on: no controlling terminal, or a stderr that is not one (a script's).
var ErrNoTerminal = errors.New("no terminal to ask for a password on")

// maxSecret bounds a line read by PromptSecret.
const maxSecret = 4096

// readSecretLine reads up to a line end (or end of file) from r, a byte
// at a time so nothing past the line is consumed, and returns it without
// its CR or LF.
func readSecretLine(r io.Reader) (string, error) {
	var line []byte
	var b [1]byte
	for {
		n, err := r.Read(b[:])
		if n == 1 {
			if b[0] == '\n' {
				break
			}
			if b[0] != '\r' {
				line = append(line, b[0])
			}
			if len(line) > maxSecret {
				return "", errors.New("password longer than 4096 bytes")
			}
			continue
		}
		if err == io.EOF {
			if len(line) == 0 {
				return "", errors.New("no password typed (end of input)")
			}
			break
		}
		if err != nil {
			return "", err
		}
	}
	return string(line), nil
}
