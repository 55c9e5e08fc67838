package codec

import "errors"

// Errors that codecs wrap, for callers to test with errors.Is: both mean
// that the data was refused before it could cost unbounded memory or stack,
// not that it is corrupt in another way.
var (
	// ErrTooLarge is wrapped by the error of every codec's Decode for
	// input whose values would take more than 16 bytes of memory for each
	// byte of it (input under 16 KiB counting as 16 KiB), of Gob.Decode for
	// input longer than MaxGobSize, and of Gob.Encode for output that
	// Gob.Decode would refuse either way.
	ErrTooLarge = errors.New("data too large")
	// ErrTooDeep is wrapped by the errors of every codec for values that
	// nest arrays, objects or lists more than 512 levels deep, when
	// encoding and when decoding.
	ErrTooDeep = errors.New("value nested too deeply")
)
