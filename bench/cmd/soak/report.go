package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"sync/atomic"
	"time"
)

// Window is one stretch of the run: its latencies, errors, and the demo's
// RSS and goroutines sampled every -sample.
type Window struct {
	Start, End time.Time
	lat        histogram
	errs       atomic.Int64
	Samples    []Sample
	// Count is the store's session count at the window's end, -1 when it
	// cannot be counted. Logins and logouts are in flight when it is taken,
	// so it may be off by up to the number of clients; only the count after
	// the run is checked.
	Count    int
	CountErr error
}

func (w *Window) Requests() int64 { return w.lat.count() }

func (w *Window) Throughput() float64 { return perSecond(w.Requests(), w.End.Sub(w.Start)) }

// perSecond returns n over d, 0 for a run interrupted before it measured.
func perSecond(n int64, d time.Duration) float64 {
	if d < time.Second {
		return 0
	}
	return float64(n) / d.Seconds()
}

// medians returns the median RSS and goroutine count of w's samples; the
// median, not the mean or the last, so that one sample taken during a
// garbage collection or a burst of connections does not decide the run.
func (w *Window) medians() (rss, goroutines int64) {
	var r, g []int64
	for _, s := range w.Samples {
		if s.Err == nil {
			r, g = append(r, s.RSS), append(g, s.Goroutines)
		}
	}
	return median(r), median(g)
}

func median(v []int64) int64 {
	if len(v) == 0 {
		return 0
	}
	slices.Sort(v)
	return v[len(v)/2]
}

// merge folds o, which follows w, into w.
func (w *Window) merge(o *Window) {
	w.lat.add(&o.lat)
	w.errs.Add(o.errs.Load())
	w.Samples = append(w.Samples, o.Samples...)
	w.End, w.Count, w.CountErr = o.End, o.Count, o.CountErr
}

// line describes w, the window named name of a run begun at start.
func (w *Window) line(name string, start time.Time) string {
	rss, g := w.medians()
	return fmt.Sprintf("%s [%v-%v]: %.0f req/s, p50 %v p99 %v p999 %v, %d errors, RSS %s, goroutines %d, sessions %s",
		name, w.Start.Sub(start).Round(time.Second), w.End.Sub(start).Round(time.Second), w.Throughput(),
		round(w.lat.quantile(0.5)), round(w.lat.quantile(0.99)), round(w.lat.quantile(0.999)),
		w.errs.Load(), mib(rss), g, countText(w.Count, w.CountErr))
}

// monitor cuts the run into windows until ctx ends, sampling the demo in
// each and printing each as it closes. Its requests use a context that the
// end of the run does not cancel: the last samples must not fail for it.
func monitor(ctx context.Context, cfg Config, l *load, d *demo, st store, out io.Writer) []*Window {
	bg := context.WithoutCancel(ctx)
	start := time.Now()
	w := &Window{Start: start, Count: -1}
	l.window.Store(w)
	windows := []*Window{w}
	samples, cuts := time.NewTicker(cfg.Sample), time.NewTicker(cfg.Window)
	defer samples.Stop()
	defer cuts.Stop()
	for {
		select {
		case <-ctx.Done():
			w.End = time.Now()
			return windows
		case <-samples.C:
			w.Samples = append(w.Samples, d.sample(bg))
		case now := <-cuts.C:
			w.End = now
			w.Count, w.CountErr = countOf(bg, st)
			fmt.Fprintln(out, w.line(fmt.Sprint("window ", len(windows)), start))
			w = &Window{Start: now, Count: -1}
			l.window.Store(w)
			windows = append(windows, w)
		}
	}
}

// Report is what a run measured.
type Report struct {
	Backend    string
	Limits     Limits
	Window     time.Duration
	Windows    []*Window
	Start, End Sample // after the sessions were created; after the load stopped
	Expected   int    // sessions the clients held at the end
	Duration   time.Duration
	Total      *histogram
	Ops        map[string]int64
	Errors     map[string]int64  // by kind
	Examples   map[string]string // the first message of each kind
}

// finish takes the load's totals, and folds a last window shorter than
// half a window into the one before: the few requests of a tail, cut
// where the run happened to end, would make a poor last window.
func (r *Report) finish(l *load) {
	r.Total = &l.total
	r.Ops = make(map[string]int64)
	for o := range nOps {
		r.Ops[o.String()] = l.counts[o].Load()
	}
	r.Errors, r.Examples = maps.Clone(l.errs), maps.Clone(l.examples)
	for _, w := range r.Windows {
		for _, s := range w.Samples {
			if s.Err != nil {
				r.Errors["sample"]++
				r.Examples["sample"] = s.Err.Error()
			}
		}
	}
	ws := r.Windows
	r.Duration = ws[len(ws)-1].End.Sub(ws[0].Start)
	if n := len(ws); n >= 2 && ws[n-1].End.Sub(ws[n-1].Start) < l.cfg.Window/2 {
		ws[n-2].merge(ws[n-1])
		r.Windows = ws[:n-1]
	}
	r.Window = l.cfg.Window
}

// growth is one quantity compared between the first window and the last.
type growth struct {
	name        string
	first, last int64
	slack       int64 // growth ignored whatever its ratio
	checked     bool  // fails the run when too large
	format      func(int64) string
}

func (r *Report) growths() []growth {
	first, last := r.Windows[0], r.Windows[len(r.Windows)-1]
	rss0, g0 := first.medians()
	rss1, g1 := last.medians()
	dur := func(v int64) string { return round(time.Duration(v)).String() }
	return []growth{
		{"median RSS", rss0, rss1, r.Limits.RSSSlack, true, mib},
		{"median goroutines", g0, g1, r.Limits.GoroutineSlack, true, func(v int64) string { return fmt.Sprint(v) }},
		{"p99 latency", int64(first.lat.quantile(0.99)), int64(last.lat.quantile(0.99)), 0, r.Limits.Latency, dur},
	}
}

// tooMuch reports whether g grew past limit and its slack.
func (g growth) tooMuch(limit float64) bool {
	return g.last-g.first > g.slack && float64(g.last) > float64(g.first)*(1+limit)
}

func (g growth) String() string {
	pct := 0.0
	if g.first > 0 {
		pct = 100 * float64(g.last-g.first) / float64(g.first)
	}
	return fmt.Sprintf("%s %s -> %s (%+.1f%%)", g.name, g.format(g.first), g.format(g.last), pct)
}

// ErrorCount is the number of failed or wrong answers and failed samples.
func (r *Report) ErrorCount() int64 {
	var n int64
	for _, c := range r.Errors {
		n += c
	}
	return n
}

// CountTolerance is how far the store's final count may be from the
// expected: one per failed login or logout, whose effect is unknown. Any
// such failure fails the run anyway.
func (r *Report) CountTolerance() int {
	n := 0
	for kind, c := range r.Errors {
		if strings.HasPrefix(kind, "login:") || strings.HasPrefix(kind, "logout:") {
			n += int(c)
		}
	}
	return n
}

// idleSlack is how many more goroutines the idle demo may have after the
// run than before it: pools may keep a connection or a worker more, but
// every goroutine a request started should have ended.
const idleSlack = 10

// Failures lists why the run failed; none when it passed.
func (r *Report) Failures() []string {
	var f []string
	if n := r.ErrorCount(); n > 0 {
		f = append(f, fmt.Sprintf("%d errors: %v", n, r.Errors))
	}
	for _, s := range []Sample{r.Start, r.End} {
		if s.Err != nil {
			f = append(f, "sampling the demo: "+s.Err.Error())
		}
		if s.CountErr != nil {
			f = append(f, "counting the store's sessions: "+s.CountErr.Error())
		}
	}
	if r.End.Goroutines > r.Start.Goroutines+idleSlack {
		f = append(f, fmt.Sprintf("%d goroutines idle after the run, %d before it", r.End.Goroutines, r.Start.Goroutines))
	}
	if c := r.End.Count; c >= 0 && abs(c-r.Expected) > r.CountTolerance() {
		f = append(f, fmt.Sprintf("the store holds %d sessions, the clients %d", c, r.Expected))
	}
	if len(r.Windows) < 2 {
		return append(f, fmt.Sprintf("%d window: the growth rule needs the run to last at least two windows", len(r.Windows)))
	}
	for _, g := range r.growths() {
		if g.checked && g.tooMuch(r.Limits.Growth) {
			f = append(f, fmt.Sprintf("%v: more than %.0f%% from the first window to the last", g, 100*r.Limits.Growth))
		}
	}
	return f
}

// Print writes the summary.
func (r *Report) Print(out io.Writer) {
	var n int64
	for _, c := range r.Ops {
		n += c
	}
	fmt.Fprintf(out, "summary (%s backend, %v, %d windows of %v):\n", r.Backend, r.Duration.Round(time.Second), len(r.Windows), r.Window)
	fmt.Fprintf(out, "  requests   %d, %.0f/s (read %d, incr %d, put %d, logout %d, login %d)\n",
		n, perSecond(n, r.Duration), r.Ops["read"], r.Ops["incr"], r.Ops["put"], r.Ops["logout"], r.Ops["login"])
	fmt.Fprintf(out, "  latency    p50 %v, p99 %v, p999 %v\n",
		round(r.Total.quantile(0.5)), round(r.Total.quantile(0.99)), round(r.Total.quantile(0.999)))
	fmt.Fprintf(out, "  errors     %d\n", r.ErrorCount())
	for _, kind := range slices.Sorted(maps.Keys(r.Errors)) {
		fmt.Fprintf(out, "    %s: %d (first: %s)\n", kind, r.Errors[kind], r.Examples[kind])
	}
	fmt.Fprintf(out, "  demo RSS   %s at the start, %s at the end\n", mib(r.Start.RSS), mib(r.End.RSS))
	fmt.Fprintf(out, "  goroutines %d at the start, %d at the end (idle: no client connected)\n", r.Start.Goroutines, r.End.Goroutines)
	fmt.Fprintf(out, "  sessions   %s in the store at the start, %s at the end, %d expected\n",
		countText(r.Start.Count, r.Start.CountErr), countText(r.End.Count, r.End.CountErr), r.Expected)
	if len(r.Windows) >= 2 {
		for _, g := range r.growths() {
			checked := ""
			switch {
			case !g.checked:
				checked = " (reported, not checked)"
			case g.slack > 0:
				checked = " (growth up to " + g.format(g.slack) + " ignored)"
			}
			fmt.Fprintf(out, "  growth     %v%s\n", g, checked)
		}
	}
}

func countText(n int, err error) string {
	switch {
	case err != nil:
		return "error (" + err.Error() + ")"
	case n < 0:
		return "n/a"
	}
	return fmt.Sprint(n)
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }

// round keeps three significant figures or so of a latency.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func abs(n int) int { return max(n, -n) }
