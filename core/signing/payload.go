package signing

import (
	"bytes"
	"compress/zlib"
	"fmt"
	"io"
	"sync"
)

// MaxDecompressedSize is the largest payload, in bytes, that the Loads
// methods inflate from a compressed value. Larger payloads are rejected with
// ErrMalformed, so that a small value cannot expand into a huge allocation.
const MaxDecompressedSize = 1 << 20

// zlibReaders pools zlib readers (which implement zlib.Resetter); nil until
// the first use, when one is created with zlib.NewReader.
var zlibReaders sync.Pool

var zlibWriters = sync.Pool{
	New: func() any { return zlib.NewWriter(io.Discard) },
}

// appendPayload appends the payload part shared by itsdangerous and Django:
// base64url(data), or "." + base64url(zlib(data)) when compressing saves at
// least two bytes, which is the rule both libraries use.
func appendPayload(dst, data []byte) []byte {
	var buf bytes.Buffer
	w := zlibWriters.Get().(*zlib.Writer)
	w.Reset(&buf)
	_, err := w.Write(data) // writing to a bytes.Buffer does not fail
	if err == nil {
		err = w.Close()
	}
	w.Reset(io.Discard)
	zlibWriters.Put(w)
	if err == nil && buf.Len() < len(data)-1 {
		dst = append(dst, '.')
		return b64.AppendEncode(dst, buf.Bytes())
	}
	return b64.AppendEncode(dst, data)
}

// decodePayload reverses appendPayload.
func decodePayload(p string) ([]byte, error) {
	compressed := len(p) > 0 && p[0] == '.'
	if compressed {
		p = p[1:]
	}
	raw, err := b64.AppendDecode(nil, []byte(p))
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if !compressed {
		if raw == nil {
			raw = []byte{}
		}
		return raw, nil
	}
	out, err := inflate(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: payload: %v", ErrMalformed, err)
	}
	if len(out) > MaxDecompressedSize {
		return nil, fmt.Errorf("%w: payload inflates to more than %d bytes", ErrMalformed, MaxDecompressedSize)
	}
	return out, nil
}

// inflate decompresses a zlib stream, reading at most one byte more than
// MaxDecompressedSize.
func inflate(raw []byte) ([]byte, error) {
	src := bytes.NewReader(raw)
	var zr io.ReadCloser
	if r, ok := zlibReaders.Get().(io.ReadCloser); ok {
		if err := r.(zlib.Resetter).Reset(src, nil); err != nil {
			zlibReaders.Put(r)
			return nil, err
		}
		zr = r
	} else {
		r, err := zlib.NewReader(src)
		if err != nil {
			return nil, err
		}
		zr = r
	}
	out, err := io.ReadAll(io.LimitReader(zr, MaxDecompressedSize+1))
	if err == nil {
		err = zr.Close()
	}
	// Drop the reference to raw before pooling the reader.
	if zr.(zlib.Resetter).Reset(bytes.NewReader(emptyZlib), nil) == nil {
		zlibReaders.Put(zr)
	}
	return out, err
}

// emptyZlib is a valid zlib stream of no data, used to reset pooled readers.
var emptyZlib = []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01}
