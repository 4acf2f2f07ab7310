package main

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/livestorm-gateway/gateway/livestormsim"
)

var update = flag.Bool("update", false, "rewrite testdata/golden/*.json from the current responses, and the README's role table from the schema")

// TestGolden runs every testdata/golden/*.graphql against a simulator seeded at a fixed
// instant and compares the response with the .json beside it. Run
// `go test -run TestGolden -update` after an intended change and review the diff.
func TestGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/golden/*.graphql")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	ev := h.sim.Events(h.orgs[0].ID)[0]
	vars := map[string]map[string]any{
		"event_detail": {"event": ev.ID},
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".graphql")
		t.Run(name, func(t *testing.T) {
			q, err := os.ReadFile(f)
			require.NoError(t, err)
			r := h.query(t, string(q), vars[name])
			require.Empty(t, r.Errors)
			var pretty bytes.Buffer
			require.NoError(t, json.Indent(&pretty, r.Data, "", "  "))
			pretty.WriteByte('\n')
			golden := strings.TrimSuffix(f, ".graphql") + ".json"
			if *update {
				require.NoError(t, os.WriteFile(golden, pretty.Bytes(), 0o644))
			}
			want, err := os.ReadFile(golden)
			require.NoError(t, err, "missing golden file: run go test -run TestGolden -update")
			assert.JSONEq(t, string(want), pretty.String())
		})
	}
}

// TestSchemaIsDescribed: every type, field, argument-free input field and enum value of
// the schema carries a description (GraphiQL's docs panel is the graph's manual).
func TestSchemaIsDescribed(t *testing.T) {
	h := newHarness(t, withSize(livestormsim.SizeTiny))
	r := h.query(t, `{ __schema { types { name kind description
		fields { name description } inputFields { name description } enumValues { name description } } } }`, nil)
	type named struct{ Name, Description string }
	var s struct {
		Schema struct {
			Types []struct {
				Name, Kind, Description         string
				Fields, InputFields, EnumValues []named
			}
		} `json:"__schema"`
	}
	r.decode(t, &s)
	require.NotEmpty(t, s.Schema.Types)
	for _, ty := range s.Schema.Types {
		if strings.HasPrefix(ty.Name, "__") || (ty.Kind == "SCALAR" && ty.Name != "DateTime") {
			continue // introspection and built-in scalars
		}
		assert.NotEmpty(t, ty.Description, "type %s", ty.Name)
		for _, f := range append(append(ty.Fields, ty.InputFields...), ty.EnumValues...) {
			assert.NotEmpty(t, f.Description, "%s.%s", ty.Name, f.Name)
		}
	}
}
