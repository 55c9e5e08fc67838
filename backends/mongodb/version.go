package mongodb

import (
	"crypto/sha256"

	"github.com/cloakroom/cloakroom/core"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// Every write of data also stores its SHA-256 in fieldDigest, in the same
// update, so that a conditional write can name the data it expects by 32
// bytes instead of sending the old value again (sessions reach 512 KiB).
// MongoDB cannot hash in a query filter that FerretDB also runs, so the
// digest is a field of the document, computed by the writer.
//
// A version is private to this package (it goes from GetVersion or
// VersionOf to SetIf or DeleteIf) and takes one of two forms, told apart
// by its first byte:
//
//   - versionDigest, then the 32-byte digest: the document held the
//     digest of its data. A conditional write filters on {data_sha256:
//     digest}.
//   - versionData, then the data itself: the document had no digest (an
//     older cloakroom or a peer that does not know the field wrote it), or
//     one that is not its data's (a peer that $set data alone). A
//     conditional write filters on {data: data}, as before digests, and
//     then stores the digest, so the next one is short.
//
// A version of neither form matches no document.
const (
	versionData   byte = 0x00
	versionDigest byte = 0x01
)

// dataFields are the fields every write of value sets: the data and its
// digest, always in one update, so that no write of ours leaves a digest
// that is not its data's.
func dataFields(value []byte) bson.D {
	sum := sha256.Sum256(value)
	fields := make(bson.D, 2, 3) // room for the expiry expiryUpdate adds
	fields[0] = bson.E{Key: fieldData, Value: value}
	fields[1] = bson.E{Key: fieldDigest, Value: sum[:]}
	return fields
}

// readVersion returns the version of a document whose data is data and
// whose data_sha256 is stored (nil when absent), in a buffer that begins
// with a copy of data: one allocation for both, so that the caller may
// modify the value without changing the version. The digest is checked
// against the data, which costs a hash of the value but means that a
// peer that $set data without its digest before this read is still
// detected: its document gets a version of the data form.
func readVersion(data, stored []byte) (value []byte, version core.Version) {
	tag, rest := versionData, data
	if len(stored) == sha256.Size && sha256.Sum256(data) == [sha256.Size]byte(stored) {
		tag, rest = versionDigest, stored
	}
	n := len(data)
	buf := make([]byte, n, n+1+len(rest))
	copy(buf, data)
	return buf[:n:n], append(append(buf[n:], tag), rest...)
}

// digestVersion is the version of a document that holds value and its
// digest, as every write of this store leaves it.
func digestVersion(value []byte) core.Version {
	v := make(core.Version, 1+sha256.Size)
	v[0] = versionDigest
	sum := sha256.Sum256(value)
	copy(v[1:], sum[:])
	return v
}

// versionCondition is the filter element that a document still holds the
// data version names, or false when version is of neither form (nil
// included).
func versionCondition(version core.Version) (bson.E, bool) {
	if len(version) == 0 {
		return bson.E{}, false
	}
	// rest is never nil: bson stores a nil slice as null, not as empty
	// binary data.
	tag, rest := version[0], []byte(version[1:])
	switch {
	case tag == versionDigest && len(rest) == sha256.Size:
		return bson.E{Key: fieldDigest, Value: rest}, true
	case tag == versionData:
		return bson.E{Key: fieldData, Value: rest}, true
	}
	return bson.E{}, false
}
