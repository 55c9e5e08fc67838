package ginsession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
	"github.com/gin-gonic/gin"
)

// A visit counter: the first request gets a session cookie, the second
// sends it back and finds its session.
func Example() {
	gin.SetMode(gin.ReleaseMode)
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	r := gin.New()
	r.Use(ginsession.Middleware(m))
	r.GET("/", func(c *gin.Context) {
		s, err := ginsession.Get(c)
		if err != nil {
			c.String(http.StatusServiceUnavailable, "session: %v", err)
			return
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		c.String(http.StatusOK, "visit number %d", n+1)
	})

	first := httptest.NewRecorder()
	r.ServeHTTP(first, httptest.NewRequest(http.MethodGet, "/", nil))
	fmt.Println(first.Body.String())

	again := httptest.NewRequest(http.MethodGet, "/", nil)
	for _, c := range first.Result().Cookies() {
		again.AddCookie(c)
	}
	second := httptest.NewRecorder()
	r.ServeHTTP(second, again)
	fmt.Println(second.Body.String())
	// Output:
	// visit number 1
	// visit number 2
}
