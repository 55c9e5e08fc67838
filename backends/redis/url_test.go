package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

func TestNewFromURLForms(t *testing.T) {
	for _, tc := range []struct {
		url  string
		want string // the client's type
	}{
		{"redis://127.0.0.1:6379/0", "*redis.Client"},
		{"redis://:secret@127.0.0.1:6379/2?dial_timeout=1s", "*redis.Client"},
		{"rediss://127.0.0.1:6380", "*redis.Client"},
		{"unix:///run/redis.sock?db=1", "*redis.Client"},
		{"redis://127.0.0.1:7001,127.0.0.1:7002", "*redis.ClusterClient"},
		{"redis+cluster://127.0.0.1:7001", "*redis.ClusterClient"},
		{"rediss+cluster://u:p@127.0.0.1:7001,127.0.0.1:7002?pool_size=5", "*redis.ClusterClient"},
		{"redis+sentinel://127.0.0.1:26390,127.0.0.1:26391/1?master_name=m&password=x", "*redis.Client"},
	} {
		store, err := NewFromURL(tc.url)
		if err != nil {
			t.Errorf("NewFromURL(%q): %v", tc.url, err)
			continue
		}
		if got := typeName(store.Client()); got != tc.want {
			t.Errorf("NewFromURL(%q) built %s, want %s", tc.url, got, tc.want)
		}
		if err := store.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	}
}

func typeName(v any) string {
	switch v.(type) {
	case *goredis.ClusterClient:
		return "*redis.ClusterClient"
	case *goredis.Client:
		return "*redis.Client"
	default:
		return "other"
	}
}

func TestNewFromURLOptions(t *testing.T) {
	store, err := NewFromURL("redis://:pw@127.0.0.1:6390/3?dial_timeout=250ms")
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	opts := store.Client().(*goredis.Client).Options()
	if opts.Addr != "127.0.0.1:6390" || opts.Password != "pw" || opts.DB != 3 ||
		opts.DialTimeout != 250*time.Millisecond || !opts.ContextTimeoutEnabled {
		t.Fatalf("options = addr %s password %q db %d dial %v ctx-timeouts %v",
			opts.Addr, opts.Password, opts.DB, opts.DialTimeout, opts.ContextTimeoutEnabled)
	}

	off, err := NewFromURL("redis://127.0.0.1:6390?context_timeout_enabled=false")
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if off.Client().(*goredis.Client).Options().ContextTimeoutEnabled {
		t.Fatal("context_timeout_enabled=false was overridden")
	}
}

func TestNewFromURLErrors(t *testing.T) {
	for _, raw := range []string{
		"",
		"memcached://127.0.0.1:11211",
		"http://127.0.0.1:6379",
		"redis+sentinel://127.0.0.1:26390",        // no master_name
		"redis://127.0.0.1:6379/notanumber",       // bad db
		"redis://127.0.0.1:6379?no_such_option=1", // unknown option
		"redis://:hunter2@127.0.0.1:6379/%zz",     // unparsable
		"redis+ring://127.0.0.1:6379",
	} {
		store, err := NewFromURL(raw)
		if err == nil {
			_ = store.Close()
			t.Errorf("NewFromURL(%q) succeeded", raw)
			continue
		}
		if !strings.HasPrefix(err.Error(), "redis: ") {
			t.Errorf("NewFromURL(%q) error %q lacks the backend name", raw, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewFromURL(%q) error %q shows the password", raw, err)
		}
	}
}

// TestNewFromURLTopologies runs one round trip through every URL form
// against the test servers.
func TestNewFromURLTopologies(t *testing.T) {
	for name, raw := range map[string]string{
		"standalone": "redis://" + standaloneAddr() + "/0",
		"cluster":    "redis+cluster://" + strings.Join(clusterAddrs(), ","),
		"sentinel":   "redis+sentinel://" + strings.Join(sentinelAddrs(), ",") + "?master_name=" + sentinelMaster(),
	} {
		t.Run(name, func(t *testing.T) {
			store, err := NewFromURL(raw)
			if err != nil {
				t.Fatal(err)
			}
			reachable(t, name+" redis at "+raw, store.Client())
			defer store.Close()
			ctx := context.Background()
			key := testKey(t, store.Client(), "url")
			if err := store.Set(ctx, key, []byte("via url"), time.Minute); err != nil {
				t.Fatal(err)
			}
			if got, err := store.Get(ctx, key); err != nil || string(got) != "via url" {
				t.Fatalf("Get = %q, %v", got, err)
			}
			if err := store.Close(); err != nil {
				t.Fatal(err)
			}
			if err := store.Client().Ping(ctx).Err(); err == nil {
				t.Fatal("Close left the client it built open")
			}
		})
	}
}
