package redis

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/logging"

	"github.com/cloakroom/cloakroom/core"
	"github.com/cloakroom/cloakroom/core/backendtest"
)

// jsonRecord logs one message through a clientLogger into a JSON handler
// and returns the decoded record.
func jsonRecord(t *testing.T, format string, args ...any) map[string]any {
	t.Helper()
	var buf bytes.Buffer
	l := &clientLogger{logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{AddSource: true}))}
	l.Printf(context.Background(), format, args...)
	var rec map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
		t.Fatalf("decode %q: %v", buf.String(), err)
	}
	if rec["msg"] != "redis client" || rec["component"] != "go-redis" {
		t.Errorf("record %s: want msg \"redis client\" and component \"go-redis\"", buf.String())
	}
	// The source is go-redis's call of Printf, here jsonRecord's.
	if src, _ := rec["source"].(map[string]any); !strings.HasSuffix(fmt.Sprint(src["file"]), "logs_test.go") {
		t.Errorf("source = %v, want the caller of Printf in logs_test.go", rec["source"])
	}
	return rec
}

func TestClientLogRedacts(t *testing.T) {
	const password = "hunter2"
	id := core.RandomID{}.NewID()
	uuid := core.UUID4ID{}.NewID()
	django := core.DjangoID{}.NewID()
	wrongPass := errors.New("WRONGPASS invalid username-password pair or user is disabled.")
	auth := goredis.NewStatusCmd(context.Background(), "auth", "alice", password)
	auth.SetErr(wrongPass)
	hello := goredis.NewMapStringInterfaceCmd(context.Background(), "hello", 3, "auth", "alice", password, "setname", "app")
	hello.SetErr(wrongPass)
	get := goredis.NewStringCmd(context.Background(), "get", "session:"+id)
	get.SetErr(errors.New("dial tcp 127.0.0.1:1: connect: connection refused"))

	for _, tc := range []struct {
		name   string
		format string
		args   []any
		level  string
		detail string // exact, when not empty
		keep   []string
		hide   []string
	}{{
		name:   "URL password",
		format: "redis: connection pool: failed to dial after %d attempts: %v",
		args:   []any{5, errors.New(`dial "redis://alice:` + password + `@127.0.0.1:6379/0": refused`)},
		level:  "WARN",
		detail: `redis: connection pool: failed to dial after 5 attempts: dial "redis://alice:xxxxx@127.0.0.1:6379/0": refused`,
	}, {
		name:   "URL with a lone name and a password parameter",
		format: "redis: %s and %s",
		args:   []any{"rediss://" + password + "@h:6379", "redis+sentinel://h:1?master_name=m&sentinel_password=" + password + "&db=1"},
		level:  "WARN",
		detail: "redis: rediss://xxxxx@h:6379 and redis+sentinel://h:1?master_name=m&sentinel_password=xxxxx&db=1",
	}, {
		name:   "options printed with %+v",
		format: "redis: options %+v",
		args:   []any{&goredis.FailoverOptions{MasterName: "m", Username: "alice", Password: password, SentinelPassword: password}},
		level:  "WARN",
		keep:   []string{"MasterName:m", "Username:alice", "SentinelPassword:xxxxx", " Password:xxxxx"},
	}, {
		name:   "AUTH",
		format: "redis: re-authentication failed: %v",
		args:   []any{auth},
		level:  "WARN",
		detail: "redis: re-authentication failed: AUTH xxxxx WRONGPASS invalid username-password pair or user is disabled.",
	}, {
		name:   "HELLO with AUTH",
		format: "himport: injected %s failed: %v",
		args:   []any{hello.Name(), hello},
		level:  "WARN",
		keep:   []string{"himport: injected hello failed: hello 3 AUTH xxxxx setname app"},
	}, {
		name:   "session key",
		format: "redis: %v",
		args:   []any{get},
		level:  "WARN",
		detail: "redis: get session:xxxxx: dial tcp 127.0.0.1:1: connect: connection refused",
	}, {
		name:   "other id generators",
		format: "cluster: keys %s %s %s",
		args:   []any{"session:" + uuid, "sess_" + django, "session:" + id},
		level:  "WARN",
		// '_' is in the alphabet: a prefix that ends with it goes too.
		detail: "cluster: keys session:xxxxx xxxxx session:xxxxx",
	}, {
		name:   "new master",
		format: "sentinel: new master=%q addr=%q",
		args:   []any{"cloakroom", "127.0.0.1:6380"},
		level:  "INFO",
		detail: `sentinel: new master="cloakroom" addr="127.0.0.1:6380"`,
	}, {
		name:   "new sentinel",
		format: "sentinel: discovered new sentinel=%q for master=%q",
		args:   []any{"127.0.0.1:26391", "cloakroom"},
		level:  "INFO",
		detail: `sentinel: discovered new sentinel="127.0.0.1:26391" for master="cloakroom"`,
	}, {
		name:   "panic",
		format: "addIdleConn panic: %+v",
		args:   []any{"boom"},
		level:  "ERROR",
		detail: "addIdleConn panic: boom",
	}} {
		t.Run(tc.name, func(t *testing.T) {
			rec := jsonRecord(t, tc.format, tc.args...)
			if rec["level"] != tc.level {
				t.Errorf("level = %v, want %s", rec["level"], tc.level)
			}
			detail, _ := rec["detail"].(string)
			if tc.detail != "" && detail != tc.detail {
				t.Errorf("detail = %q\n          want %q", detail, tc.detail)
			}
			for _, s := range tc.keep {
				if !strings.Contains(detail, s) {
					t.Errorf("detail %q lacks %q", detail, s)
				}
			}
			raw, _ := json.Marshal(rec)
			for _, s := range append([]string{password, id, uuid, django}, tc.hide...) {
				if strings.Contains(string(raw), s) {
					t.Errorf("record %s shows %q", raw, s)
				}
			}
		})
	}
}

// countingArg counts how often it is formatted.
type countingArg struct{ n *int }

func (a countingArg) String() string { *a.n++; return "arg" }

func TestClientLogDisabledLevel(t *testing.T) {
	var buf bytes.Buffer
	var n int
	l := &clientLogger{logger: slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelError}))}
	l.Printf(context.Background(), "sentinel: new master=%q addr=%s", "m", countingArg{&n})
	l.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, countingArg{&n})
	if buf.Len() != 0 || n != 0 {
		t.Errorf("below the handler's level: wrote %q, formatted %d arguments; want nothing", buf.String(), n)
	}
	l.Printf(context.Background(), "queuedNewConn panic: %+v", countingArg{&n})
	if !strings.Contains(buf.String(), `"level":"ERROR"`) || n != 1 {
		t.Errorf("panic: wrote %q, formatted %d arguments; want one ERROR record", buf.String(), n)
	}
}

// recorder is a slog.Handler that keeps every record with its context.
type recorder struct {
	mu      sync.Mutex
	records []slog.Record
	ctxs    []context.Context
}

func (h *recorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *recorder) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *recorder) WithGroup(string) slog.Handler            { return h }
func (h *recorder) Handle(ctx context.Context, r slog.Record) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.records = append(h.records, r.Clone())
	h.ctxs = append(h.ctxs, ctx)
	return nil
}

type ctxKey struct{}

// go-redis dials with a context of its own, so the context given to Printf
// is checked here rather than through a real dial.
func TestClientLogContext(t *testing.T) {
	rec := &recorder{}
	l := &clientLogger{logger: slog.New(rec)}
	l.Printf(context.WithValue(context.Background(), ctxKey{}, "request-7"), "sentinel: new master=%q addr=%q", "m", "h:1")
	//lint:ignore SA1012 go-redis might pass one
	l.Printf(nil, "redis: nil context")
	if len(rec.ctxs) != 2 || rec.ctxs[0].Value(ctxKey{}) != "request-7" || rec.ctxs[1] == nil {
		t.Errorf("handler got contexts %v, want the one given to Printf, then a non-nil one", rec.ctxs)
	}
}

// TestLogToDialFailure sends a real go-redis message through LogTo. It
// changes go-redis's process-wide logger, so it does not run in parallel,
// and puts go-redis's default back when it ends.
func TestLogToDialFailure(t *testing.T) {
	rec := &recorder{}
	LogTo(slog.New(rec))
	t.Cleanup(logging.Enable)

	client := goredis.NewClient(&goredis.Options{
		Addr:          backendtest.ClosedAddr(t),
		Password:      "hunter2",
		DialTimeout:   time.Second,
		DialerRetries: 1,
		MaxRetries:    -1,
	})
	defer client.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := client.Get(ctx, "session:"+core.RandomID{}.NewID()).Err(); err == nil {
		t.Fatal("GET on a closed port succeeded")
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	found := false
	for _, r := range rec.records {
		attrs := map[string]string{}
		r.Attrs(func(a slog.Attr) bool { attrs[a.Key] = a.Value.String(); return true })
		if strings.Contains(attrs["detail"], "hunter2") {
			t.Errorf("record shows the password: %v", attrs)
		}
		if !strings.HasPrefix(attrs["detail"], "redis: connection pool: failed to dial after 1 attempts: ") {
			continue
		}
		found = true
		if r.Level != slog.LevelWarn || r.Message != "redis client" || attrs["component"] != "go-redis" ||
			!strings.Contains(attrs["detail"], "connection refused") {
			t.Errorf("dial failure: level %v, message %q, attrs %v", r.Level, r.Message, attrs)
		}
		if f, _ := runtime.CallersFrames([]uintptr{r.PC}).Next(); !strings.Contains(f.File, "go-redis") {
			t.Errorf("source = %s:%d, want go-redis's pool", f.File, f.Line)
		}
	}
	if !found {
		t.Errorf("no dial failure among %d records", len(rec.records))
	}
}
