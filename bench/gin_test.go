package bench

import (
	"net/http"
	"testing"

	"github.com/gin-contrib/sessions"
	"github.com/gin-contrib/sessions/memstore"
	"github.com/gin-gonic/gin"

	ginsession "github.com/cloakroom/cloakroom/adapters/gin"
)

// On gin: cloakroom's adapter against gin-contrib/sessions with its
// memstore, which is gorilla/sessions over quasoft/memstore. That store
// cannot go unsigned: its cookie holds the id in gorilla's securecookie
// format (gob, HMAC-SHA256, base64, a timestamp), where cloakroom's holds
// the bare id unless a Signer is set. Both stores copy the data on every
// load and save (gob for memstore, tagged JSON for cloakroom).
var ginLibs = []lib{
	{name: "cloakroom", start: cloakroomGin},
	{name: "gin-contrib", start: ginContrib},
}

func init() { gin.SetMode(gin.ReleaseMode) }

func newGinApp(middleware gin.HandlerFunc, handler gin.HandlerFunc) app {
	r := gin.New()
	r.Use(middleware)
	r.GET("/", handler)
	return httpApp{r}
}

func cloakroomGin(tb testing.TB) func(mode) app {
	mw := ginsession.Middleware(cloakroomManager(tb))
	return func(m mode) app {
		return newGinApp(mw, func(c *gin.Context) {
			if m != none {
				s, err := ginsession.Get(c)
				if err != nil {
					c.AbortWithStatus(http.StatusServiceUnavailable)
					return
				}
				useCloakroom(s, m)
			}
			c.Status(http.StatusOK)
		})
	}
}

// gin-contrib loads lazily too; Save is a no-op unless something was set,
// but the handler must call it.
func ginContrib(tb testing.TB) func(mode) app {
	store := memstore.NewStore([]byte("0123456789abcdef0123456789abcdef"))
	store.Options(sessions.Options{
		Path: "/", MaxAge: int(lifetime.Seconds()),
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
	})
	mw := sessions.Sessions(cookieName, store)
	return func(m mode) app {
		return newGinApp(mw, func(c *gin.Context) {
			s := sessions.Default(c)
			switch m {
			case read:
				last.user, _ = s.Get("user").(string)
			case write:
				n, _ := s.Get("n").(int)
				s.Set("n", n+1)
				last.n = int64(n + 1)
			case seed:
				s.Set("user", "alice")
				s.Set("n", 1)
			}
			if err := s.Save(); err != nil {
				c.AbortWithStatus(http.StatusInternalServerError)
				return
			}
			c.Status(http.StatusOK)
		})
	}
}
