package core

import (
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// DjangoCodec reads and writes session_data as Django's database sessions
// keep it: plain JSON signed with django.core.signing (compressed when that
// is shorter). Django has no permanent flag: its sessions all last
// SESSION_COOKIE_AGE, so "_permanent" is dropped on the way in and every
// decoded session is permanent.
type DjangoCodec struct {
	signer *signing.DjangoSigner
	clock  func() time.Time
}

// NewDjangoCodec returns a codec for a Django project's SECRET_KEY; further
// secrets are its SECRET_KEY_FALLBACKS. Django's database backend signs
// with salt signing.DjangoSessionStoreSalt.
func NewDjangoCodec(salt string, secrets ...string) (*DjangoCodec, error) {
	s, err := signing.NewDjangoSigner(salt, secrets...)
	if err != nil {
		return nil, err
	}
	return &DjangoCodec{signer: s, clock: time.Now}, nil
}

// Encode implements Codec.
func (c *DjangoCodec) Encode(data map[string]any) ([]byte, error) {
	if _, ok := data[keyPermanent]; ok {
		trimmed := make(map[string]any, len(data))
		for k, v := range data {
			if k != keyPermanent {
				trimmed[k] = v
			}
		}
		data = trimmed
	}
	payload, err := JSON{}.Encode(data)
	if err != nil {
		return nil, err
	}
	return []byte(c.signer.Dumps(payload, c.clock())), nil
}

// Decode implements Codec. Django does not check the signature's age for
// sessions (the row's expire_date does that), so neither does Decode.
func (c *DjangoCodec) Decode(b []byte) (map[string]any, error) {
	payload, err := c.signer.Loads(string(b), 0, c.clock())
	if err != nil {
		return nil, fmt.Errorf("django session_data: %w", err)
	}
	data, err := JSON{}.Decode(payload)
	if err != nil {
		return nil, err
	}
	data[keyPermanent] = true
	return data, nil
}

// NewDjangoManager returns a Manager that shares sessions with a Django
// project using database sessions: pass a backend over Django's
// django_session table (backends/sql with its DjangoTable) and the
// project's SECRET_KEY (then any SECRET_KEY_FALLBACKS). It uses Django's
// cookie "sessionid", 32-character [a-z0-9] keys stored without a prefix,
// and its two-week SESSION_COOKIE_AGE.
func NewDjangoManager(backend Backend, secrets ...string) (*Manager, error) {
	codec, err := NewDjangoCodec(signing.DjangoSessionStoreSalt, secrets...)
	if err != nil {
		return nil, err
	}
	m := NewManager(backend)
	m.Codec = codec
	m.Cookie.Name = "sessionid"
	m.IDs = DjangoID{}
	m.KeyPrefix = ""
	m.Lifetime = 14 * 24 * time.Hour
	return m, nil
}
