package redis

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

// TestClientFromURLForms checks the client each URL form builds, without a
// server: Open's parsing step alone.
func TestClientFromURLForms(t *testing.T) {
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
		client, err := clientFromURL(tc.url, DefaultTimeout)
		if err != nil {
			t.Errorf("clientFromURL(%q): %v", tc.url, err)
			continue
		}
		if got := typeName(client); got != tc.want {
			t.Errorf("clientFromURL(%q) built %s, want %s", tc.url, got, tc.want)
		}
		if err := client.Close(); err != nil {
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

func TestClientFromURLOptions(t *testing.T) {
	client, err := clientFromURL("redis://:pw@127.0.0.1:6390/3?dial_timeout=250ms", DefaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	opts := client.(*goredis.Client).Options()
	if opts.Addr != "127.0.0.1:6390" || opts.Password != "pw" || opts.DB != 3 ||
		opts.DialTimeout != 250*time.Millisecond || !opts.ContextTimeoutEnabled {
		t.Fatalf("options = addr %s password %q db %d dial %v ctx-timeouts %v",
			opts.Addr, opts.Password, opts.DB, opts.DialTimeout, opts.ContextTimeoutEnabled)
	}

	off, err := clientFromURL("redis://127.0.0.1:6390?context_timeout_enabled=false", DefaultTimeout)
	if err != nil {
		t.Fatal(err)
	}
	defer off.Close()
	if off.(*goredis.Client).Options().ContextTimeoutEnabled {
		t.Fatal("context_timeout_enabled=false was overridden")
	}
}

// TestOpenErrors checks URLs that Open refuses before dialling anything.
func TestOpenErrors(t *testing.T) {
	for _, raw := range []string{
		"",
		"memcached://127.0.0.1:11211",
		"http://127.0.0.1:6379",
		"redis+sentinel://127.0.0.1:26390", // no master_name
		"redis+sentinel://127.0.0.1:26390?password=hunter2",        // no master_name, password in the query
		"redis://:hunter2@127.0.0.1:6379/notanumber",               // bad db
		"redis://127.0.0.1:6379?no_such_option=1&password=hunter2", // unknown option
		"redis://:hunter2@127.0.0.1:6379/%zz",                      // unparsable
		"redis+ring://127.0.0.1:6379",
	} {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		store, err := Open(ctx, raw, Options{})
		cancel()
		if err == nil {
			_ = store.Close()
			t.Errorf("Open(%q) succeeded", raw)
			continue
		}
		if !strings.HasPrefix(err.Error(), "redis: open ") {
			t.Errorf("Open(%q) error %q lacks the backend name", raw, err)
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("Open(%q) error %q shows the password", raw, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for raw, want := range map[string]string{
		"redis://127.0.0.1:6379/0":                            "redis://127.0.0.1:6379/0",
		"redis://:hunter2@127.0.0.1:6379":                     "redis://:xxxxx@127.0.0.1:6379",
		"redis+sentinel://h:1?master_name=m&password=hunter2": "redis+sentinel://h:1?master_name=m&password=xxxxx",
		"redis://h:1?sentinel_password=hunter2&db=1":          "redis://h:1?db=1&sentinel_password=xxxxx",
		"redis://h:1?Password=hunter%zz":                      "redis://h:1",
		"redis://:hunter2@h:1/%zz":                            "(unparsable URL)",
	} {
		if got := redact(raw); got != want {
			t.Errorf("redact(%q) = %q, want %q", raw, got, want)
		}
	}
}

// TestOpenTopologies runs one round trip through every URL form against the
// test servers, and checks that Close closes the client Open built.
func TestOpenTopologies(t *testing.T) {
	for name, raw := range map[string]string{
		"standalone": "redis://" + standaloneAddr() + "/0",
		"cluster":    "redis+cluster://" + strings.Join(clusterAddrs(), ","),
		"sentinel":   "redis+sentinel://" + strings.Join(sentinelAddrs(), ",") + "?master_name=" + sentinelMaster(),
	} {
		t.Run(name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			store, err := Open(ctx, raw, Options{})
			if err != nil {
				backendtest.Unavailable(t, name+" redis at "+raw, err)
			}
			defer store.Close()
			key := testKey(t, store.Client(), "url")
			if err := store.SetIf(ctx, key, nil, []byte("via url"), time.Minute); err != nil {
				t.Fatal(err)
			}
			got, version, err := store.GetVersion(ctx, key)
			if err != nil || string(got) != "via url" {
				t.Fatalf("GetVersion = %q, %v", got, err)
			}
			if err := store.DeleteIf(ctx, key, version); err != nil {
				t.Fatal(err)
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
