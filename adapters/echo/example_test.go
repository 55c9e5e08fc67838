package echosession_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"

	"github.com/labstack/echo/v4"

	echosession "github.com/cloakroom/cloakroom/adapters/echo"
	"github.com/cloakroom/cloakroom/backends/memory"
	"github.com/cloakroom/cloakroom/core"
)

// A visit counter: the session cookie from the first response brings the
// count back on the next request.
func Example() {
	store := memory.New(memory.Options{})
	defer store.Close()
	m := core.NewManager(store)

	e := echo.New()
	e.Use(echosession.Middleware(m))
	e.GET("/", func(c echo.Context) error {
		s, err := echosession.Get(c)
		if err != nil {
			return err
		}
		n, _ := s.GetInt("visits")
		s.Set("visits", n+1)
		return c.String(http.StatusOK, fmt.Sprintf("visit %d", n+1))
	})

	var cookies []*http.Cookie
	for range 2 {
		req := httptest.NewRequest(http.MethodGet, "/", nil)
		for _, c := range cookies {
			req.AddCookie(c)
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if set := rec.Result().Cookies(); len(set) > 0 {
			cookies = set
		}
		fmt.Println(rec.Code, rec.Body.String())
	}
	// Output:
	// 200 visit 1
	// 200 visit 2
}
