package cache

import (
	"testing"

	"go.uber.org/goleak"
)

// Shared fetches run on goroutines of their own: none may outlive its callers.
func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }
