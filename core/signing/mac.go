package signing

import (
	"crypto/hmac"
	"encoding/base64"
	"fmt"
	"hash"
	"sync"
)

// b64 is the URL-safe base64 alphabet without padding that both itsdangerous
// and Django use for every part of their formats.
var b64 = base64.RawURLEncoding

// maxScratch bounds the scratch buffer a pooled macState keeps between uses.
const maxScratch = 64 << 10

// macKey is one derived HMAC key. It pools keyed HMAC states so that
// signing and verifying do one HMAC computation without re-keying and,
// in the steady state, without allocating.
type macKey struct {
	pool   sync.Pool // of *macState
	encLen int       // length of the base64 encoded MAC
}

type macState struct {
	h   hash.Hash
	buf []byte
}

func newMACKey(newHash func() hash.Hash, key []byte) *macKey {
	key = append([]byte(nil), key...)
	k := &macKey{}
	first := &macState{h: hmac.New(newHash, key)}
	k.encLen = b64.EncodedLen(first.h.Size())
	k.pool.New = func() any { return &macState{h: hmac.New(newHash, key)} }
	k.pool.Put(first)
	return k
}

func (k *macKey) get() *macState { return k.pool.Get().(*macState) }

func (k *macKey) put(st *macState) {
	if cap(st.buf) > maxScratch {
		st.buf = nil
	}
	k.pool.Put(st)
}

// appendSig appends base64url(HMAC(key, msg)) to dst. msg may alias dst.
func (k *macKey) appendSig(dst, msg []byte) []byte {
	st := k.get()
	st.h.Reset()
	st.h.Write(msg)
	st.buf = st.h.Sum(st.buf[:0])
	dst = b64.AppendEncode(dst, st.buf)
	k.put(st)
	return dst
}

// verify reports whether sig is the canonical base64url encoding of
// HMAC(key, msg), comparing in constant time.
func (k *macKey) verify(msg, sig string) bool {
	if len(sig) != k.encLen {
		return false
	}
	st := k.get()
	b := append(st.buf[:0], msg...)
	st.h.Reset()
	st.h.Write(b)
	b = st.h.Sum(b[:0])
	n := len(b)
	b = b64.AppendEncode(b, b[:n])
	b = append(b, sig...)
	ok := hmac.Equal(b[n:n+k.encLen], b[n+k.encLen:])
	st.buf = b
	k.put(st)
	return ok
}

// macKeys is a list of derived keys, the first of which signs.
type macKeys []*macKey

// verify reports whether sig matches msg under any of the keys.
func (ks macKeys) verify(msg, sig string) bool {
	for _, k := range ks {
		if k.verify(msg, sig) {
			return true
		}
	}
	return false
}

// deriveKeys checks the secrets and derives one key per secret.
func deriveKeys(newHash func() hash.Hash, secrets []string, derive func(secret string) []byte) (macKeys, error) {
	if len(secrets) == 0 {
		return nil, fmt.Errorf("%w given", ErrNoSecret)
	}
	keys := make(macKeys, len(secrets))
	for i, s := range secrets {
		if s == "" {
			return nil, fmt.Errorf("%w: secret %d is empty", ErrNoSecret, i)
		}
		keys[i] = newMACKey(newHash, derive(s))
	}
	return keys, nil
}

// hmacDerive returns itsdangerous' "hmac" key derivation: HMAC(secret, salt)
// with the signer's own digest.
func hmacDerive(newHash func() hash.Hash, salt string) func(string) []byte {
	return func(secret string) []byte {
		m := hmac.New(newHash, []byte(secret))
		m.Write([]byte(salt))
		return m.Sum(nil)
	}
}
