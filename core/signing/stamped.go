package signing

import (
	"fmt"
	"strings"
)

// stamped is the layout itsdangerous' timed serializer and Django's signing
// share: payload, timestamp and signature joined by a separator, the
// signature covering the first two. Only the separator and the timestamp's
// encoding differ.
type stamped struct {
	sep      byte
	tsMaxLen int // the longest encoded timestamp, to size buffers
	appendTS func(dst []byte, ts int64) []byte
	parseTS  func(s string) (int64, error)
}

var (
	itsdangerousLayout = stamped{sep: '.', tsMaxLen: 11, appendTS: appendTimestamp, parseTS: parseTimestamp}
	djangoLayout       = stamped{sep: ':', tsMaxLen: 12, appendTS: appendBase62, parseTS: parseBase62}
)

// dumps encodes data at ts and signs it with k.
func (l stamped) dumps(k *macKey, data []byte, ts int64) string {
	b := make([]byte, 0, b64.EncodedLen(len(data))+1+1+l.tsMaxLen+1+k.encLen)
	b = appendPayload(b, data)
	b = append(b, l.sep)
	b = l.appendTS(b, ts)
	n := len(b)
	b = append(b, l.sep)
	b = k.appendSig(b, b[:n])
	return string(b)
}

// open checks the signature of s against keys and returns its payload part
// (still encoded) and its timestamp.
func (l stamped) open(keys macKeys, s string) (payload string, ts int64, err error) {
	i := strings.LastIndexByte(s, l.sep)
	if i < 0 {
		return "", 0, fmt.Errorf("%w: no separator in signed value", ErrMalformed)
	}
	value, sig := s[:i], s[i+1:]
	j := strings.LastIndexByte(value, l.sep)
	if j < 0 {
		return "", 0, fmt.Errorf("%w: no timestamp in signed value", ErrMalformed)
	}
	if !keys.verify(value, sig) {
		return "", 0, ErrBadSignature
	}
	ts, err = l.parseTS(value[j+1:])
	return value[:j], ts, err
}
