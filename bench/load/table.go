package load

import (
	"fmt"
	"io"
	"strings"
	"time"
)

// Table is a Markdown table the bench command prints (and the README quotes). Columns
// are named once; each row sets the cells it has by column name, so a new scenario (for
// example subscription fan-out, with its own columns) adds rows or a table of its own
// without touching the others.
type Table struct {
	Title   string
	Columns []string
	rows    []map[string]string
	notes   []string
}

// Add appends a row; cells maps column names to values (missing ones print "–").
func (t *Table) Add(cells map[string]string) { t.rows = append(t.rows, cells) }

// Note appends a line printed under the table.
func (t *Table) Note(format string, args ...any) {
	t.notes = append(t.notes, fmt.Sprintf(format, args...))
}

// Print writes the table as Markdown.
func (t *Table) Print(w io.Writer) {
	if t.Title != "" {
		fmt.Fprintf(w, "\n%s\n\n", t.Title)
	}
	fmt.Fprintf(w, "| %s |\n", strings.Join(t.Columns, " | "))
	seps := make([]string, len(t.Columns))
	for i := range seps {
		seps[i] = "---"
	}
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range t.rows {
		cells := make([]string, len(t.Columns))
		for i, c := range t.Columns {
			if v, ok := r[c]; ok && v != "" {
				cells[i] = v
			} else {
				cells[i] = "–"
			}
		}
		fmt.Fprintf(w, "| %s |\n", strings.Join(cells, " | "))
	}
	for _, n := range t.notes {
		fmt.Fprintf(w, "\n%s\n", n)
	}
}

// Ms formats a duration in milliseconds with two decimals.
func Ms(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond)) }

// Us formats a duration in microseconds.
func Us(d time.Duration) string { return fmt.Sprintf("%.0f µs", float64(d)/float64(time.Microsecond)) }

// Rate formats requests per second.
func Rate(rps float64) string { return fmt.Sprintf("%.0f", rps) }
