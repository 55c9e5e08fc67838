package migrating_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

// newGinApp is an application written for gin-contrib/sessions, moved to
// cloakroom: gin-contrib's counter example, and a logout.
func newGinApp(store core.Backend) *gin.Engine {
	m := core.NewManager(store) // store := cookie.NewStore(secret), redis.NewStore(...)
	m.Cookie.Name = "mysession"

	r := gin.New()
	r.Use(ginsession.Middleware(m)) // r.Use(sessions.Sessions("mysession", store))
	r.GET("/incr", func(c *gin.Context) {
		session, err := ginsession.Get(c) // session := sessions.Default(c)
		if err != nil {
			c.String(core.HTTPStatus(err), "session unavailable")
			return
		}
		// session.Get("count"), a type assertion, session.Set("count",
		// count+1) and session.Save(), in one call that concurrent
		// requests cannot undo:
		count, err := session.Incr("count", 1)
		if err != nil {
			c.String(http.StatusConflict, "count is not a number")
			return
		}
		c.JSON(http.StatusOK, gin.H{"count": count})
	})
	r.POST("/logout", func(c *gin.Context) {
		session, err := ginsession.Get(c)
		if err != nil {
			c.String(core.HTTPStatus(err), "session unavailable")
			return
		}
		session.Destroy() // session.Clear(); session.Options(sessions.Options{MaxAge: -1}); session.Save()
		c.Status(http.StatusNoContent)
	})
	return r
}

// The gin application's requests, answered by cloakroom: the count goes
// up, and starts again after the logout.
func Example_ginContrib() {
	gin.SetMode(gin.ReleaseMode)
	store := memory.New(memory.Options{})
	defer store.Close()
	handler := newGinApp(store)

	var cookie *http.Cookie
	for _, step := range []struct{ method, path string }{
		{"GET", "/incr"}, {"GET", "/incr"}, {"POST", "/logout"}, {"GET", "/incr"},
	} {
		req := httptest.NewRequest(step.method, step.path, nil)
		if cookie != nil {
			req.AddCookie(cookie)
		}
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if c := rec.Result().Cookies(); len(c) > 0 {
			cookie = c[0]
		}
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s %s: %d %s", step.method, step.path, rec.Code, rec.Body)))
	}
	// Output:
	// GET /incr: 200 {"count":1}
	// GET /incr: 200 {"count":2}
	// POST /logout: 204
	// GET /incr: 200 {"count":1}
}
