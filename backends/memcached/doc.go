// Package memcached keeps cloakroom sessions in one or more memcached
// servers through github.com/bradfitz/gomemcache.
//
// Use it when sessions should outlive a process and be shared by several
// instances of an application, and losing a session to memcached's eviction
// or a server restart is acceptable (the user logs in again). With several
// servers, each key lives on exactly one of them, chosen by gomemcache's
// server selector (a CRC-32 of the key modulo the number of servers): adding
// or removing a server moves most keys, which then read as absent. With
// Open, a server that cannot be connected to hands its keys to the others
// for Options.DeadTimeout, so that its sessions become new sessions rather
// than errors; the other servers' keys do not move.
//
// # Making a Store
//
// Open takes a comma-separated server list ("host:port" or a Unix socket
// path, optionally prefixed with memcached://), builds a client it owns and
// pings every server within the context before it returns. New wraps a
// gomemcache client you configured yourself (TLS, timeouts, a custom server
// selector) and leaves it yours: Close does not close it.
//
// # Expiry
//
// memcached expires keys itself. A ttl is sent in whole seconds, rounded up
// so that a sub-second ttl never becomes 0 (which memcached reads as "never
// expire"), plus one second: memcached's clock ticks once a second, so an
// expiration of n seconds lasts between n-1 and n seconds. A key therefore
// lives at least its ttl and at most a second longer. A ttl beyond 30 days is
// sent as an absolute Unix time (memcached's rule), computed from this
// machine's clock, so clocks must roughly agree. A ttl of zero or less stores
// the key without expiry; it may still be evicted when the server runs out
// of memory. Set, SetIf and Touch follow the same rules.
//
// # Conditional writes
//
// Store implements core.Conditional with memcached's own check-and-set, one
// round trip each, so the session manager's concurrent saves lose nothing
// and a logout is never undone by a request in flight:
//
//   - GetVersion is one gets; the Version is the item's CAS id (8 bytes,
//     big-endian). memcached gives an item a new CAS id on every write,
//     whoever makes it, so a peer's blind set (a Python app sharing the keys)
//     is detected even when it writes the same bytes. The stored bytes are
//     the value alone, as before.
//   - SetIf with a nil version is add (stores only if the key is absent or
//     expired); with a version it is cas. NOT_FOUND gives core.ErrNotFound,
//     EXISTS core.ErrConflict. A NOT_STORED answer to cas (the server could
//     not store it) also gives core.ErrConflict: the caller reads again and
//     learns whether the key is still there, whereas a wrong ErrNotFound
//     would make it drop a live session.
//   - DeleteIf: memcached's delete command takes no CAS id, and a gets then
//     delete would race. DeleteIf is therefore a cas with the version's CAS
//     id, an empty value and a negative expiration, which memcached stores
//     as already expired: in one atomic step the item stops being readable,
//     addable over and casable, exactly like a deleted one, and the server
//     reclaims its few bytes later. A racing SetIf with the old version gets
//     core.ErrNotFound.
//
// memcached's touch keeps an item's CAS id, so a Touch (by this or another
// process) between GetVersion and SetIf is not a conflict; it changes no
// value, so no update can be lost that way.
//
// A server started with -C hands out no CAS ids; GetVersion then fails
// with ErrCASDisabled. CAS ids count up from 1 per server process, so a
// version read before a server restart, or before a change of the server
// list moved the key, could in theory equal the CAS id of a later item
// under the same key. That needs the restart, a rewrite of the key and the
// very same count, all while one request holds the version it read.
//
// # Limits
//
// Keys must be 1 to 250 bytes without spaces or control characters; other
// keys fail with an error wrapping ErrInvalidKey before any network I/O.
// Values larger than the server's item size limit (about 1 MiB by default,
// memcached's -I flag) fail with an error wrapping ErrValueTooLarge.
//
// Store implements core.Backend, core.Toucher (memcached's touch command)
// and core.Conditional. It does not implement core.Lister: memcached cannot
// enumerate its keys.
//
// # Contexts
//
// gomemcache takes no context. A Store returns the context's error without
// I/O when the context has already ended. Otherwise every call is bounded by
// the client's Timeout, even under a context without a deadline: once to
// connect, once for the exchange, whose deadline gomemcache renews for each
// line of a get's reply, so at most three times Timeout (1.5 s with Open's
// default of 500 ms; a frozen server fails a call in about one Timeout),
// plus a tenth of Timeout when a call that failed at once (a refused
// connect, a pooled connection the server had closed) is made again.
// gomemcache neither retries nor caps its connections (a caller that finds
// no idle one dials its own), so concurrent callers wait for no pool. When
// the context's deadline comes sooner than that bound, the call runs on its
// own goroutine and the Store returns as soon as the context ends. The
// abandoned call then finishes in the background within that bound, so a
// Set, SetIf, Delete or DeleteIf reported as failed with a context error may
// still have reached the server. A context that is canceled without a
// deadline is checked before the call only. Open's ping always runs on its
// own goroutine, so any context ends it.
package memcached
