package signing

import "errors"

// Errors returned by the constructors and by the verifying methods. Returned
// errors wrap these with context; compare with errors.Is.
var (
	// ErrBadSignature means the signature does not match the value under any
	// of the secrets: the value was forged, tampered with, or signed with a
	// secret that is no longer configured.
	ErrBadSignature = errors.New("signing: bad signature")

	// ErrExpired means the signature is valid but the embedded timestamp is
	// older than the allowed maximum age, or lies in the future.
	ErrExpired = errors.New("signing: signature expired")

	// ErrMalformed means the input does not have the shape of the format:
	// missing separators, invalid base64 or base62, a bad timestamp, or a
	// payload that does not decompress (or decompresses to more than
	// MaxDecompressedSize bytes).
	ErrMalformed = errors.New("signing: malformed value")

	// ErrNoSecret is returned by the constructors when no secret is given or
	// when one of the secrets is empty.
	ErrNoSecret = errors.New("signing: no secret")
)
