package scanner

import (
	"hash"
	"io"
)

// readAhead reads r on a goroutine of its own, a few chunks ahead of the consumer, hashing
// everything it reads into h. Decompressing a layer is the slowest single step of an image scan;
// this puts it on the other core while the consumer parses tar entries and hashes lines.
type readAhead struct {
	full chan []byte
	free chan []byte
	done chan struct{}
	cur  []byte
	buf  []byte // the chunk cur is a slice of, returned to free once read
	err  error  // set before full is closed
}

const (
	readAheadChunk  = 256 << 10
	readAheadChunks = 8
)

// newReadAhead starts reading rc; the goroutine closes rc when it stops, which is at EOF, on an
// error, or once stop is called.
func newReadAhead(rc io.ReadCloser, h hash.Hash) *readAhead {
	a := &readAhead{
		full: make(chan []byte, readAheadChunks),
		free: make(chan []byte, readAheadChunks),
		done: make(chan struct{}),
	}
	for range readAheadChunks {
		a.free <- make([]byte, readAheadChunk)
	}
	go func() {
		defer close(a.full)
		defer rc.Close()
		for {
			var buf []byte
			select {
			case buf = <-a.free:
			case <-a.done:
				return
			}
			n, err := io.ReadFull(rc, buf)
			if n > 0 {
				h.Write(buf[:n])
				select {
				case a.full <- buf[:n]:
				case <-a.done:
					return
				}
			}
			if err != nil {
				if err == io.ErrUnexpectedEOF {
					err = io.EOF
				}
				a.err = err
				return
			}
		}
	}()
	return a
}

// Read implements io.Reader.
func (a *readAhead) Read(p []byte) (int, error) {
	if len(a.cur) == 0 {
		if a.buf != nil {
			a.free <- a.buf[:cap(a.buf)]
			a.buf = nil
		}
		b, ok := <-a.full
		if !ok {
			if a.err == nil {
				return 0, io.ErrClosedPipe // stopped
			}
			return 0, a.err
		}
		a.cur, a.buf = b, b
	}
	n := copy(p, a.cur)
	a.cur = a.cur[n:]
	return n, nil
}

// stop ends the reading early; the reader must not be used afterwards.
func (a *readAhead) stop() {
	select {
	case <-a.done:
	default:
		close(a.done)
	}
}
