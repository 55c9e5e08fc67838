package interop_test

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/core/codec"
	demoapp "github.com/cloakroom/cloakroom/internal/demo"
)

const flaskSecret = "interop-flask-secret-key of 32 bytes or more"

// startFlask starts flaskapp.py and the demo on signed cookies with the
// same SECRET_KEY.
func startFlask(t *testing.T) (flask, demo *peer) {
	t.Helper()
	requirePython(t, "flask")
	flask = startPython(t, "flaskapp.py", "", []string{"INTEROP_SECRET_KEY=" + flaskSecret}, "flaskapp.py", "{port}")
	demo = startDemo(t, "-backend", "cookie", "-secret", flaskSecret)
	return flask, demo
}

// TestFlaskToGo: a session Flask writes (tuple, bytes, UUID, datetime, a
// flash) is read by the demo with its types; the demo's page shows and
// consumes the flash; Go's changes and its own flash come back to Flask.
func TestFlaskToGo(t *testing.T) {
	t.Parallel()
	flask, demo := startFlask(t)

	r := flask.mustCall(t, 204, "POST", "/set", "session", "", "")
	cookie := setCookie(t, "Flask", r, "session")

	r = demo.mustCall(t, 200, "GET", "/api/session", "session", cookie, "")
	got := decodeSession(t, r.body)
	checkGoValues(t, got)
	wantFlashes := []any{codec.Tuple{"info", "Saved by Flask."}}
	if !reflect.DeepEqual(got["_flashes"], wantFlashes) {
		t.Errorf("Go: _flashes = %#v, want %#v", got["_flashes"], wantFlashes)
	}

	// The page shows Flask's flash, consumes it and counts the visit.
	r = demo.mustCall(t, 200, "GET", "/", "session", cookie, "")
	if !strings.Contains(string(r.body), `class="flash flash-info" role="status">Saved by Flask.<`) {
		t.Errorf("the demo's page does not show Flask's flash:\n%s", r.body)
	}
	cookie = setCookie(t, "demo GET /", r, "session")

	// Go logs in (a flash of its own) and counts.
	r = demo.mustCall(t, 204, "POST", "/api/login", "session", cookie, `{"user":"ada"}`)
	cookie = setCookie(t, "demo /api/login", r, "session")
	r = demo.mustCall(t, 200, "POST", "/api/incr/visits", "session", cookie, "")
	cookie = setCookie(t, "demo /api/incr", r, "session")

	r = flask.mustCall(t, 200, "GET", "/repr", "session", cookie, "")
	reprs := decodeReprs(t, r.body)
	checkPythonValues(t, reprs, map[string]string{
		"user":     "'ada'",
		"visits":   "2",
		"_flashes": "[('message', '" + demoapp.LoginFlash("ada") + "')]",
	})

	r = flask.mustCall(t, 200, "GET", "/flashes", "session", cookie, "")
	var flashes [][]string
	if err := json.Unmarshal(r.body, &flashes); err != nil {
		t.Fatalf("/flashes: %v: %s", err, r.body)
	}
	if want := [][]string{{"message", demoapp.LoginFlash("ada")}}; !reflect.DeepEqual(flashes, want) {
		t.Errorf("Flask's get_flashed_messages = %q, want %q", flashes, want)
	}
}

// TestGoToFlask: values the demo stores from tagged JSON reach Flask with
// their Python types, and a cookie signed with another key is refused by
// Flask.
func TestGoToFlask(t *testing.T) {
	t.Parallel()
	flask, demo := startFlask(t)

	cookie := ""
	for _, tv := range typedValues {
		r := demo.mustCall(t, 204, "PUT", "/api/session/"+tv.key, "session", cookie, tv.tagged)
		cookie = setCookie(t, "demo PUT", r, "session")
	}
	r := flask.mustCall(t, 200, "GET", "/repr", "session", cookie, "")
	checkPythonValues(t, decodeReprs(t, r.body), nil)

	// The same session signed with another key: Flask starts afresh.
	other := startDemo(t, "-backend", "cookie", "-secret", "not-"+flaskSecret)
	r = other.mustCall(t, 204, "PUT", "/api/session/text", "session", "", `"forged"`)
	forged := setCookie(t, "demo (other key)", r, "session")
	r = flask.mustCall(t, 200, "GET", "/repr", "session", forged, "")
	if got := decodeReprs(t, r.body); len(got) != 0 {
		t.Errorf("Flask accepted a cookie signed with another key: %v", got)
	}
}
