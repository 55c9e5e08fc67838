package core_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/cloakroom/cloakroom/core"
)

type stepKey struct{}

// Observe brackets every load, save, listing and revocation, and the
// step's backend calls and events get the context it returned, so that a
// tracer's span holds them.
func TestObserve(t *testing.T) {
	b := newCounting(t)
	b.ContextCheck = func(ctx context.Context) bool { return ctx.Value(stepKey{}) != nil }
	m := core.NewManager(b)
	m.IdleTimeout = time.Hour
	m.TouchInterval = time.Nanosecond
	var log []string
	m.Observe = func(ctx context.Context, step core.Step) (context.Context, func(error)) {
		log = append(log, "start "+step.String())
		return context.WithValue(ctx, stepKey{}, step), func(err error) {
			log = append(log, "end "+step.String()+" "+errText(err))
		}
	}
	m.OnEvent = func(ctx context.Context, e core.Event) {
		step, _ := ctx.Value(stepKey{}).(core.Step)
		log = append(log, e.Kind.String()+" in "+step.String())
	}

	tok := loginAs(t, m, "alice", "phone")
	visit(t, m, tok) // read: a touch, since the interval is past
	if _, err := m.Sessions(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.RevokeAll(context.Background(), "alice", ""); err != nil {
		t.Fatal(err)
	}
	b.FailReads(errDown)
	ex := newExchange("192.0.2.7:1")
	ex.cookies["session"] = tok
	if _, err := m.Begin(ex).Session(context.Background()); !errors.Is(err, core.ErrBackend) {
		t.Fatalf("load with the backend down: %v", err)
	}
	want := []string{
		"start load", "end load ok", "start save", "created in save", "end save ok",
		"start load", "loaded in load", "end load ok", "start save", "touched in save", "end save ok",
		"start list", "end list ok",
		"start revoke", "revoked in revoke", "end revoke ok",
		"start load", "end load " + errText(core.ErrBackend),
	}
	if !slices.Equal(log, want) {
		t.Errorf("steps:\n%q\nwant\n%q", log, want)
	}
	if n := b.Unchecked(); n != 0 {
		t.Errorf("%d backend calls were made outside their step's context", n)
	}
}

func errText(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, core.ErrBackend):
		return "backend error"
	}
	return err.Error()
}
