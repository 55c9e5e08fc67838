package filesystem

import "hash/fnv"

// lockStripes is how many lock files a folder has. Every process sharing a
// folder must map a key to the same lock file, so this number and stripeOf
// are part of the folder's format: changing either breaks the exclusion
// between processes running old and new code.
const lockStripes = 32

// stripeOf returns the lock stripe of key (FNV-1a, the same in every
// process and every version).
func stripeOf(key string) int {
	h := fnv.New32a()
	h.Write([]byte(key))
	return int(h.Sum32() % lockStripes)
}
