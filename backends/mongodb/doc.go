// Package mongodb keeps cloakroom sessions in a MongoDB collection, one
// document per key:
//
//	{_id: <key>, data: <binary value>, data_sha256: <binary, SHA-256 of data>,
//	 expires_at: <date, absent for no expiry>}
//
// Use it when several application instances must share sessions and
// MongoDB is already part of the deployment. The store creates a TTL index on
// expires_at so that MongoDB deletes expired documents itself; because the
// server's TTL monitor runs only about once a minute, every read and every
// conditional write also treats a document whose expires_at has passed as
// absent, so an expired session is never returned or brought back. Servers that speak the MongoDB
// protocol but cannot build TTL indexes (FerretDB 1.x, for one) get a plain
// index instead and a background clean-up run by the store every
// Options.CleanupInterval; Purge runs one on demand.
//
// Besides core.Backend the Store implements core.Toucher, core.Lister,
// core.Expirer (one find of expires_at) and core.Conditional. A
// conditional write is one filtered write: UpdateOne or DeleteOne on {_id,
// data_sha256: <the digest read>, live}, or InsertOne for a create. Every
// write of the store sets data_sha256 in the same command as data, and
// the version GetVersion returns is that digest when it matches the data
// read, so a conditional write sends the new value once and 32 bytes for
// the old one (a 64 KiB SetIf sent 66,432 bytes instead of 131,879 on
// FerretDB 1.24, its lease's commands included). A
// document without the digest, or with one that is not its data's, gets a
// version that is the data itself, compared as {data: <the bytes read>}
// as before digests; the write then stores the digest. Only a write that
// matched nothing costs a second command, which tells core.ErrConflict
// from core.ErrNotFound.
//
// A peer that writes the collection (another application, a script) must
// keep data_sha256 the digest of data: set both in one update, or unset
// data_sha256 (a whole-document replacement without it does), and its
// writes are detected like any other. A peer that $sets data alone leaves
// the digest of the value before. GetVersion checks the digest against the
// data, so such a write made before the read is still detected; one made
// between a GetVersion and the SetIf that follows it, on a document whose
// digest then matched, is overwritten undetected. Older versions of this
// package write that way ($set of data and expires_at), so during a
// rolling upgrade an older process's write can be lost when it falls
// between a newer process's read and save of the same session; an older
// process still detects every write of a newer one, as it compares data.
// Once every process runs this version, that window is gone.
//
// FerretDB 1.x does not apply a filtered write atomically (it reads the
// document, then writes the whole of it back by _id), so on it every write
// of a key (Set, SetIf, Delete, DeleteIf, Touch, and Purge's deletes)
// holds the key's lease, a document of the collection named after the
// store's with "_leases" appended: inserted before the write, deleted
// after it, and exclusive across processes through the unique _id, which
// FerretDB does enforce atomically. Conditional writes are then safe
// between application instances too. Writers of one Store take turns in
// memory before asking for the lease. A lease costs a write two more
// round trips; a process that dies holding one blocks that key's writes
// for up to 5 seconds, after which another process takes the lease over.
// The guarantee rests on time: it fails if a command under a lease reaches
// the server, or is carried out, more than 2 seconds late, or if the
// clocks of application hosts differ by as much (see the README's
// "FerretDB 1.x"). New detects FerretDB with one buildInfo and logs a
// warning; on MongoDB no lease is taken and the lease collection is never
// created.
//
// New wraps a *mongo.Collection the application already has and leaves its
// client connected on Close; Open connects from a URI, pings the server and
// owns the client it creates.
//
// A server that stops answering fails each call within Options.Timeout:
// Open gives its client an operation timeout of 1.5 s (DefaultTimeout) and
// a connect timeout of 5 s unless the URI sets them, and bounds each call
// of the Store as a whole by the same 1.5 s. A client given to New keeps
// its own settings; see the README's "Timeouts".
package mongodb
