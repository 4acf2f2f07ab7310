package livestormsim

import (
	"encoding/hex"
	"math/rand/v2"
	"sync"
)

// idSource produces UUIDs and random hex from a seeded generator so the same
// seed always yields the same ids. It is safe for concurrent use.
type idSource struct {
	mu  sync.Mutex
	rng *rand.Rand
}

func newIDSource(seed int64, stream uint64) *idSource {
	return &idSource{rng: rand.New(rand.NewPCG(uint64(seed), stream))}
}

// uuid returns a version-4 formatted UUID string.
func (s *idSource) uuid() string {
	s.mu.Lock()
	a, b := s.rng.Uint64(), s.rng.Uint64()
	s.mu.Unlock()
	return formatUUID(a, b)
}

// hex returns n random bytes as 2n lowercase hex characters.
func (s *idSource) hex(n int) string {
	buf := make([]byte, n)
	s.mu.Lock()
	for i := range buf {
		buf[i] = byte(s.rng.Uint32())
	}
	s.mu.Unlock()
	return hex.EncodeToString(buf)
}

// formatUUID renders two random words as a v4 (random, RFC 4122 variant) UUID.
func formatUUID(a, b uint64) string {
	var u [16]byte
	for i := 0; i < 8; i++ {
		u[i] = byte(a >> (56 - 8*i))
		u[8+i] = byte(b >> (56 - 8*i))
	}
	u[6] = (u[6] & 0x0f) | 0x40
	u[8] = (u[8] & 0x3f) | 0x80
	var out [36]byte
	hex.Encode(out[0:8], u[0:4])
	out[8] = '-'
	hex.Encode(out[9:13], u[4:6])
	out[13] = '-'
	hex.Encode(out[14:18], u[6:8])
	out[18] = '-'
	hex.Encode(out[19:23], u[8:10])
	out[23] = '-'
	hex.Encode(out[24:36], u[10:16])
	return string(out[:])
}

// randUUID draws a UUID from rng; used by the single-threaded seeder, which
// owns its generator and needs no locking.
func randUUID(rng *rand.Rand) string { return formatUUID(rng.Uint64(), rng.Uint64()) }

// randHex draws n bytes from rng as hex (single-threaded seeder use).
func randHex(rng *rand.Rand, n int) string {
	buf := make([]byte, n)
	for i := range buf {
		buf[i] = byte(rng.Uint32())
	}
	return hex.EncodeToString(buf)
}
