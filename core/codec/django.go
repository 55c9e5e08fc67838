package codec

import (
	"fmt"
	"time"

	"github.com/cloakroom/cloakroom/core/signing"
)

// permanentKey is Flask's permanent flag, which Django sessions do not have.
const permanentKey = "_permanent"

// Django reads and writes session_data as Django's database sessions
// keep it: plain JSON signed with django.core.signing (compressed when that
// is shorter). Django has no permanent flag: its sessions all last
// SESSION_COOKIE_AGE, so "_permanent" is dropped on the way in and every
// decoded session is permanent.
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
	if _, ok := data[permanentKey]; ok {
		trimmed := make(map[string]any, len(data))
		for k, v := range data {
			if k != permanentKey {
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
func (c *Django) Decode(b []byte) (map[string]any, error) {
	payload, err := c.signer.Loads(string(b), 0, c.clock())
	if err != nil {
		return nil, fmt.Errorf("django session_data: %w", err)
	}
	data, err := JSON{}.Decode(payload)
	if err != nil {
		return nil, err
	}
	data[permanentKey] = true
	return data, nil
}
