// Package redis stores cloakroom sessions in Redis through go-redis v9.
//
// New wraps any goredis.UniversalClient the application owns, so one code
// path serves a single server, a Sentinel-managed master
// (goredis.NewFailoverClient) and a Redis Cluster
// (goredis.NewClusterClient). Open builds the client from a URL instead
// (redis://, rediss://, unix://, redis+cluster://, redis+sentinel://),
// checks with one PING that the server answers, and owns the client:
// Store.Close closes it.
//
// A Store made by Open bounds each call, retries and the wait for a pooled
// connection included, by Options.Timeout (DefaultTimeout, 1.5 s, when
// zero), so that a frozen or unreachable server turns into an error, and a
// request into a 503, within 2 seconds. A Store made by New adds that bound
// only when Options.Timeout is set: a client the application built keeps
// its own settings. The README's "Timeouts" section lists which settings of
// such a client matter.
//
// A Cluster client built by Open also reloads its slot map when commands
// fail for want of a node, at most once per the URL's reload_on_failure
// (DefaultReloadOnFailure, 250 ms, by default; 0 or off turns it off): when
// a master dies, its slots are served by the promoted replica within half
// a second of the promotion (measured: 0.2–0.3 s) rather than after
// go-redis's next periodic reload, up to a minute later.
//
// Replication is asynchronous, so a failover loses the writes the promoted
// replica had not received, silently. Options.WaitReplicas (the URL's
// wait_replicas) makes each write that creates, changes or deletes a
// session wait, with WAIT in the same round trip on the same connection,
// until that many replicas acknowledge it, and fail with an error wrapping
// ErrNotReplicated (a 503 through a core.Manager) otherwise. It is off by
// default; the README's "No silent loss on failover" gives its cost and
// the losses measured with and without it.
//
// Each read is one GET and each write one SET, with the expiry carried by
// the SET itself (PX in milliseconds, or EX when the lifetime is a whole
// number of seconds), so Redis expires sessions on its own and no sweeper
// runs in the application. Values are stored as they are given, which keeps
// the keys readable by other programs sharing the server, such as a
// Quart-Session application using the same key prefix and serialisation.
//
// Store implements core.Backend, core.Toucher (PEXPIRE), core.Lister (SCAN
// on every master), core.Expirer (PTTL) and core.Conditional, which lets
// the Manager save a session only if no one changed it since the request
// read it:
//
//   - GetVersion is one GET; the version is the value read.
//   - SetIf with a nil version (a new session) is SET NX, which fails with
//     core.ErrConflict when the key exists.
//   - SetIf and DeleteIf with a version are one Lua script on the one key
//     (so they run on Cluster too): it compares the stored value with the
//     version, through SHA-1 digests so the old value does not travel
//     again, and writes or deletes only on a match. It fails with
//     core.ErrNotFound when the key is gone (deleted or expired), which the
//     Manager never undoes, and with core.ErrConflict when it holds other
//     bytes.
//
// Because the check compares the stored bytes themselves, with no counter
// kept beside the key, a Python peer that writes the key with a plain SETEX
// needs no change, and its write is detected: a conditional write that
// follows it fails with core.ErrConflict, and the Manager re-reads the
// peer's value instead of overwriting it. A peer that writes back the very
// bytes that were read is not a conflict, as nothing would be lost.
package redis
