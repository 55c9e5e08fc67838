package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// demoPackage is built by BuildDemo; the go.work at the repository's root
// resolves it from bench/.
const demoPackage = "github.com/cloakroom/cloakroom/examples/demo"

// BuildDemo builds the demo into dir and returns the binary's path. It is
// built without -race even under go test -race: the soak measures the
// demo, not the race detector's memory.
func BuildDemo(ctx context.Context, dir string) (string, error) {
	bin := filepath.Join(dir, "demo")
	cmd := exec.CommandContext(ctx, "go", "build", "-o", bin, demoPackage)
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build %s: %w\n%s", demoPackage, err, out)
	}
	return bin, nil
}

// demo is a demo process the soak started.
type demo struct {
	cmd    *exec.Cmd
	base   string // http://127.0.0.1:port
	waited chan struct{}
	log    *tail // the demo's stderr after its first line
	http   *http.Client
}

// startDemo runs bin with backend over dsn on a port of the kernel's
// choosing, and returns once it answers. The demo logs the address it
// listens on; reading it there leaves no window for another process to
// take a port picked in advance.
func startDemo(ctx context.Context, bin, backend, dsn string) (*demo, error) {
	args := []string{"-addr", "127.0.0.1:0", "-backend", backend, "-metrics",
		// Every client comes from 127.0.0.1: the demo's budget of new
		// sessions per client address would refuse most of the logins.
		"-new-sessions-per-client", "0",
		// Signed ids, as a deployment has; a fresh secret per run.
		"-secret", rand.Text() + rand.Text()}
	if dsn != "" {
		args = append(args, "-dsn", dsn)
	}
	cmd := exec.Command(bin, args...)
	// A group of its own: Ctrl-C interrupts the soak, which then samples
	// the demo a last time and stops it, rather than both at once.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	d := &demo{cmd: cmd, waited: make(chan struct{}), log: &tail{max: 64 << 10},
		http: &http.Client{Timeout: 10 * time.Second}}
	go func() { _ = cmd.Wait(); close(d.waited) }()
	addr := make(chan string, 1)
	go d.readLog(stderr, addr)
	select {
	case d.base = <-addr:
	case <-d.waited:
		return nil, fmt.Errorf("the demo exited: %s", d.log)
	case <-time.After(30 * time.Second):
		d.stop()
		return nil, fmt.Errorf("the demo did not say where it listens within 30s: %s", d.log)
	case <-ctx.Done():
		d.stop()
		return nil, ctx.Err()
	}
	return d, nil
}

// readLog passes the URL of the demo's "demo listening" line to addr, and
// keeps the tail of the rest for the report.
func (d *demo) readLog(r io.Reader, addr chan<- string) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		d.log.Write([]byte(line + "\n"))
		if _, rest, ok := strings.Cut(line, "url=http://"); ok && strings.Contains(line, "demo listening") {
			host, _, _ := strings.Cut(rest, " ")
			select {
			case addr <- "http://" + host:
			default:
			}
		}
	}
	_, _ = io.Copy(io.Discard, r)
}

// stop interrupts the demo, as Ctrl-C would, and kills it if it has not
// exited within 10 s.
func (d *demo) stop() {
	_ = d.cmd.Process.Signal(os.Interrupt)
	select {
	case <-d.waited:
	case <-time.After(10 * time.Second):
		_ = d.cmd.Process.Kill()
		<-d.waited
	}
}

// Sample is the demo's state at one moment.
type Sample struct {
	At         time.Time
	RSS        int64 // bytes, VmRSS of /proc/PID/status
	Goroutines int64 // go_goroutines of the demo's /metrics
	Err        error // why RSS or goroutines are missing
	// Count is the store's number of live sessions, -1 when the store
	// cannot be asked (memory lives inside the demo); CountErr why not.
	Count    int
	CountErr error
}

// sample reads the demo's RSS and goroutine count.
func (d *demo) sample(ctx context.Context) Sample {
	s := Sample{At: time.Now(), Count: -1}
	var errRSS, errG error
	s.RSS, errRSS = rss(d.cmd.Process.Pid)
	s.Goroutines, errG = d.goroutines(ctx)
	s.Err = errors.Join(errRSS, errG)
	return s
}

// idleSample samples the demo once its goroutine count has settled: two
// readings 200 ms apart agree, or 3 s have passed. The server's goroutines
// for connections the clients just closed take a moment to exit.
func (d *demo) idleSample(ctx context.Context) Sample {
	s := d.sample(ctx)
	for deadline := time.Now().Add(3 * time.Second); time.Now().Before(deadline); {
		time.Sleep(200 * time.Millisecond)
		next := d.sample(ctx)
		if next.Err != nil || next.Goroutines == s.Goroutines {
			return next
		}
		s = next
	}
	return s
}

// rss reads the resident set of process pid, in bytes.
func rss(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no VmRSS in /proc/PID/status")
}

// goroutines reads go_goroutines from the demo's Prometheus metrics.
func (d *demo) goroutines(ctx context.Context) (int64, error) {
	n, err := d.metric(ctx, "go_goroutines")
	return int64(n), err
}

// metric reads the value of a metric without labels from the demo's
// Prometheus metrics.
func (d *demo) metric(ctx context.Context, name string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, d.base+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := d.http.Do(req)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), name+" "); ok {
			return strconv.ParseFloat(v, 64)
		}
	}
	return 0, fmt.Errorf("no %s in /metrics", name)
}

// tail keeps the first line written and the last max bytes after it: the
// demo's start and its latest complaints, whatever it logs in between.
type tail struct {
	mu    sync.Mutex
	max   int
	first []byte
	buf   []byte
}

func (t *tail) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.first == nil {
		t.first = bytes.Clone(p)
		return len(p), nil
	}
	t.buf = append(t.buf, p...)
	if len(t.buf) > t.max {
		t.buf = t.buf[len(t.buf)-t.max:]
	}
	return len(p), nil
}

// last returns the first line and the last n lines kept.
func (t *tail) last(n int) string {
	t.mu.Lock()
	defer t.mu.Unlock()
	lines := strings.SplitAfter(string(t.buf), "\n")
	if len(lines) > n+1 {
		lines = lines[len(lines)-n-1:]
	}
	return string(t.first) + strings.Join(lines, "")
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.first) + string(t.buf)
}
