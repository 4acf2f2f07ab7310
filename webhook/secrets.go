package webhook

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// LoadSecrets reads per-workspace webhook secrets (LIVESTORM_WEBHOOK_SECRETS): one
// workspace per line as "organization_id secret", blank lines and lines starting with #
// ignored. A bad line fails, naming its number but never its content.
func LoadSecrets(path string) (map[string]string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("LIVESTORM_WEBHOOK_SECRETS: %w", err)
	}
	return ParseSecrets(data)
}

// ParseSecrets parses the content of a LIVESTORM_WEBHOOK_SECRETS file.
func ParseSecrets(data []byte) (map[string]string, error) {
	out := map[string]string{}
	lines := map[string]int{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 2 {
			return nil, fmt.Errorf("LIVESTORM_WEBHOOK_SECRETS: line %d: want \"organization_id secret\", got %d fields", n, len(f))
		}
		if prev, dup := lines[f[0]]; dup {
			return nil, fmt.Errorf("LIVESTORM_WEBHOOK_SECRETS: line %d: organization %q is already on line %d", n, f[0], prev)
		}
		lines[f[0]] = n
		out[f[0]] = f[1]
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("LIVESTORM_WEBHOOK_SECRETS: %w", err)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("LIVESTORM_WEBHOOK_SECRETS: no workspaces in the file")
	}
	return out, nil
}
