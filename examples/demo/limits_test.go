package main

import (
	"strings"
	"testing"

	"github.com/cloakroom/cloakroom/backends/memory"
)

func TestDemoRefusesReservedKeys(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	c := newClient(t, startDemo(t, "nethttp", store))
	c.do("PUT", "/api/session/user", `"alice"`, 204)
	for _, k := range []string{"_addr", "_created", "_permanent"} {
		c.do("PUT", "/api/session/"+k, `"forged"`, 400)
		c.do("DELETE", "/api/session/"+k, "", 400)
		c.do("POST", "/api/incr/"+k, "", 400)
	}
	if body, _ := c.do("GET", "/api/session", "", 200); body != `{"user":"alice"}` {
		t.Errorf("session after refused writes = %s", body)
	}
}

func TestDemoIncrDoesNotWrap(t *testing.T) {
	store := memory.New(memory.Options{})
	defer store.Close()
	c := newClient(t, startDemo(t, "nethttp", store))
	c.do("PUT", "/api/session/n", "9223372036854775807", 204)
	if body, _ := c.do("POST", "/api/incr/n", "", 409); !strings.Contains(body, "overflow") {
		t.Errorf("incr past int64 = %q, want a clear overflow error", body)
	}
	if body, _ := c.do("GET", "/api/session", "", 200); !strings.Contains(body, `"n":9223372036854775807`) {
		t.Errorf("session after a refused incr = %s", body)
	}
}
