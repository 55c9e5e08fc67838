package interop_test

import (
	"context"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/backends/redis"
	"github.com/cloakroom/cloakroom/core/backendtest"
	"github.com/cloakroom/cloakroom/core/codec"
)

const (
	quartSecret   = "interop-quart-secret-key of 32 bytes or more"
	quartLifetime = 31 * 24 * time.Hour // Quart's PERMANENT_SESSION_LIFETIME
)

// quartRedisURL is Redis database 15, the Quart tests' own.
func quartRedisURL() string {
	return "redis://" + backendtest.Env("CLOAKROOM_REDIS_ADDR", "127.0.0.1:6379") + "/15"
}

var flushQuartDB sync.Once

// quartRedis connects to the tests' Redis database, emptied once per run.
func quartRedis(t *testing.T) *redis.Store {
	t.Helper()
	st, err := redis.Open(context.Background(), quartRedisURL(), redis.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := st.Client().Ping(ctx).Err(); err != nil {
		backendtest.Unavailable(t, "Redis on "+quartRedisURL()+" (set CLOAKROOM_REDIS_ADDR)", err)
	}
	flushQuartDB.Do(func() { err = st.Client().FlushDB(ctx).Err() })
	if err != nil {
		t.Fatal(err)
	}
	return st
}

var uuid4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

// quartSetup is one Quart app and one demo on the same Redis database.
type quartSetup struct {
	quart, demo *peer
	store       *redis.Store
	signed      bool
}

func startQuart(t *testing.T, signed bool) *quartSetup {
	t.Helper()
	requirePython(t, "quart, redis")
	st := quartRedis(t)
	env := []string{"INTEROP_REDIS_URL=" + quartRedisURL(), "INTEROP_SECRET_KEY=" + quartSecret}
	flags := []string{"-preset", "quart", "-backend", "redis", "-dsn", quartRedisURL()}
	if signed {
		env = append(env, "INTEROP_USE_SIGNER=1")
		flags = append(flags, "-secret", quartSecret)
	}
	return &quartSetup{
		quart:  startPython(t, "quartapp.py", "", env, "quartapp.py", "{port}"),
		demo:   startDemo(t, flags...),
		store:  st,
		signed: signed,
	}
}

// sid returns the session id a cookie carries, checking its form: a uuid4,
// followed with the signer by "." and a signature.
func (q *quartSetup) sid(t *testing.T, cookie string) string {
	t.Helper()
	sid := cookie
	if q.signed {
		var sig string
		var ok bool
		if sid, sig, ok = strings.Cut(cookie, "."); !ok || sig == "" {
			t.Fatalf("cookie %q is not a signed id", cookie)
		}
	}
	if !uuid4.MatchString(sid) {
		t.Fatalf("cookie %q does not hold a uuid4 session id", cookie)
	}
	return sid
}

// stored returns the session under "session:"+sid, decoded, checking its
// expiry is Quart's lifetime (as SETEX sets it).
func (q *quartSetup) stored(t *testing.T, sid string) map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	key := "session:" + sid
	raw, err := q.store.Client().Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("Redis GET %s: %v", key, err)
	}
	ttl, err := q.store.Client().TTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl > quartLifetime || ttl < quartLifetime-time.Minute {
		t.Errorf("TTL of %s is %v, want Quart's lifetime %v", key, ttl, quartLifetime)
	}
	data, err := codec.TaggedJSON{}.Decode(raw)
	if err != nil {
		t.Fatalf("Redis %s holds no tagged JSON: %v: %s", key, err, raw)
	}
	if data["_permanent"] != true {
		t.Errorf("Redis %s: _permanent = %#v, want true: %s", key, data["_permanent"], raw)
	}
	return data
}

func TestQuart(t *testing.T) {
	t.Parallel()
	for _, signed := range []bool{false, true} {
		name := "plain ids"
		if signed {
			name = "signed ids"
		}
		t.Run(name, func(t *testing.T) {
			q := startQuart(t, signed)
			t.Run("QuartToGo", func(t *testing.T) { testQuartToGo(t, q) })
			t.Run("GoToQuart", func(t *testing.T) { testGoToQuart(t, q) })
		})
	}
}

// testQuartToGo: a session the Quart app writes in Quart-Session's layout
// is read by the demo with its types; the demo's change lands under the
// same key and Quart reads it along with its own values.
func testQuartToGo(t *testing.T, q *quartSetup) {
	r := q.quart.mustCall(t, 204, "POST", "/set", "session", "", "")
	cookie := setCookie(t, "Quart", r, "session")
	sid := q.sid(t, cookie)
	checkGoValues(t, q.stored(t, sid))
	// Quart 0.18 writes datetimes in ISO 8601, where Flask and Quart >= 0.19
	// write HTTP dates: this checks the reading of that older form too.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	raw, err := q.store.Client().Get(ctx, "session:"+sid).Result()
	if err != nil {
		t.Fatal(err)
	}
	if want := `"when":{" d":"2024-01-02T03:04:05.000000+00:00"}`; !strings.Contains(raw, want) {
		t.Errorf("Quart wrote %s, want the ISO 8601 datetime %s of Quart 0.18 (a newer Quart? then this check is moot)", raw, want)
	}

	r = q.demo.mustCall(t, 200, "GET", "/api/session", "session", cookie, "")
	checkGoValues(t, decodeSession(t, r.body))

	r = q.demo.mustCall(t, 200, "POST", "/api/incr/visits", "session", cookie, "")
	if c, ok := r.cookie("session"); ok && c.Value != cookie {
		t.Errorf("the demo moved the session to cookie %q, want %q kept", c.Value, cookie)
	}
	if got := q.stored(t, sid)["visits"]; got != int64(1) {
		t.Errorf("Redis: visits = %#v after the demo's incr, want 1", got)
	}

	r = q.quart.mustCall(t, 200, "GET", "/repr", "session", cookie, "")
	checkPythonValues(t, decodeReprs(t, r.body), map[string]string{"visits": "1", "_permanent": "True"})
}

// testGoToQuart: a session the demo writes is in Quart-Session's layout and
// the Quart app reads it with its Python types; an id Redis does not hold
// gives Quart an empty session.
func testGoToQuart(t *testing.T, q *quartSetup) {
	cookie := ""
	for _, tv := range typedValues {
		r := q.demo.mustCall(t, 204, "PUT", "/api/session/"+tv.key, "session", cookie, tv.tagged)
		if c, ok := r.cookie("session"); ok {
			cookie = c.Value
		}
	}
	if cookie == "" {
		t.Fatal("the demo set no session cookie")
	}
	sid := q.sid(t, cookie)
	checkGoValues(t, q.stored(t, sid))

	r := q.quart.mustCall(t, 200, "GET", "/repr", "session", cookie, "")
	checkPythonValues(t, decodeReprs(t, r.body), map[string]string{"_permanent": "True"})

	// After the demo's logout the key is gone and Quart starts afresh.
	q.demo.mustCall(t, 204, "POST", "/api/logout", "session", cookie, "")
	r = q.quart.mustCall(t, 200, "GET", "/repr", "session", cookie, "")
	if got := decodeReprs(t, r.body); len(got) > 1 || (len(got) == 1 && got["_permanent"] != "True") {
		t.Errorf("Quart still sees the session the demo destroyed: %v", got)
	}
}
