package mongodb

import (
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
)

// Field names of a session document.
const (
	fieldID      = "_id"
	fieldData    = "data"
	fieldDigest  = "data_sha256" // SHA-256 of data, set with it (version.go)
	fieldExpires = "expires_at"
)

// live extends filter so that it matches only documents that have not
// expired at now: expires_at later than now, or no expires_at at all. The
// server's TTL monitor runs about once a minute, so documents past their
// expiry may still be stored.
func live(filter bson.D, now time.Time) bson.D {
	return append(filter, bson.E{Key: "$or", Value: liveAlternatives(now)})
}

// liveAlternatives are the two ways a document is live at now: an
// expires_at later than now, or none at all.
func liveAlternatives(now time.Time) bson.A {
	return bson.A{
		bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$gt", Value: now}}}},
		bson.D{{Key: fieldExpires, Value: bson.D{{Key: "$exists", Value: false}}}},
	}
}

// holding matches the document of key if it is live at now and still holds
// the data of a version, whose condition versionCondition made: the filter
// of SetIf and DeleteIf.
func holding(key string, version bson.E, now time.Time) bson.D {
	return live(bson.D{{Key: fieldID, Value: key}, version}, now)
}

// expired extends filter so that it matches only documents that live
// would not match at now: those with an expires_at that is not a date
// later than now. It is live's exact complement, so that a document is
// always one or the other.
func expired(filter bson.D, now time.Time) bson.D {
	return append(filter, bson.E{Key: "$nor", Value: liveAlternatives(now)})
}

// isLive is the live filter applied to a fetched document: no expires_at,
// or a date later than now. An expires_at of another type never matches
// the filter's $gt on a date, so it counts as expired here too.
func isLive(doc bson.Raw, now time.Time) bool {
	v, err := doc.LookupErr(fieldExpires)
	if err != nil {
		return true
	}
	exp, ok := v.TimeOK()
	return ok && exp.After(now)
}

// expiryUpdate is the part of an update document that sets a lifetime of
// ttl from now: a date, or no field at all for ttl <= 0. set holds the
// other fields to $set.
func expiryUpdate(set bson.D, now time.Time, ttl time.Duration) bson.D {
	if ttl <= 0 {
		update := bson.D{{Key: "$unset", Value: bson.D{{Key: fieldExpires, Value: ""}}}}
		if len(set) > 0 {
			update = append(update, bson.E{Key: "$set", Value: set})
		}
		return update
	}
	set = append(set, bson.E{Key: fieldExpires, Value: now.Add(ttl)})
	return bson.D{{Key: "$set", Value: set}}
}
