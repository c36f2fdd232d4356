package main

import (
	"fmt"
	"io"
	"time"

	"github.com/keywarden/keywarden/scanner"
)

// progressBar draws blobs, bytes and rate on one stderr line, only once a scan has run for a
// second, so quick pre-commit runs stay silent.
type progressBar struct {
	w     io.Writer
	start time.Time
	drawn bool
}

func newProgressBar(w io.Writer) *progressBar { return &progressBar{w: w, start: time.Now()} }

func (p *progressBar) update(s scanner.Stats) {
	el := time.Since(p.start)
	if el < time.Second {
		return
	}
	rate := float64(s.Bytes) / (1 << 20) / el.Seconds()
	fmt.Fprintf(p.w, "\r\x1b[Kscanning: %d blobs, %.1f MiB, %.1f MiB/s, %d skipped", s.Blobs, float64(s.Bytes)/(1<<20), rate, s.Skipped)
	p.drawn = true
}

func (p *progressBar) clear() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
