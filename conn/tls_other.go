//go:build !unix

package conn

// canReadNoWait says that readNoWait does not work here: a TLS conn's Read
// returns one record at a time, and copies do not wait before reading.
const canReadNoWait = false

func readNoWait(s rawSocket, p []byte) (int, error) { return 0, errWouldBlock }
