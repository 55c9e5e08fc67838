package interop_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os/exec"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core/backendtest"
)

const (
	djangoSecret   = "interop-django-secret-key-with-enough-characters"
	djangoDB       = "cloakroom_django"
	djangoUser     = "ada"
	djangoPassword = "correct horse battery staple"
	djangoBackend  = "django.contrib.auth.backends.ModelBackend"
)

// djangoSetup is the Django project and the demo on the same database.
type djangoSetup struct {
	django, demo *peer
	userID       string // the test user's primary key, as Django stores it in _auth_user_id
}

// djangoPG returns the PostgreSQL server the SQL backend's tests use
// (CLOAKROOM_POSTGRES_DSN), with its database replaced by djangoDB.
func djangoPG(t *testing.T) *url.URL {
	t.Helper()
	u, err := url.Parse(backendtest.Env("CLOAKROOM_POSTGRES_DSN",
		"postgres://postgres@127.0.0.1:5432/cloakroom_test?sslmode=disable"))
	if err != nil {
		t.Fatalf("CLOAKROOM_POSTGRES_DSN: %v", err)
	}
	u.Path = "/" + djangoDB
	return u
}

// manage runs djangoproject/manage.py args with the project's environment.
func manage(t *testing.T, env []string, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, python, append([]string{"manage.py"}, args...)...)
	cmd.Dir = "djangoproject"
	cmd.Env = append(append(cmd.Environ(), "PYTHONDONTWRITEBYTECODE=1"), env...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("manage.py %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func startDjango(t *testing.T) *djangoSetup {
	t.Helper()
	requirePython(t, "django, psycopg2")
	pg := djangoPG(t)
	password, _ := pg.User.Password()
	env := []string{
		"INTEROP_SECRET_KEY=" + djangoSecret,
		"INTEROP_PG_HOST=" + pg.Hostname(),
		"INTEROP_PG_PORT=" + pg.Port(),
		"INTEROP_PG_USER=" + pg.User.Username(),
		"INTEROP_PG_PASSWORD=" + password,
		"INTEROP_PG_DB=" + djangoDB,
	}

	// The database is the test's own: create it when absent.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	create := exec.CommandContext(ctx, python, "-c", `
import os, sys, psycopg2
try:
    c = psycopg2.connect(host=os.environ["INTEROP_PG_HOST"], port=os.environ["INTEROP_PG_PORT"],
                         user=os.environ["INTEROP_PG_USER"], password=os.environ["INTEROP_PG_PASSWORD"],
                         dbname="postgres", connect_timeout=5)
except psycopg2.OperationalError as e:
    print(e, file=sys.stderr)
    sys.exit(3)
c.autocommit = True
cur = c.cursor()
cur.execute("SELECT 1 FROM pg_database WHERE datname = %s", (os.environ["INTEROP_PG_DB"],))
if cur.fetchone() is None:
    cur.execute('CREATE DATABASE "%s"' % os.environ["INTEROP_PG_DB"])
`)
	create.Env = append(create.Environ(), env...)
	if out, err := create.CombinedOutput(); err != nil {
		if create.ProcessState != nil && create.ProcessState.ExitCode() == 3 {
			backendtest.Unavailable(t, "PostgreSQL on "+pg.Host+" (set CLOAKROOM_POSTGRES_DSN)", fmt.Errorf("%s", out))
		}
		t.Fatalf("creating database %s: %v\n%s", djangoDB, err, out)
	}

	manage(t, env, "migrate", "--noinput", "-v", "0")
	userID := strings.TrimSpace(manage(t, env, "shell", "-c", fmt.Sprintf(`
from django.contrib.auth.models import User
User.objects.filter(username=%q).delete()
print(User.objects.create_user(%q, password=%q).pk)`, djangoUser, djangoUser, djangoPassword)))
	if !regexp.MustCompile(`^[0-9]+$`).MatchString(userID) {
		t.Fatalf("creating the test user printed %q, want its primary key", userID)
	}

	return &djangoSetup{
		django: startPython(t, "django runserver", "djangoproject", env,
			"manage.py", "runserver", "{addr}", "--noreload"),
		demo:   startDemo(t, "-backend", "django", "-dsn", pg.String(), "-secret", djangoSecret),
		userID: userID,
	}
}

// djangoDump is the Django project's GET /dump answer.
type djangoDump struct {
	Session map[string]any `json:"session"`
	User    *string        `json:"user"`
}

func (d *djangoSetup) dump(t *testing.T, cookie string) djangoDump {
	t.Helper()
	r := d.django.mustCall(t, 200, "GET", "/dump", "sessionid", cookie, "")
	var out djangoDump
	if err := json.Unmarshal(r.body, &out); err != nil {
		t.Fatalf("Django /dump: %v: %s", err, r.body)
	}
	return out
}

// demoSession reads the demo's /api/session (plain JSON is tagged JSON
// without tags).
func (d *djangoSetup) demoSession(t *testing.T, cookie string) map[string]any {
	t.Helper()
	r := d.demo.mustCall(t, 200, "GET", "/api/session", "sessionid", cookie, "")
	return decodeSession(t, r.body)
}

var djangoKey = regexp.MustCompile(`^[a-z0-9]{32}$`)

// plainValues are the values Django's /set view stores: what JSON carries.
var plainValues = map[string]struct {
	json string // the demo's PUT body
	gov  any    // what Go decodes
	py   any    // what Django's JSON answer decodes to in Go's encoding/json
}{
	"text":  {`"h\u00e9llo"`, "h\u00e9llo", "h\u00e9llo"},
	"count": {`42`, int64(42), 42.0},
	"list":  {`[1,"two",[3.5,null]]`, []any{int64(1), "two", []any{3.5, nil}}, []any{1.0, "two", []any{3.5, nil}}},
	"dict":  {`{"a":1,"b":[true,false]}`, map[string]any{"a": int64(1), "b": []any{true, false}}, map[string]any{"a": 1.0, "b": []any{true, false}}},
}

func checkPlainGo(t *testing.T, got map[string]any) {
	t.Helper()
	for k, v := range plainValues {
		if !reflect.DeepEqual(got[k], v.gov) {
			t.Errorf("Go: %q = %#v, want %#v", k, got[k], v.gov)
		}
	}
}

func checkPlainDjango(t *testing.T, got map[string]any) {
	t.Helper()
	for k, v := range plainValues {
		if !reflect.DeepEqual(got[k], v.py) {
			t.Errorf("Django: %q = %#v, want %#v", k, got[k], v.py)
		}
	}
}

func TestDjango(t *testing.T) {
	t.Parallel()
	d := startDjango(t)
	t.Run("DjangoToGo", func(t *testing.T) { testDjangoToGo(t, d) })
	t.Run("GoToDjango", func(t *testing.T) { testGoToDjango(t, d) })
	t.Run("DjangoLoginToGo", func(t *testing.T) { testDjangoLoginToGo(t, d) })
	t.Run("Expiry", func(t *testing.T) { testDjangoExpiry(t, d) })
}

// testDjangoToGo: values a Django view stores are read by the demo; the
// demo's change to the same row comes back to Django with them.
func testDjangoToGo(t *testing.T, d *djangoSetup) {
	r := d.django.mustCall(t, 204, "POST", "/set", "sessionid", "", "")
	cookie := setCookie(t, "Django", r, "sessionid")
	checkPlainGo(t, d.demoSession(t, cookie))

	r = d.demo.mustCall(t, 200, "POST", "/api/incr/visits", "sessionid", cookie, "")
	if c, ok := r.cookie("sessionid"); ok && c.Value != cookie {
		t.Errorf("the demo moved the session to %q, want %q kept", c.Value, cookie)
	}
	got := d.dump(t, cookie)
	checkPlainDjango(t, got.Session)
	if got.Session["visits"] != 1.0 {
		t.Errorf("Django: visits = %#v after the demo's incr, want 1", got.Session["visits"])
	}
}

// testGoToDjango: values the demo stores are read by Django's
// SessionMiddleware from the same table.
func testGoToDjango(t *testing.T, d *djangoSetup) {
	cookie := ""
	for k, v := range plainValues {
		r := d.demo.mustCall(t, 204, "PUT", "/api/session/"+k, "sessionid", cookie, v.json)
		if c, ok := r.cookie("sessionid"); ok {
			cookie = c.Value
		}
	}
	if !djangoKey.MatchString(cookie) {
		t.Fatalf("the demo's sessionid %q is not a Django session key", cookie)
	}
	got := d.dump(t, cookie)
	checkPlainDjango(t, got.Session)
	if got.User != nil {
		t.Errorf("Django sees user %q in a session without a login", *got.User)
	}

	// After the demo's logout the row is gone: Django sees an empty session.
	d.demo.mustCall(t, 204, "POST", "/api/logout", "sessionid", cookie, "")
	if got := d.dump(t, cookie); len(got.Session) != 0 {
		t.Errorf("Django still sees the session the demo destroyed: %v", got.Session)
	}
}

// testDjangoLoginToGo: a real django.contrib.auth login is readable by the
// demo; the demo's write keeps it valid for Django; a session the demo
// writes with the login's three keys is a login for Django, and one with a
// wrong _auth_user_hash is not.
func testDjangoLoginToGo(t *testing.T, d *djangoSetup) {
	body := fmt.Sprintf(`{"username":%q,"password":%q}`, djangoUser, djangoPassword)
	r := d.django.mustCall(t, 204, "POST", "/login", "sessionid", "", body)
	cookie := setCookie(t, "Django /login", r, "sessionid")

	got := d.demoSession(t, cookie)
	if got["_auth_user_id"] != d.userID {
		t.Errorf("Go: _auth_user_id = %#v, want %q", got["_auth_user_id"], d.userID)
	}
	if got["_auth_user_backend"] != djangoBackend {
		t.Errorf("Go: _auth_user_backend = %#v, want %q", got["_auth_user_backend"], djangoBackend)
	}
	hash, _ := got["_auth_user_hash"].(string)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(hash) {
		t.Fatalf("Go: _auth_user_hash = %#v, want Django's hex HMAC-SHA256", got["_auth_user_hash"])
	}

	// Go writes to the logged-in session; Django still knows the user.
	d.demo.mustCall(t, 200, "POST", "/api/incr/visits", "sessionid", cookie, "")
	if dump := d.dump(t, cookie); dump.User == nil || *dump.User != djangoUser || dump.Session["visits"] != 1.0 {
		t.Errorf("Django after the demo's write: user %v, session %v; want %q logged in, visits 1", dump.User, dump.Session, djangoUser)
	}

	// A session written by Go alone, holding the login's keys.
	login := func(hash string) string {
		t.Helper()
		c := ""
		for k, v := range map[string]string{"_auth_user_id": d.userID, "_auth_user_backend": djangoBackend, "_auth_user_hash": hash} {
			b, _ := json.Marshal(v)
			r := d.demo.mustCall(t, 204, "PUT", "/api/session/"+k, "sessionid", c, string(b))
			if sc, ok := r.cookie("sessionid"); ok {
				c = sc.Value
			}
		}
		return c
	}
	goCookie := login(hash)
	if goCookie == cookie {
		t.Fatal("the demo reused Django's session key for a new session")
	}
	if dump := d.dump(t, goCookie); dump.User == nil || *dump.User != djangoUser {
		t.Errorf("Django does not accept the login written by Go: user %v, session %v", dump.User, dump.Session)
	}
	forged := login(strings.Repeat("0", 64))
	if dump := d.dump(t, forged); dump.User != nil {
		t.Errorf("Django accepted a login with a wrong _auth_user_hash: user %q, session %v", *dump.User, dump.Session)
	} else if len(dump.Session) != 0 {
		t.Errorf("Django kept the session of a login with a wrong _auth_user_hash: %v", dump.Session)
	}
}
