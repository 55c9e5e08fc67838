package codec

import (
	"fmt"
	"math"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// Keys of the core's that Django spells differently: Flask's permanent
// flag, which Django sessions do not have, and a session's own lifetime
// and deadline (core.Session.SetExpiry), which Django keeps together in
// "_session_expiry".
const (
	permanentKey = "_permanent"
	lifetimeKey  = "_lifetime"
	deadlineKey  = "_deadline"
	expiryKey    = "_session_expiry"
)

// Django reads and writes session_data as Django's database sessions
// keep it: plain JSON signed with django.core.signing (compressed when that
// is shorter).
//
// A session's expiry is translated to and from Django's "_session_expiry",
// as request.session.set_expiry writes it: 0 is a session that ends with
// the browser (no "_permanent"); a number of seconds is a lifetime after
// the last change ("_lifetime"); an ISO 8601 datetime is a deadline
// ("_deadline"; one without a time zone is read as UTC). A session without
// it follows the Manager's settings, and is permanent, since Django's
// sessions all last SESSION_COOKIE_AGE then. A lifetime or deadline that
// Django cannot hold beside the browser flag is kept in the core's own key,
// which Django ignores.
type Django struct {
	signer *signing.DjangoSigner
	clock  func() time.Time
}

// NewDjango returns a codec for a Django project's SECRET_KEY; further
// secrets are its SECRET_KEY_FALLBACKS. Django's database backend signs
// with salt signing.DjangoSessionStoreSalt.
func NewDjango(salt string, secrets ...string) (*Django, error) {
	s, err := signing.NewDjangoSigner(salt, secrets...)
	if err != nil {
		return nil, err
	}
	return &Django{signer: s, clock: time.Now}, nil
}

// Encode implements Codec.
func (c *Django) Encode(data map[string]any) ([]byte, error) {
	payload, err := JSON{}.Encode(toDjango(data))
	if err != nil {
		return nil, err
	}
	return []byte(c.signer.Dumps(payload, c.clock())), nil
}

// toDjango returns a copy of data with the core's expiry keys in Django's
// layout.
func toDjango(data map[string]any) map[string]any {
	_, permanent := data[permanentKey]
	_, lifetime := data[lifetimeKey]
	_, deadline := data[deadlineKey]
	out := make(map[string]any, len(data)+1)
	for k, v := range data {
		if k != permanentKey {
			out[k] = v
		}
	}
	switch {
	case !permanent:
		out[expiryKey] = int64(0)
	case lifetime:
		out[expiryKey] = out[lifetimeKey]
		delete(out, lifetimeKey)
	case deadline:
		if at, ok := Int(out[deadlineKey]); ok {
			out[expiryKey] = time.Unix(at, 0).UTC().Format(isoLayout)
			delete(out, deadlineKey)
		}
	}
	return out
}

// isoLayout is Python's datetime.isoformat() of an aware UTC datetime
// without microseconds, which datetime.fromisoformat reads back.
const isoLayout = "2006-01-02T15:04:05+00:00"

// Decode implements Codec. Django does not check the signature's age for
// sessions (the row's expire_date does that), so neither does Decode.
func (c *Django) Decode(b []byte) (map[string]any, error) {
	payload, err := c.signer.Loads(string(b), 0, c.clock())
	if err != nil {
		return nil, fmt.Errorf("django session_data: %w", err)
	}
	data, err := JSON{}.Decode(payload)
	if err != nil {
		return nil, err
	}
	fromDjango(data)
	return data, nil
}

// fromDjango moves Django's "_session_expiry" into the core's keys. A value
// of another form is left as it is, for Django to make sense of.
func fromDjango(data map[string]any) {
	v, ok := data[expiryKey]
	if !ok {
		data[permanentKey] = true
		return
	}
	switch v := v.(type) {
	case int64:
		if v == 0 {
			break // ends with the browser
		}
		data[lifetimeKey] = v
		data[permanentKey] = true
	case float64:
		if v == 0 {
			break
		}
		data[lifetimeKey] = int64(math.Ceil(v))
		data[permanentKey] = true
	case string:
		at, err := parseISO(v)
		if err != nil {
			data[permanentKey] = true
			return
		}
		data[deadlineKey] = at.Unix()
		data[permanentKey] = true
	default:
		data[permanentKey] = true
		return
	}
	delete(data, expiryKey)
}

// parseISO reads what Python's datetime.isoformat() writes: with or
// without fractional seconds, with an offset or, naive, taken as UTC.
func parseISO(s string) (time.Time, error) {
	if t, err := time.Parse("2006-01-02T15:04:05.999999999Z07:00", s); err == nil {
		return t, nil
	}
	return time.Parse("2006-01-02T15:04:05.999999999", s)
}
