package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// progress is the line on stderr that says how far a long scan has got:
// shown once the scan has run for a second, redrawn at most once a second,
// and erased when the scan ends or before anything else is written to the
// terminal. A nil *progress shows nothing.
type progress struct {
	w     io.Writer
	now   func() time.Time
	start time.Time
	last  time.Time // when the line was last drawn
	width int       // of the line on screen; 0 when none is
}

// newProgress returns a progress line on w, or nil when w is not a
// terminal: a log or a pipe gets no carriage returns.
func newProgress(w io.Writer) *progress {
	f, ok := w.(*os.File)
	if !ok {
		return nil
	}
	if info, err := f.Stat(); err != nil || info.Mode()&os.ModeCharDevice == 0 {
		return nil
	}
	return &progress{w: w, now: time.Now}
}

// begin starts timing a scan.
func (p *progress) begin() {
	if p == nil {
		return
	}
	p.start, p.last = p.now(), time.Time{}
}

// tick reports that n sessions have been scanned.
func (p *progress) tick(n int) {
	if p == nil {
		return
	}
	t := p.now()
	if t.Sub(p.start) < time.Second || t.Sub(p.last) < time.Second {
		return
	}
	p.last = t
	line := fmt.Sprintf("scanned %d sessions…", n)
	width := len([]rune(line))
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(p.width-width, 0)))
	p.width = width
}

// clear erases the line, if one is shown.
func (p *progress) clear() {
	if p == nil || p.width == 0 {
		return
	}
	fmt.Fprintf(p.w, "\r%s\r", strings.Repeat(" ", p.width))
	p.width = 0
}
