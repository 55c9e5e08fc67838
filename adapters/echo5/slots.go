package echosession

import (
	"fmt"

	"github.com/labstack/echo/v5"

	"github.com/cloakroom/cloakroom/core"
)

// A request keeps one slot per Manager in the echo.Context store. The first
// session middleware a request meets, skipped or not, fills the slot under
// firstKey, so that a request served by one Manager stores one value and
// Get keeps answering for that middleware when more are added deeper. Any
// other Manager's slot is under its own key.
//
// A slot holds the request's *state, or the middleware's *skipMark when it
// skipped the request. A skipped slot keeps other Managers out, so that Get
// never answers for them, but another middleware of the same Manager (say
// on a group, without the Skipper) may still serve the request there.
const firstKey = "github.com/cloakroom/cloakroom/adapters/echo5"

// skipMark fills the slot of a middleware that skipped the request. Each
// middleware allocates its own once, so marking a request costs nothing.
type skipMark struct{ m *core.Manager }

// slotKey is the store key of m's slot when m is not the first Manager of
// a request.
func slotKey(m *core.Manager) string {
	return fmt.Sprintf("%s#%p", firstKey, m)
}

// owner returns the Manager whose slot value v is, nil for none.
func owner(v any) *core.Manager {
	switch v := v.(type) {
	case *state:
		return v.req.Manager()
	case *skipMark:
		return v.m
	}
	return nil
}

// freeSlot returns the key under which m's middleware keeps the request's
// session, own when m is not the request's first Manager, and whether a
// middleware of m already gave the request a session there.
func freeSlot(c *echo.Context, m *core.Manager, own string) (key string, served bool) {
	v := c.Get(firstKey)
	switch owner(v) {
	case nil:
		return firstKey, false
	case m:
		_, served = v.(*state)
		return firstKey, served
	}
	_, served = c.Get(own).(*state)
	return own, served
}
