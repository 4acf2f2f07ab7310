package auth

import (
	"bufio"
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"os"
	"regexp"
	"strings"
)

// apiKey is one line of AUTH_API_KEYS_FILE: the key's name (its caller id), its role
// and the SHA-256 of the key. The key itself is never stored, so the file is not a
// secret worth stealing.
type apiKey struct {
	name string
	role Role
	hash [sha256.Size]byte
}

var keyName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`)

// loadAPIKeys reads an API keys file: one key per line as "name role sha256-hex",
// blank lines and lines starting with # ignored. Any bad line fails, naming its
// number (never echoing the line: it may hold a key pasted by mistake).
func loadAPIKeys(path string) ([]apiKey, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("AUTH_API_KEYS_FILE: %w", err)
	}
	return parseAPIKeys(data)
}

func parseAPIKeys(data []byte) ([]apiKey, error) {
	var keys []apiKey
	names := map[string]int{}
	hashes := map[[sha256.Size]byte]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		bad := func(format string, args ...any) error {
			return fmt.Errorf("AUTH_API_KEYS_FILE: line %d: %s", n, fmt.Sprintf(format, args...))
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			return nil, bad(`want "name role sha256-hex-of-key", got %d fields`, len(f))
		}
		if !keyName.MatchString(f[0]) {
			return nil, bad("the name must be 1-64 letters, digits, '.', '_', '@' or '-'")
		}
		role, ok := ParseRole(f[1])
		if !ok || role == RoleNone {
			return nil, bad("the role must be public, viewer, editor or admin")
		}
		raw, err := hex.DecodeString(f[2])
		if err != nil || len(raw) != sha256.Size {
			return nil, bad("the third field must be the key's SHA-256 in hex (64 characters): printf %%s \"$KEY\" | sha256sum")
		}
		k := apiKey{name: f[0], role: role}
		copy(k.hash[:], raw)
		if prev, dup := names[k.name]; dup {
			return nil, bad("the name %q is already used on line %d", k.name, prev)
		}
		if prev, dup := hashes[k.hash]; dup {
			return nil, bad("the same key is already on line %d", prev)
		}
		names[k.name], hashes[k.hash] = n, n
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("AUTH_API_KEYS_FILE: %w", err)
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("AUTH_API_KEYS_FILE: no keys in the file")
	}
	return keys, nil
}

// lookupAPIKey finds the key whose hash is SHA-256(presented). Every entry is compared
// in constant time and the loop never ends early, so the time taken says nothing about
// which key, or how much of a hash, matched.
func lookupAPIKey(keys []apiKey, presented string) (apiKey, bool) {
	sum := sha256.Sum256([]byte(presented))
	found := -1
	for i := range keys {
		if subtle.ConstantTimeCompare(sum[:], keys[i].hash[:]) == 1 {
			found = i
		}
	}
	if found < 0 {
		return apiKey{}, false
	}
	return keys[found], true
}
