package load

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseCounts reads a comma-separated list of counts such as the bench command's
// -fanout "1000,5000,10000". "", "0" and "none" mean no count at all (the scenario is
// skipped). Each count must be in [1, most] and the list at most 10 long, so a typo can
// never ask for an unbounded run.
func ParseCounts(s string, most int) ([]int, error) {
	s = strings.TrimSpace(s)
	if s == "" || s == "0" || strings.EqualFold(s, "none") {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	if len(parts) > 10 {
		return nil, fmt.Errorf("at most 10 counts, got %d", len(parts))
	}
	counts := make([]int, 0, len(parts))
	for _, p := range parts {
		n, err := strconv.Atoi(strings.TrimSpace(strings.ReplaceAll(p, "_", "")))
		if err != nil || n < 1 || n > most {
			return nil, fmt.Errorf("%q: each count must be an integer in [1, %d]", strings.TrimSpace(p), most)
		}
		counts = append(counts, n)
	}
	return counts, nil
}
