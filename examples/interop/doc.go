// Package interop holds cloakroom's end-to-end interoperability tests: the
// demo server (examples/demo) exchanges sessions, both ways, with real
// Python peers run by Debian's /usr/bin/python3: a Flask app on signed
// cookies (flaskapp.py), a Quart app on Redis in Quart-Session's layout
// (quartapp.py) and a Django project on PostgreSQL database sessions
// (djangoproject/). The package has no code of its own; `go test` builds
// the demo, starts each peer on a free loopback port and moves the session
// cookie between the two by hand.
//
// Tests skip when /usr/bin/python3 lacks a package or a server is
// unreachable (`bash scripts/services/python.sh start` installs the
// packages), and fail instead with CLOAKROOM_REQUIRE_SERVICES=1.
package interop
