package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"time"
)

// The progress line shows after a second, is redrawn at most once a
// second, and is erased at the end.
func TestProgress(t *testing.T) {
	t.Parallel()
	var buf bytes.Buffer
	now := time.Unix(1000, 0)
	p := &progress{w: &buf, now: func() time.Time { return now }}
	p.begin()
	for n := 1; n <= 10; n++ {
		p.tick(n)
		now = now.Add(300 * time.Millisecond)
	}
	// ticks at 0, 0.3, ..., 2.7 s: drawn at 1.2 s (n=5) and 2.4 s (n=9).
	want := "\rscanned 5 sessions…\rscanned 9 sessions…"
	if buf.String() != want {
		t.Fatalf("progress wrote %q, want %q", buf.String(), want)
	}
	buf.Reset()
	p.clear()
	if got := buf.String(); got != "\r"+strings.Repeat(" ", len([]rune("scanned 9 sessions…")))+"\r" {
		t.Errorf("clear wrote %q", got)
	}
	buf.Reset()
	p.clear()
	var none *progress
	none.begin()
	none.tick(1)
	none.clear()
	if buf.Len() != 0 {
		t.Errorf("a second clear wrote %q", buf.String())
	}
}

// Only a terminal gets a progress line.
func TestProgressOnlyOnTerminals(t *testing.T) {
	t.Parallel()
	if newProgress(&bytes.Buffer{}) != nil {
		t.Error("a progress line on a buffer")
	}
	f, err := os.CreateTemp(t.TempDir(), "stderr")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if newProgress(f) != nil {
		t.Error("a progress line on a file")
	}
}
