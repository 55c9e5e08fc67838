package adaptertest

import "errors"

var errInjected = errors.New("adaptertest: injected backend failure")
