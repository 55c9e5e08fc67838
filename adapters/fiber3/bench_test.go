package fibersession_test

import (
	"context"
	"net"
	"testing"

	"github.com/gofiber/fiber/v3"
	"github.com/valyala/fasthttp"

	fibersession "github.com/cloakroom/cloakroom/adapters/fiber3"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// benchApp is one Fiber app served in process: app.Handler() called on a
// fasthttp.RequestCtx that is reset between requests as fasthttp's server
// does, so no network round trip is measured.
type benchApp struct {
	m       *core.Manager
	handler fasthttp.RequestHandler
}

// newBenchApp serves route at GET /, behind the session middleware when
// sessions is set, or else behind passThrough when given.
func newBenchApp(b *testing.B, sessions bool, route fiber.Handler, passThrough ...fiber.Handler) *benchApp {
	store := memory.New(memory.Options{})
	b.Cleanup(func() { store.Close() })
	m := core.NewManager(store)
	app := fiber.New()
	if sessions {
		app.Use(fibersession.New(fibersession.Config{Manager: m}))
	}
	for _, h := range passThrough {
		app.Use(h)
	}
	app.Get("/", route)
	return &benchApp{m: m, handler: app.Handler()}
}

// storedSession returns the cookie value of a stored session holding k=v.
func (a *benchApp) storedSession(b *testing.B) string {
	ctx := context.Background()
	s := a.m.New(ctx)
	s.Set("k", "v")
	if _, err := a.m.Save(ctx, s); err != nil {
		b.Fatal(err)
	}
	return s.ID()
}

// run serves GET / with the session cookie (none when empty) b.N times.
func (a *benchApp) run(b *testing.B, cookie string) {
	var req fasthttp.Request
	req.SetRequestURI("/")
	if cookie != "" {
		req.Header.SetCookie(a.m.Cookie.Name, cookie)
	}
	var ctx fasthttp.RequestCtx
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, nil)
	b.ReportAllocs()
	for b.Loop() {
		a.handler(&ctx)
		if code := ctx.Response.StatusCode(); code != fiber.StatusOK {
			b.Fatalf("status %d: %s", code, ctx.Response.Body())
		}
		ctx.Response.Reset()
		ctx.ResetUserValues()
	}
}

func plain(c fiber.Ctx) error { return c.SendString("ok") }

func readKey(c fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	v, _ := s.GetString("k")
	return c.SendString(v)
}

func writeKey(c fiber.Ctx) error {
	s, err := fibersession.Get(c)
	if err != nil {
		return err
	}
	s.Set("k", "v")
	return c.SendString("ok")
}

func BenchmarkBaseline(b *testing.B) {
	newBenchApp(b, false, plain).run(b, "")
}

// BenchmarkBaselineMiddleware is Baseline plus a middleware that only calls
// c.Next(): what any Fiber middleware costs, so that NoSession minus this is
// the session middleware's own cost.
func BenchmarkBaselineMiddleware(b *testing.B) {
	newBenchApp(b, false, plain, func(c fiber.Ctx) error { return c.Next() }).run(b, "")
}

func BenchmarkNoSession(b *testing.B) {
	newBenchApp(b, true, plain).run(b, "")
}

func BenchmarkRead(b *testing.B) {
	a := newBenchApp(b, true, readKey)
	a.run(b, a.storedSession(b))
}

func BenchmarkWrite(b *testing.B) {
	a := newBenchApp(b, true, writeKey)
	a.run(b, a.storedSession(b))
}

func BenchmarkNew(b *testing.B) {
	newBenchApp(b, true, writeKey).run(b, "")
}
